with

source as (
    select * from {{ source('fed_soma', 'treasury_holdings') }}
    {{ published_by('as_of_date', 'soma_released_through') }}
),

renamed as (
    select
        as_of_date,
        cusip,
        security_type,
        maturity_date,
        cast(coupon as decimal(38, 9)) as coupon_pct,
        cast(spread as decimal(38, 9)) as spread_pct,
        cast(par_value as decimal(38, 2)) as par_value_usd,
        cast(inflation_compensation as decimal(38, 2)) as inflation_compensation_usd,
        cast(percent_outstanding as decimal(38, 9)) as percent_outstanding,
        cast(change_from_prior_week as decimal(38, 2)) as change_from_prior_week_usd,
        cast(change_from_prior_year as decimal(38, 2)) as change_from_prior_year_usd
    from source
)

select * from renamed
