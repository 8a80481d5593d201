with

source as (
    select * from {{ source('treasury_debt', 'debt_to_the_penny') }}
    -- Day D is published on the next business day.
    {{ published_by('record_date + 1', 'treasury_debt_published_through') }}
),

renamed as (
    select
        record_date,
        cast(debt_held_public_amt as decimal(18, 2)) as debt_held_by_public_usd,
        cast(intragov_hold_amt as decimal(18, 2)) as intragovernmental_holdings_usd,
        cast(tot_pub_debt_out_amt as decimal(18, 2)) as total_public_debt_outstanding_usd,
        record_fiscal_year as fiscal_year
    from source
)

select * from renamed
