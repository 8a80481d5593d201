{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_incremental_window(ref('stg_funding_rates__reference_rates'), 'rate_date', var('funding_window_days')) }}"
) }}
-- One row per business day and reference rate: the rate, its percentiles and volume, its spread to IORB and the
-- width of its distribution (99th - 1st percentile), each spread with a z-score against the prior 250 days only.
with

rates as (
    -- Incremental: the window's rows and the 250 days before it per rate (the z-scores' frame).
    select * from {{ incremental_input(ref('stg_funding_rates__reference_rates'), 'rate_date', var('funding_window_days'), 260, ['rate_type']) }}
),

iorb as (
    select
        observation_date,
        value as iorb_pct
    from {{ ref('stg_fed_custody__observations') }}
    where series_id = 'IORB' and value is not null
),

spreads as (
    select
        rates.*,
        iorb.iorb_pct,
        100.0 * (rates.rate_pct - iorb.iorb_pct) as rate_minus_iorb_bp,
        100.0 * (rates.percentile_99_pct - rates.percentile_1_pct) as percentile_99_minus_1_bp,
        -- Published at about 08:00 New York on the next business day (09:00 for EFFR); the day after as a floor.
        rates.rate_date + 1 + time '08:00' as public_at_et
    from rates
    left join iorb on rates.rate_date = iorb.observation_date
),

scored as (
    select
        *,
        {{ z_against_prior('rate_minus_iorb_bp', 'prior_250', 60) }} as rate_minus_iorb_bp_z_prior_250d,
        {{ z_against_prior('percentile_99_minus_1_bp', 'prior_250', 60) }} as percentile_99_minus_1_bp_z_prior_250d
    from spreads
    window prior_250 as (partition by rate_type order by rate_date rows between 250 preceding and 1 preceding)
),

windowed as (
    select * from scored
    {{ incremental_window_filter(ref('stg_funding_rates__reference_rates'), 'rate_date', var('funding_window_days')) }}
)

{{ select_published('windowed') }}
