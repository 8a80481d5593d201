{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_incremental_window(ref('stg_par_yield_curve__par_yields_long'), 'curve_date', var('curve_window_days')) }}"
) }}
with

curve as (
    select
        curve.curve_date,
        curve.tenor_column,
        tenors.tenor_label,
        tenors.tenor_years,
        curve.yield_pct
    -- Incremental: the window's rows and the day before it per tenor (the daily change's lag).
    from {{ incremental_input(ref('stg_par_yield_curve__par_yields_long'), 'curve_date', var('curve_window_days'), 5, ['tenor_column']) }} as curve
    inner join {{ ref('tenor_map') }} as tenors on curve.tenor_column = tenors.tenor_column
),

changes as (
    select
        curve_date,
        tenor_label,
        tenor_years,
        yield_pct,
        lag(curve_date) over by_tenor as previous_curve_date,
        100.0 * (yield_pct - lag(yield_pct) over by_tenor) as change_1d_bp
    from curve
    window by_tenor as (partition by tenor_column order by curve_date)
),

windowed as (
    select * from changes
    {{ incremental_window_filter(ref('stg_par_yield_curve__par_yields_long'), 'curve_date', var('curve_window_days')) }}
)

{{ select_published("windowed") }}
