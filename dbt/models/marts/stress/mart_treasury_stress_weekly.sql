-- One row per week ending Friday. Each component is a z-score computed only from earlier weeks (or the
-- earlier auctions of the same term), signed so that positive = stress; its inputs stand beside it.
with

curve as (
    select * from {{ ref('mart_yield_curve_daily') }}
),

weekly_curve as (
    select
        cast(date_trunc('week', curve_date) + interval 4 day as date) as week_ending,
        max_by(yield_10y_pct, curve_date) as yield_10y_close_pct,
        max_by(yield_30y_pct, curve_date) as yield_30y_close_pct,
        bool_or(is_10y_5pct_crossing) as is_10y_5pct_crossing_in_week,
        bool_or(is_30y_5pct_crossing) as is_30y_5pct_crossing_in_week
    from curve
    group by 1
),

yield_moves as (
    select
        *,
        100.0 * (yield_10y_close_pct - lag(yield_10y_close_pct) over by_week) as yield_10y_change_1w_bp,
        100.0 * (yield_30y_close_pct - lag(yield_30y_close_pct) over by_week) as yield_30y_change_1w_bp
    from weekly_curve
    window by_week as (order by week_ending)
),

yield_scored as (
    select
        *,
        greatest(abs(yield_10y_change_1w_bp), coalesce(abs(yield_30y_change_1w_bp), 0)) as largest_abs_change_1w_bp
    from yield_moves
),

yield_component as (
    select
        *,
        {{ z_against_prior('largest_abs_change_1w_bp', 'prior_156', 52) }} as yield_moves_z
    from yield_scored
    window prior_156 as (order by week_ending rows between 156 preceding and 1 preceding)
),

auction_component as (
    select
        cast(date_trunc('week', auction_date) + interval 4 day as date) as week_ending,
        count(*) as coupon_auctions,
        avg(tail_proxy_prior_close_bp) as avg_tail_proxy_prior_close_bp,
        avg(bid_to_cover_recomputed) as avg_bid_to_cover,
        avg(indirect_share_pct) as avg_indirect_share_pct,
        avg(
            (coalesce(tail_proxy_prior_close_bp_z_prior_12, 0) - coalesce(bid_to_cover_recomputed_z_prior_12, 0) - coalesce(indirect_share_pct_z_prior_12, 0))
            / nullif(
                cast((tail_proxy_prior_close_bp_z_prior_12 is not null) as int)
                + cast((bid_to_cover_recomputed_z_prior_12 is not null) as int)
                + cast((indirect_share_pct_z_prior_12 is not null) as int), 0
            )
        ) as auction_demand_z
    from {{ ref('fct_auctions') }}
    where security_class in ('Note', 'Bond')
    group by 1
),

positioning as (
    select
        cast(date_trunc('week', report_date) + interval 4 day as date) as week_ending,
        max_by(leveraged_gross_short_dv01_usd, report_date) as leveraged_gross_short_dv01_usd,
        max_by(leveraged_gross_short_10y_equivalents, report_date) as leveraged_gross_short_10y_equivalents,
        max_by(leveraged_gross_short_dv01_change_1w_usd, report_date) as leveraged_gross_short_dv01_change_1w_usd
    from {{ ref('int_basis_trade_proxy_aggregated') }}
    group by 1
),

positioning_component as (
    select
        *,
        case
            when count(leveraged_gross_short_dv01_change_1w_usd) over prior_156 >= 52 and stddev_samp(leveraged_gross_short_dv01_change_1w_usd) over prior_156 > 0
                then
                    -(leveraged_gross_short_dv01_change_1w_usd - avg(leveraged_gross_short_dv01_change_1w_usd) over prior_156)
                    / stddev_samp(leveraged_gross_short_dv01_change_1w_usd) over prior_156
        end as leveraged_deleveraging_z
    from positioning
    window prior_156 as (order by week_ending rows between 156 preceding and 1 preceding)
),

foreign_total as (
    select
        month_end,
        expected_release_date,
        change_1m_usd_bn,
        change_1m_robust_z
    from {{ ref('fct_foreign_holdings') }}
    where row_type = 'grand_total'
),

foreign_component as (
    -- The latest month already published by the Friday: as known that week, not as later known.
    select
        yield_component.week_ending,
        foreign_total.month_end as foreign_latest_month_known,
        foreign_total.change_1m_usd_bn as foreign_total_change_1m_usd_bn,
        -foreign_total.change_1m_robust_z as foreign_selling_z
    from yield_component
    asof left join foreign_total on yield_component.week_ending >= foreign_total.expected_release_date
),

dealer_total as (
    select
        week_ending_wednesday,
        value_usd_bn,
        change_1w_usd_bn,
        value_z_prior_156w
    from {{ ref('fct_primary_dealer_positions') }}
    where is_published_total
),

dealer_component as (
    -- The latest week the NY Fed had published by the Friday (Wednesday W is out on Thursday W + 8): as known then.
    select
        yield_component.week_ending,
        dealer_total.week_ending_wednesday as dealer_position_as_of,
        dealer_total.value_usd_bn as dealer_net_position_usd_bn,
        dealer_total.change_1w_usd_bn as dealer_net_position_change_1w_usd_bn,
        dealer_total.value_z_prior_156w as dealer_balance_sheet_z
    from yield_component
    asof left join dealer_total on yield_component.week_ending >= dealer_total.week_ending_wednesday + 8
),

sofr_weekly as (
    -- Rates published by the Friday morning: the previous Friday's to Thursday's.
    select
        cast(date_trunc('week', rate_date + 3) + interval 4 day as date) as week_ending,
        avg(rate_minus_iorb_bp) as sofr_minus_iorb_bp,
        avg(percentile_99_minus_1_bp) as sofr_percentile_99_minus_1_bp
    from {{ ref('fct_funding_rates_daily') }}
    where rate_type = 'SOFR'
    group by 1
),

funding_scored as (
    select
        *,
        {{ z_against_prior('sofr_minus_iorb_bp', 'prior_156', 52) }} as sofr_minus_iorb_z,
        {{ z_against_prior('sofr_percentile_99_minus_1_bp', 'prior_156', 52) }} as sofr_percentile_spread_z
    from sofr_weekly
    window prior_156 as (order by week_ending rows between 156 preceding and 1 preceding)
),

funding_component as (
    select
        *,
        (coalesce(sofr_minus_iorb_z, 0) + coalesce(sofr_percentile_spread_z, 0))
        / nullif(cast((sofr_minus_iorb_z is not null) as int) + cast((sofr_percentile_spread_z is not null) as int), 0) as funding_z
    from funding_scored
),

custody_component as (
    -- Wednesday's custody level is out with the H.4.1 on Thursday: the week's own figure by the Friday.
    select
        week_ending_wednesday + 2 as week_ending,
        week_ending_wednesday as custody_as_of,
        custody_usd_bn,
        change_1w_usd_bn as custody_change_1w_usd_bn,
        -change_1w_z_prior_156w as foreign_official_selling_z
    from {{ ref('fct_foreign_official_custody_weekly') }}
),

combined as (
    select
        yield_component.week_ending,
        auction_component.coupon_auctions,
        auction_component.avg_tail_proxy_prior_close_bp,
        auction_component.avg_bid_to_cover,
        auction_component.avg_indirect_share_pct,
        auction_component.auction_demand_z,
        yield_component.yield_10y_close_pct,
        yield_component.yield_30y_close_pct,
        yield_component.yield_10y_change_1w_bp,
        yield_component.yield_30y_change_1w_bp,
        yield_component.largest_abs_change_1w_bp,
        coalesce(yield_component.is_10y_5pct_crossing_in_week, false) as is_10y_5pct_crossing_in_week,
        coalesce(yield_component.is_30y_5pct_crossing_in_week, false) as is_30y_5pct_crossing_in_week,
        yield_component.yield_moves_z,
        positioning_component.leveraged_gross_short_dv01_usd,
        positioning_component.leveraged_gross_short_10y_equivalents,
        positioning_component.leveraged_gross_short_dv01_change_1w_usd,
        positioning_component.leveraged_deleveraging_z,
        foreign_component.foreign_latest_month_known,
        foreign_component.foreign_total_change_1m_usd_bn,
        foreign_component.foreign_selling_z,
        dealer_component.dealer_position_as_of,
        dealer_component.dealer_net_position_usd_bn,
        dealer_component.dealer_net_position_change_1w_usd_bn,
        dealer_component.dealer_balance_sheet_z,
        funding_component.sofr_minus_iorb_bp,
        funding_component.sofr_percentile_99_minus_1_bp,
        funding_component.sofr_minus_iorb_z,
        funding_component.sofr_percentile_spread_z,
        funding_component.funding_z,
        custody_component.custody_as_of,
        custody_component.custody_usd_bn,
        custody_component.custody_change_1w_usd_bn,
        custody_component.foreign_official_selling_z
    from yield_component
    left join auction_component on yield_component.week_ending = auction_component.week_ending
    left join positioning_component on yield_component.week_ending = positioning_component.week_ending
    left join foreign_component on yield_component.week_ending = foreign_component.week_ending
    left join dealer_component on yield_component.week_ending = dealer_component.week_ending
    left join funding_component on yield_component.week_ending = funding_component.week_ending
    left join custody_component on yield_component.week_ending = custody_component.week_ending
),

counted as (
    select
        *,
        cast((auction_demand_z is not null) as int) + cast((yield_moves_z is not null) as int)
        + cast((leveraged_deleveraging_z is not null) as int) + cast((foreign_selling_z is not null) as int)
        + cast((dealer_balance_sheet_z is not null) as int) + cast((funding_z is not null) as int)
        + cast((foreign_official_selling_z is not null) as int) as components_available
    from combined
),

final as (
    -- Like with like: a composite over one or two components is not comparable with one over seven, so weeks with
    -- fewer than var('stress_min_components') keep their component scores but get no composite and no flag.
    -- The components combine as z-scores do (Stouffer): their sum over the square root of how many there are, so the
    -- composite keeps a z-score's scale whether four or seven components are available. (A plain mean shrinks as
    -- quiet components are added: over seven, its 99th percentile in the sample history is 1.21.)
    select
        *,
        case
            when components_available >= {{ var('stress_min_components') }}
                then
                    (
                        coalesce(auction_demand_z, 0) + coalesce(yield_moves_z, 0) + coalesce(leveraged_deleveraging_z, 0)
                        + coalesce(foreign_selling_z, 0) + coalesce(dealer_balance_sheet_z, 0) + coalesce(funding_z, 0)
                        + coalesce(foreign_official_selling_z, 0)
                    )
                    / sqrt(components_available)
        end as composite_stress_score
    from counted
),

flagged as (
    select
        *,
        coalesce(composite_stress_score >= {{ var('stress_flag_threshold') }}, false) as is_stress_week
    from final
)

{{ select_published('flagged') }}
