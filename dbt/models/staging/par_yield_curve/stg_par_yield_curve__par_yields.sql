with

source as (
    select * from {{ source('par_yield_curve', 'daily_par_yields') }}
    {{ published_by('curve_date', 'par_yield_curve_published_through') }}
),

renamed as (
    select
        curve_date,
        cast(bc_1month as double) as yield_1m_pct,
        cast(bc_1_5month as double) as yield_6w_pct,
        cast(bc_2month as double) as yield_2m_pct,
        cast(bc_3month as double) as yield_3m_pct,
        cast(bc_4month as double) as yield_4m_pct,
        cast(bc_6month as double) as yield_6m_pct,
        cast(bc_1year as double) as yield_1y_pct,
        cast(bc_2year as double) as yield_2y_pct,
        cast(bc_3year as double) as yield_3y_pct,
        cast(bc_5year as double) as yield_5y_pct,
        cast(bc_7year as double) as yield_7y_pct,
        cast(bc_10year as double) as yield_10y_pct,
        cast(bc_20year as double) as yield_20y_pct,
        cast(bc_30year as double) as yield_30y_pct
    from source
)

select * from renamed
