-- TIC identity: the country lines plus "All Other" reproduce the published Grand Total in every published month,
-- within rounding (each line is rounded to $0.1bn; the real history file stays within $0.5bn).
with

lines as (
    select
        month_end,
        sum(holdings_usd_bn) filter (where row_type in ('country', 'all_other')) as countries_and_other_usd_bn,
        max(holdings_usd_bn) filter (where row_type = 'grand_total') as grand_total_usd_bn,
        count(*) filter (where row_type = 'country') as country_lines
    from {{ ref('stg_tic_holdings__holdings') }}
    where not is_comparison_series
    group by month_end
)

select *
from lines
where abs(countries_and_other_usd_bn - grand_total_usd_bn) > greatest(0.5, 0.05 * country_lines)
