with

source as (
    select * from {{ source('treasury_auctions', 'auctions_query') }}
    {{ published_by('auction_date', 'treasury_auctions_published_through') }}
),

renamed as (
    select
        cusip,
        auction_date,
        issue_date,
        maturity_date,
        announcemt_date as announcement_date,
        record_date,
        security_type,
        security_term,
        original_security_term,
        reopening as is_reopening,
        cash_management_bill_cmb as is_cash_management_bill,
        inflation_index_security as is_tips,
        floating_rate as is_frn,
        cast(offering_amt as double) as offering_amount_usd,
        cast(comp_tendered as double) as comp_tendered_usd,
        cast(comp_accepted as double) as comp_accepted_usd,
        cast(noncomp_accepted as double) as noncomp_accepted_usd,
        cast(fima_noncomp_accepted as double) as fima_noncomp_accepted_usd,
        cast(soma_accepted as double) as soma_accepted_usd,
        cast(total_tendered as double) as total_tendered_usd,
        cast(total_accepted as double) as total_accepted_usd,
        cast(primary_dealer_accepted as double) as primary_dealer_accepted_usd,
        cast(direct_bidder_accepted as double) as direct_bidder_accepted_usd,
        cast(indirect_bidder_accepted as double) as indirect_bidder_accepted_usd,
        cast(bid_to_cover_ratio as double) as bid_to_cover_published,
        cast(high_yield as double) as high_yield_pct,
        cast(avg_med_yield as double) as median_yield_pct,
        cast(low_yield as double) as low_yield_pct,
        cast(high_discnt_rate as double) as high_discount_rate_pct,
        cast(high_investment_rate as double) as high_investment_rate_pct,
        cast(high_discnt_margin as double) as high_discount_margin_pct,
        cast(int_rate as double) as coupon_rate_pct,
        cast(price_per100 as double) as price_per_100
    from source
)

select * from renamed
