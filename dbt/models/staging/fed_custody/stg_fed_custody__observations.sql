with

source as (
    select * from {{ source('fed_custody', 'observations') }}
    {{ published_by('observation_date', 'fed_custody_published_through') }}
),

renamed as (
    select
        series_id,
        observation_date,
        -- Exact: FRED publishes decimals (whole $ millions, rates to 2 places, averages to 20).
        cast(value as decimal(38, 12)) as value
    from source
)

select * from renamed
