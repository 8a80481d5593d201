-- One row per alert event: which rule fired, on what, when the data became public (New York time), the value
-- against its threshold and a sentence a person can read. The thresholds are dbt vars (dbt_project.yml).
with

auctions as (
    select
        cusip,
        auction_date,
        security_class || ' ' || term_group || ' (' || cusip || ')' as subject,
        tail_proxy_prior_close_bp,
        tail_proxy_prior_close_bp_z_prior_12,
        bid_to_cover_recomputed,
        bid_to_cover_recomputed_z_prior_12,
        indirect_share_pct,
        indirect_share_pct_z_prior_12,
        dealer_share_pct,
        dealer_share_pct_z_prior_12
    from {{ ref('fct_auctions') }}
    where security_class in ('Note', 'Bond')
),

{#- The four weak-auction criteria: (rule, z-score column, comparison, threshold var, what the sentence says). Dealers
    absorb what end investors leave, so a high takedown is how a weak auction shows when indirect demand holds up but
    direct bidders stay away (the 3-year of 2025-04-08: dealers 34%, indirects only z -1.4). -#}
{%- set auction_criteria = [
    ('weak_auction_tail', 'tail_proxy_prior_close_bp_z_prior_12', '>=', 'alert_auction_tail_z',
     "' tailed: stop ' || tail_proxy_prior_close_bp || ' bp over the prior close'"),
    ('weak_auction_bid_to_cover', 'bid_to_cover_recomputed_z_prior_12', '<=', 'alert_auction_bid_to_cover_z',
     "' drew weak cover: bid-to-cover ' || bid_to_cover_recomputed"),
    ('weak_auction_indirect_demand', 'indirect_share_pct_z_prior_12', '<=', 'alert_auction_indirect_z',
     "' drew little indirect (foreign and investor) demand: ' || cast(indirect_share_pct as decimal(18, 1)) || '% of competitive accepted'"),
    ('weak_auction_dealer_takedown', 'dealer_share_pct_z_prior_12', '>=', 'alert_auction_dealer_z',
     "' left dealers holding ' || cast(dealer_share_pct as decimal(18, 1)) || '% of competitive accepted'"),
] %}

weak_auctions as (
    {%- for rule, z_column, comparison, threshold_var, says in auction_criteria %}
        select
            '{{ rule }}' as rule,
            subject,
            auction_date as event_date,
            -- Coupon auction results are announced at 13:00 ET on the auction day.
            auction_date + time '13:00' as public_at_et,
            {{ z_column }} as value,
            {{ var(threshold_var) }} as threshold,
            subject || {{ says }} || ', z ' || round({{ z_column }}, 1) || ' against the prior 12 of its term' as message
        from auctions
        where {{ z_column }} {{ comparison }} {{ var(threshold_var) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

closes as (
    select
        curve_date,
        yield_10y_pct,
        yield_30y_pct,
        lag(yield_10y_pct) over by_date as previous_10y_pct,
        lag(yield_30y_pct) over by_date as previous_30y_pct
    from {{ ref('mart_yield_curve_daily') }}
    window by_date as (order by curve_date)
),

yield_crossings as (
    {%- for tenor in ['10y', '30y'] %}
        select
            'yield_level_crossing' as rule,
            '{{ tenor | replace("y", "") }}-year par yield' as subject,
            curve_date as event_date,
            -- The par curve is published around 18:00 ET on the curve date.
            curve_date + time '18:00' as public_at_et,
            cast(yield_{{ tenor }}_pct as double) as value,
            {{ var('alert_yield_level_pct') }} as threshold,
            'The {{ tenor | replace("y", "") }}-year closed at ' || cast(yield_{{ tenor }}_pct as decimal(18, 2)) || '%, at or above '
            || {{ var('alert_yield_level_pct') }} || '% after ' || cast(previous_{{ tenor }}_pct as decimal(18, 2)) || '% the day before' as message
        from closes
        where yield_{{ tenor }}_pct >= {{ var('alert_yield_level_pct') }} and previous_{{ tenor }}_pct < {{ var('alert_yield_level_pct') }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

stress_weeks as (
    select
        'stress_week' as rule,
        'composite stress score' as subject,
        week_ending as event_date,
        -- The week's last input is Friday's curve.
        week_ending + time '18:00' as public_at_et,
        composite_stress_score as value,
        {{ var('stress_flag_threshold') }} as threshold,
        'Stress week ending ' || week_ending || ': composite ' || round(composite_stress_score, 2) || ' (flag at '
        || {{ var('stress_flag_threshold') }} || '; auction ' || coalesce(cast(round(auction_demand_z, 1) as varchar), 'n/a')
        || ', yields ' || coalesce(cast(round(yield_moves_z, 1) as varchar), 'n/a') || ', deleveraging '
        || coalesce(cast(round(leveraged_deleveraging_z, 1) as varchar), 'n/a') || ', foreign selling '
        || coalesce(cast(round(foreign_selling_z, 1) as varchar), 'n/a') || ', dealers '
        || coalesce(cast(round(dealer_balance_sheet_z, 1) as varchar), 'n/a') || ', funding '
        || coalesce(cast(round(funding_z, 1) as varchar), 'n/a') || ', foreign official '
        || coalesce(cast(round(foreign_official_selling_z, 1) as varchar), 'n/a') || ')' as message
    from {{ ref('mart_treasury_stress_weekly') }}
    where is_stress_week
),

deleveraging as (
    select
        'leveraged_deleveraging' as rule,
        'leveraged funds, Treasury futures' as subject,
        report_date as event_date,
        -- CFTC publishes the Tuesday positions on Friday at 15:30 ET (later after a federal holiday).
        cast(report_date + interval 3 day as date) + time '15:30' as public_at_et,
        leveraged_gross_short_dv01_change_1w_z_prior_156w as value,
        {{ var('alert_deleveraging_z') }} as threshold,
        'Leveraged funds cut their gross short in Treasury futures by $'
        || round(-leveraged_gross_short_dv01_change_1w_usd / 1e6, 2) || 'm DV01 in the week to ' || report_date
        || ', z ' || round(leveraged_gross_short_dv01_change_1w_z_prior_156w, 1) || ' (basis-trade unwind proxy)' as message
    from {{ ref('fct_basis_trade_proxy_weekly') }}
    where leveraged_gross_short_dv01_change_1w_z_prior_156w <= {{ var('alert_deleveraging_z') }}
),

foreign_moves as (
    select
        'tic_country_move' as rule,
        country_display_name as subject,
        month_end as event_date,
        -- TIC is released at 16:00 ET on its release day (the 18th of month + 2, as fct_foreign_holdings dates it).
        expected_release_date + time '16:00' as public_at_et,
        cast(change_1m_usd_bn as double) as value,
        {{ var('alert_tic_change_usd_bn') }} as threshold,
        country_display_name || ' ' || case when change_1m_usd_bn < 0 then 'cut' else 'added' end || ' $'
        || cast(abs(change_1m_usd_bn) as decimal(18, 1)) || 'bn of Treasuries in ' || strftime(month_end, '%B %Y') || ', robust z '
        || round(change_1m_robust_z, 1) as message
    from {{ ref('fct_foreign_holdings') }}
    where
        row_type = 'country'
        and abs(change_1m_robust_z) >= {{ var('alert_tic_robust_z') }}
        and abs(change_1m_usd_bn) >= {{ var('alert_tic_change_usd_bn') }}
),

alerts as (
    select * from weak_auctions
    union all
    select * from yield_crossings
    union all
    select * from stress_weeks
    union all
    select * from deleveraging
    union all
    select * from foreign_moves
)

select
    rule || '|' || subject || '|' || event_date as alert_key,
    rule,
    subject,
    event_date,
    cast(public_at_et as timestamp) as public_at_et,
    cast(value as double) as value,
    cast(threshold as double) as threshold,
    message
from alerts
