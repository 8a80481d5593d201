{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_incremental_window(ref('stg_primary_dealers__statistics'), 'as_of_date', var('dealers_window_days'), 'week_ending_wednesday') }}"
) }}
-- One row per as-of Wednesday and primary dealer series (net positions by bucket, financing, transactions, fails).
-- The total is the NY Fed's published PDPOSGST-TOT, never rebuilt from the buckets; their sum stands beside it.
with

statistics as (
    -- Incremental: the window's rows and the 260 weeks before it per series (the 5-year average's frame).
    select * from {{ incremental_input(ref('stg_primary_dealers__statistics'), 'as_of_date', var('dealers_window_days'), 265, ['keyid']) }}
),

series as (
    select * from {{ ref('primary_dealer_series') }}
),

joined as (
    select
        statistics.as_of_date as week_ending_wednesday,
        statistics.keyid,
        series.series_break,
        series.category,
        series.bucket,
        series.bucket_label,
        series.is_published_total,
        series.is_part_of_total,
        series.display_order,
        statistics.value_usd_mn / 1000.0 as value_usd_bn,
        -- Published on the Thursday of the following week at about 16:15 New York.
        statistics.as_of_date + 8 + time '16:15' as public_at_et
    from statistics
    inner join series on statistics.keyid = series.keyid
),

parts as (
    select
        week_ending_wednesday,
        sum(value_usd_bn) as bills_and_coupons_usd_bn
    from joined
    where is_part_of_total
    group by week_ending_wednesday
),

scored as (
    select
        joined.*,
        joined.value_usd_bn - lag(joined.value_usd_bn) over by_series as change_1w_usd_bn,
        -- Averaged as exact decimals: a windowed sum of doubles may differ in its last bit from run to run, enough
        -- to move the published third decimal.
        avg(cast(joined.value_usd_bn as decimal(18, 6))) over prior_260 as avg_prior_5y_usd_bn,
        joined.value_usd_bn - avg(cast(joined.value_usd_bn as decimal(18, 6))) over prior_260 as vs_avg_prior_5y_usd_bn,
        {{ z_against_prior('joined.value_usd_bn', 'prior_156', 52) }} as value_z_prior_156w,
        case when joined.is_published_total then parts.bills_and_coupons_usd_bn end as bills_and_coupons_usd_bn,
        case when joined.is_published_total then joined.value_usd_bn - parts.bills_and_coupons_usd_bn end as total_minus_parts_usd_bn
    from joined
    left join parts on joined.week_ending_wednesday = parts.week_ending_wednesday
    window
        by_series as (partition by joined.keyid order by joined.week_ending_wednesday),
        prior_156 as (partition by joined.keyid order by joined.week_ending_wednesday rows between 156 preceding and 1 preceding),
        prior_260 as (partition by joined.keyid order by joined.week_ending_wednesday rows between 260 preceding and 1 preceding)
),

windowed as (
    select * from scored
    {{ incremental_window_filter(ref('stg_primary_dealers__statistics'), 'as_of_date', var('dealers_window_days'), 'week_ending_wednesday') }}
)

{{ select_published('windowed') }}
