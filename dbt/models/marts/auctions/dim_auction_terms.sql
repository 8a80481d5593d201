-- The auction terms a BI user filters on, one row per security class and term, from the auctions themselves.
with

auctions as (
    select * from {{ ref('fct_auctions') }}
),

terms as (
    select
        security_class,
        term_group,
        any_value(security_type) as security_type,
        {{ term_years('term_group') }} as term_years,
        count(*) as auctions,
        min(auction_date) as first_auction_date,
        max(auction_date) as last_auction_date
    from auctions
    group by security_class, term_group
)

select
    security_class,
    term_group,
    security_class || ' ' || term_group as term_display_name,
    security_type,
    term_years,
    -- The nominal coupon terms the stress board's auction component and the benchmark curve points use.
    security_class in ('Note', 'Bond') as is_nominal_coupon,
    row_number() over (order by security_type = 'Bill' desc, term_years, security_class asc) as sort_order,
    auctions,
    first_auction_date,
    last_auction_date
from terms
