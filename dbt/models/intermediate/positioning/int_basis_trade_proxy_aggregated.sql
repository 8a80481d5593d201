-- Leveraged funds' gross short across all Treasury futures, per report date, in contracts, DV01 and
-- 10-year equivalents: the usual basis-trade proxy; with both groups' nets in 10-year equivalents beside it (it overstates basis activity: not every short is a basis leg).
with

treasury_leveraged as (
    select *
    from {{ ref('int_positions_unpivoted_to_trader_groups') }}
    where treasury_symbol is not null and trader_group in ('leveraged_funds', 'asset_manager')
),

aggregated as (
    select
        report_date,
        sum(short_contracts) filter (where trader_group = 'leveraged_funds') as leveraged_gross_short_contracts,
        sum(short_contracts * dv01_usd_per_contract) filter (where trader_group = 'leveraged_funds') as leveraged_gross_short_dv01_usd,
        sum(short_contracts * dv01_usd_per_contract / ten_year_dv01_usd_per_contract)
        filter (where trader_group = 'leveraged_funds') as leveraged_gross_short_10y_equivalents,
        sum(long_contracts * dv01_usd_per_contract) filter (where trader_group = 'asset_manager') as asset_manager_gross_long_dv01_usd,
        sum((long_contracts - short_contracts) * dv01_usd_per_contract / ten_year_dv01_usd_per_contract)
        filter (where trader_group = 'leveraged_funds') as leveraged_net_10y_equivalents,
        sum((long_contracts - short_contracts) * dv01_usd_per_contract / ten_year_dv01_usd_per_contract)
        filter (where trader_group = 'asset_manager') as asset_manager_net_10y_equivalents
    from treasury_leveraged
    group by report_date
)

select
    *,
    leveraged_gross_short_dv01_usd - lag(leveraged_gross_short_dv01_usd) over (order by report_date) as leveraged_gross_short_dv01_change_1w_usd,
    asset_manager_gross_long_dv01_usd - lag(asset_manager_gross_long_dv01_usd) over (order by report_date) as asset_manager_gross_long_dv01_change_1w_usd
from aggregated
