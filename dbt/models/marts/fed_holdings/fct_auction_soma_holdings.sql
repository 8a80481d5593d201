with

auctions as (
    select
        cusip,
        auction_date,
        issue_date,
        maturity_date,
        security_type,
        security_term,
        total_accepted_usd,
        soma_accepted_usd
    from {{ ref('fct_auctions') }}
    where total_accepted_usd is not null
),

holdings as (
    select * from {{ ref('stg_fed_soma__treasury_holdings') }}
),

coverage as (
    select
        min(as_of_date) as first_as_of_date,
        max(as_of_date) as latest_as_of_date
    from holdings
),

-- The amount of the security issued once each auction settles: every auction of it so far (reopenings add to it),
-- counted over the whole auction history before keeping the auctions the SOMA weeks cover. A security is a CUSIP
-- and a maturity: bill CUSIPs are used again once an earlier bill with that CUSIP has matured.
issued_so_far as (
    select
        *,
        sum(total_accepted_usd) over (
            partition by cusip, maturity_date
            order by auction_date rows between unbounded preceding and current row
        ) as cusip_issued_usd,
        sum(total_accepted_usd) over (partition by cusip, maturity_date) as cusip_issued_total_usd
    from auctions
),

issued as (
    select issued_so_far.*
    from issued_so_far
    cross join coverage
    where issued_so_far.issue_date >= coverage.first_as_of_date
),

weeks as (
    select distinct as_of_date from holdings
),

-- The first SOMA week on or after the issue date (NULL for an auction that settles after the latest week loaded).
first_week as (
    select
        issued.cusip,
        issued.auction_date,
        min(weeks.as_of_date) as first_soma_as_of_date
    from issued
    inner join weeks on issued.issue_date <= weeks.as_of_date
    group by issued.cusip, issued.auction_date
),

final as (
    select
        issued.cusip,
        issued.auction_date,
        issued.issue_date,
        issued.maturity_date,
        issued.security_type,
        issued.security_term,
        issued.total_accepted_usd,
        issued.soma_accepted_usd,
        issued.cusip_issued_usd,
        first_week.first_soma_as_of_date,
        -- Not among the holdings that week: the Fed held none of it (0), once the week is loaded.
        case when first_week.first_soma_as_of_date is not null then coalesce(at_first.par_value_usd, 0) end
            as soma_par_first_week_usd,
        case
            when first_week.first_soma_as_of_date is not null
                then 100.0 * coalesce(at_first.par_value_usd, 0) / nullif(issued.cusip_issued_usd, 0)
        end as fed_share_first_week_pct,
        100.0 * at_first.percent_outstanding as published_share_first_week_pct,
        coverage.latest_as_of_date as latest_soma_as_of_date,
        case
            when issued.maturity_date > coverage.latest_as_of_date then coalesce(latest.par_value_usd, 0)
        end as soma_par_latest_usd,
        case
            when issued.maturity_date > coverage.latest_as_of_date
                then 100.0 * coalesce(latest.par_value_usd, 0) / nullif(issued.cusip_issued_total_usd, 0)
        end as fed_share_latest_pct
    from issued
    cross join coverage
    left join first_week
        on issued.cusip = first_week.cusip and issued.auction_date = first_week.auction_date
    left join holdings as at_first
        on first_week.cusip = at_first.cusip and first_week.first_soma_as_of_date = at_first.as_of_date
    left join holdings as latest
        on issued.cusip = latest.cusip and coverage.latest_as_of_date = latest.as_of_date
)

{{ select_published('final') }}
