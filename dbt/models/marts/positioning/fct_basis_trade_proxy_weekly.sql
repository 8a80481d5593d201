-- One row per CFTC report date: leveraged funds' gross short across the six Treasury futures (the basis-trade proxy)
-- and both sides' nets, in contracts, DV01 and 10-year equivalents, with the week's change and a prior-only z.
with

aggregated as (
    select * from {{ ref('int_basis_trade_proxy_aggregated') }}
),

scored as (
    select
        report_date,
        cast(leveraged_gross_short_contracts as bigint) as leveraged_gross_short_contracts,
        leveraged_gross_short_dv01_usd,
        leveraged_gross_short_10y_equivalents,
        leveraged_gross_short_dv01_change_1w_usd,
        case
            when
                count(leveraged_gross_short_dv01_change_1w_usd) over prior_156 >= 26
                and stddev_samp(leveraged_gross_short_dv01_change_1w_usd) over prior_156 > 0
                then
                    (leveraged_gross_short_dv01_change_1w_usd - avg(leveraged_gross_short_dv01_change_1w_usd) over prior_156)
                    / stddev_samp(leveraged_gross_short_dv01_change_1w_usd) over prior_156
        end as leveraged_gross_short_dv01_change_1w_z_prior_156w,
        leveraged_net_10y_equivalents,
        asset_manager_net_10y_equivalents,
        asset_manager_gross_long_dv01_usd,
        asset_manager_gross_long_dv01_change_1w_usd
    from aggregated
    window prior_156 as (order by report_date rows between 156 preceding and 1 preceding)
)

{{ select_published('scored') }}
