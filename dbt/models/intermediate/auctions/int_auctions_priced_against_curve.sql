-- Held auctions with their security class, tenor, remaining maturity, and the par curve of the
-- prior business day (the latest close before the auction date) interpolated at that maturity.
with

auctions as (
    select * from {{ ref('stg_treasury_auctions__auctions') }}
    where comp_accepted_usd is not null
),

curve as (
    select
        curve.curve_date,
        curve.yield_pct,
        tenors.tenor_years
    from {{ ref('stg_par_yield_curve__par_yields_long') }} as curve
    inner join {{ ref('tenor_map') }} as tenors on curve.tenor_column = tenors.tenor_column
),

curve_dates as (
    select distinct curve_date from curve
),

classified as (
    select
        *,
        case
            when is_cash_management_bill then 'CMB'
            when is_tips then 'TIPS'
            when is_frn then 'FRN'
            else security_type
        end as security_class,
        -- Bills are grouped by the term offered (a 13-week reopening of a 26-week bill is a 13-week
        -- auction); coupons by the original term, so reopenings sit with their new issues.
        case when security_type = 'Bill' then security_term else original_security_term end as term_group,
        {{ term_years('case when security_type = \'Bill\' then security_term else original_security_term end') }} as tenor_years,
        datediff('day', issue_date, maturity_date) / 365.25 as remaining_maturity_years
    from auctions
),

prior_close as (
    select
        classified.cusip,
        classified.auction_date,
        max(curve_dates.curve_date) as prior_curve_date
    from classified
    inner join curve_dates
        on
            classified.auction_date > curve_dates.curve_date
            and curve_dates.curve_date >= classified.auction_date - interval 14 day
    group by classified.cusip, classified.auction_date
),

bracketed as (
    select
        classified.cusip,
        classified.auction_date,
        prior_close.prior_curve_date,
        max(curve.tenor_years) filter (where curve.tenor_years <= classified.remaining_maturity_years) as lower_tenor_years,
        max_by(curve.yield_pct, curve.tenor_years) filter (where curve.tenor_years <= classified.remaining_maturity_years) as lower_yield_pct,
        min(curve.tenor_years) filter (where curve.tenor_years >= classified.remaining_maturity_years) as upper_tenor_years,
        min_by(curve.yield_pct, curve.tenor_years) filter (where curve.tenor_years >= classified.remaining_maturity_years) as upper_yield_pct
    from classified
    inner join prior_close
        on classified.cusip = prior_close.cusip and classified.auction_date = prior_close.auction_date
    inner join curve on prior_close.prior_curve_date = curve.curve_date
    group by classified.cusip, classified.auction_date, prior_close.prior_curve_date
),

final as (
    select
        classified.*,
        bracketed.prior_curve_date,
        case
            when bracketed.lower_tenor_years is null then bracketed.upper_yield_pct
            when bracketed.upper_tenor_years is null then bracketed.lower_yield_pct
            when bracketed.upper_tenor_years = bracketed.lower_tenor_years then bracketed.lower_yield_pct
            else
                bracketed.lower_yield_pct
                + (bracketed.upper_yield_pct - bracketed.lower_yield_pct)
                * (classified.remaining_maturity_years - bracketed.lower_tenor_years)
                / (bracketed.upper_tenor_years - bracketed.lower_tenor_years)
        end as prior_close_par_yield_pct
    from classified
    left join bracketed
        on classified.cusip = bracketed.cusip and classified.auction_date = bracketed.auction_date
)

select * from final
