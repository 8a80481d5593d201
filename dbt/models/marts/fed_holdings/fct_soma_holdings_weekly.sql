with

holdings as (
    select * from {{ ref('stg_fed_soma__treasury_holdings') }}
),

by_type as (
    select
        as_of_date,
        security_type,
        count(*) as securities,
        sum(par_value_usd) / 1e9 as par_value_usd_bn,
        sum(coalesce(inflation_compensation_usd, 0)) / 1e9 as inflation_compensation_usd_bn
    from holdings
    group by as_of_date, security_type
),

-- Every type on every week: a type the Fed holds none of that week is a zero, so the week's change is right.
grid as (
    select
        weeks.as_of_date,
        types.security_type
    from (select distinct as_of_date from holdings) as weeks
    cross join (select distinct security_type from holdings) as types
),

filled as (
    select
        grid.as_of_date,
        grid.security_type,
        coalesce(by_type.securities, 0) as securities,
        coalesce(by_type.par_value_usd_bn, 0) as par_value_usd_bn,
        coalesce(by_type.inflation_compensation_usd_bn, 0) as inflation_compensation_usd_bn
    from grid
    left join by_type
        on grid.as_of_date = by_type.as_of_date and grid.security_type = by_type.security_type
),

totals as (
    select
        as_of_date,
        sum(par_value_usd_bn) as total_par_value_usd_bn
    from filled
    group by as_of_date
),

total_changes as (
    select
        as_of_date,
        total_par_value_usd_bn,
        total_par_value_usd_bn - lag(total_par_value_usd_bn) over (order by as_of_date) as total_weekly_change_usd_bn,
        lag(total_par_value_usd_bn, 4) over (order by as_of_date) - total_par_value_usd_bn as runoff_4w_usd_bn
    from totals
),

final as (
    select
        filled.as_of_date,
        filled.security_type,
        filled.securities,
        filled.par_value_usd_bn,
        filled.inflation_compensation_usd_bn,
        filled.par_value_usd_bn
        - lag(filled.par_value_usd_bn) over (partition by filled.security_type order by filled.as_of_date) as weekly_change_usd_bn,
        100.0 * filled.par_value_usd_bn / nullif(total_changes.total_par_value_usd_bn, 0) as share_of_holdings_pct,
        total_changes.total_par_value_usd_bn,
        total_changes.total_weekly_change_usd_bn,
        -total_changes.total_weekly_change_usd_bn as weekly_runoff_usd_bn,
        total_changes.runoff_4w_usd_bn,
        -- Published the day after the as-of date, with the H.4.1 (about 16:30 New York).
        cast(filled.as_of_date + interval 1 day + interval 16 hour + interval 30 minute as timestamp) as public_at_et
    from filled
    inner join total_changes on filled.as_of_date = total_changes.as_of_date
)

{{ select_published('final') }}
