-- The same curve in long form: one row per date and published tenor (unpublished tenors have no row).
with

source as (
    select * from {{ source('par_yield_curve', 'daily_par_yields') }}
    {{ published_by('curve_date', 'par_yield_curve_published_through') }}
),

unpivoted as (
    unpivot source
    on columns('^bc_')
    into name tenor_column value yield_value
),

renamed as (
    select
        curve_date,
        tenor_column,
        cast(yield_value as double) as yield_pct
    from unpivoted
    where yield_value is not null
)

select * from renamed
