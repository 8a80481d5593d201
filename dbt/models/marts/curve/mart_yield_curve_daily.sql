{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_incremental_window(ref('stg_par_yield_curve__par_yields'), 'curve_date', var('curve_window_days')) }}"
) }}
with

curve as (
    -- Incremental: the window's rows and the 250 days before it (the z-score's frame, over daily changes).
    select * from {{ incremental_input(ref('stg_par_yield_curve__par_yields'), 'curve_date', var('curve_window_days'), 260) }}
),

spreads as (
    select
        *,
        100.0 * (yield_10y_pct - yield_2y_pct) as spread_2s10s_bp,
        100.0 * (yield_30y_pct - yield_5y_pct) as spread_5s30s_bp,
        100.0 * (yield_10y_pct - yield_3m_pct) as spread_3m10y_bp
    from curve
),

changes as (
    select
        *,
        {%- for col in ['yield_2y_pct', 'yield_10y_pct', 'yield_30y_pct', 'spread_2s10s_bp', 'spread_5s30s_bp', 'spread_3m10y_bp'] %}
            {%- set name = col | replace('_pct', '') | replace('_bp', '') %}
            {%- set scale = '100.0 * ' if col.endswith('_pct') else '' %}
            {{ scale }}({{ col }} - lag({{ col }}, 1) over by_date) as {{ name }}_change_1d_bp,
            {{ scale }}({{ col }} - lag({{ col }}, 5) over by_date) as {{ name }}_change_5d_bp,
        {%- endfor %}
        lag(yield_10y_pct) over by_date as previous_yield_10y_pct,
        lag(yield_30y_pct) over by_date as previous_yield_30y_pct
    from spreads
    window by_date as (order by curve_date)
),

scored as (
    select
        *,
        coalesce(yield_10y_pct >= 5.0 and previous_yield_10y_pct < 5.0, false) as is_10y_5pct_crossing,
        coalesce(yield_30y_pct >= 5.0 and previous_yield_30y_pct < 5.0, false) as is_30y_5pct_crossing,
        {%- for tenor in ['10y', '30y'] %}
            case
                when count(yield_{{ tenor }}_change_1d_bp) over prior_250 >= 60 and stddev_samp(yield_{{ tenor }}_change_1d_bp) over prior_250 > 0
                    then
                        (yield_{{ tenor }}_change_1d_bp - avg(yield_{{ tenor }}_change_1d_bp) over prior_250)
                        / stddev_samp(yield_{{ tenor }}_change_1d_bp) over prior_250
            end as yield_{{ tenor }}_change_1d_z_prior_250{% if not loop.last %},{% endif %}
        {%- endfor %}
    from changes
    window prior_250 as (order by curve_date rows between 250 preceding and 1 preceding)
),

published as (
    select * exclude (previous_yield_10y_pct, previous_yield_30y_pct) from scored
),

windowed as (
    select * from published
    {{ incremental_window_filter(ref('stg_par_yield_curve__par_yields'), 'curve_date', var('curve_window_days')) }}
)

{{ select_published('windowed') }}
