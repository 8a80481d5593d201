with

curve as (
    select
        curve.curve_date,
        curve.tenor_column,
        tenors.tenor_label,
        tenors.tenor_years,
        curve.yield_pct
    from {{ ref('stg_par_yield_curve__par_yields_long') }} as curve
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
)

{{ select_published("changes") }}
