with

holdings as (
    select *
    from {{ ref('stg_tic_holdings__holdings') }}
    where not is_comparison_series
),

indexed as (
    select
        *,
        year(month_end) * 12 + month(month_end) as month_index
    from holdings
),

changes as (
    select
        indexed.*,
        -- Each change compares with exactly 1, 3 or 12 months earlier: NULL where that month is missing.
        indexed.holdings_usd_bn - max(indexed.holdings_usd_bn) over (partition by indexed.country order by indexed.month_index range between 1 preceding and 1 preceding) as change_1m_usd_bn,
        indexed.holdings_usd_bn - max(indexed.holdings_usd_bn) over (partition by indexed.country order by indexed.month_index range between 3 preceding and 3 preceding) as change_3m_usd_bn,
        indexed.holdings_usd_bn - max(indexed.holdings_usd_bn) over (partition by indexed.country order by indexed.month_index range between 12 preceding and 12 preceding) as change_12m_usd_bn
    from indexed
),

with_total as (
    select
        changes.*,
        100.0 * changes.holdings_usd_bn / nullif(totals.holdings_usd_bn, 0) as share_of_foreign_total_pct
    from changes
    left join changes as totals
        on changes.month_end = totals.month_end and totals.row_type = 'grand_total'
),

final as (
    select
        with_total.month_end,
        with_total.country,
        with_total.row_type,
        -- Lines that are not in the country map (totals, memo lines) keep their published name.
        coalesce(countries.country_display_name, with_total.country) as country_display_name,
        countries.iso_alpha3,
        coalesce(countries.is_custody_centre, false) as is_custody_centre,
        coalesce(countries.is_aggregate, with_total.row_type <> 'country') as is_aggregate,
        with_total.holdings_usd_bn,
        with_total.value_flag,
        with_total.change_1m_usd_bn,
        with_total.change_3m_usd_bn,
        with_total.change_12m_usd_bn,
        with_total.share_of_foreign_total_pct,
        with_total.month_index,
        with_total.source_file,
        with_total.file_release_date,
        -- TIC publishes month m around the 18th of month m + 2: the date the value became public.
        make_date(year(with_total.month_end + interval 2 month), month(with_total.month_end + interval 2 month), 18) as expected_release_date
    from with_total
    left join {{ ref('tic_country_map') }} as countries on with_total.country = countries.country
),

scored as (
    select
        final.* exclude (final.month_index),
        median(final.change_1m_usd_bn) over prior_24 as prior_24_median_change_usd_bn,
        mad(final.change_1m_usd_bn) over prior_24 as prior_24_mad_change_usd_bn,
        case
            when count(final.change_1m_usd_bn) over prior_24 >= 12 and mad(final.change_1m_usd_bn) over prior_24 > 0
                then 0.6745 * (final.change_1m_usd_bn - median(final.change_1m_usd_bn) over prior_24) / mad(final.change_1m_usd_bn) over prior_24
        end as change_1m_robust_z
    from final
    window prior_24 as (partition by country order by month_index rows between 24 preceding and 1 preceding)
)

{{ select_published("scored") }}
