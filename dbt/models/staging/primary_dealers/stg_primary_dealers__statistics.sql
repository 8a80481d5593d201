with

source as (
    select * from {{ source('primary_dealers', 'dealer_statistics') }}
    -- The week ended Wednesday W is published on Thursday W + 8.
    {{ published_by('asofdate + 8', 'primary_dealers_published_through') }}
),

renamed as (
    select
        asofdate as as_of_date,
        keyid,
        series_break,
        cast(value as double) as value_usd_mn
    from source
)

select * from renamed
