{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_incremental_window(ref('int_positions_unpivoted_to_trader_groups'), 'report_date', var('cftc_window_days')) }}"
) }}
with

positions as (
    -- Incremental: the window's rows and the 156 weeks before it per contract and group (the z-score's frame).
    select * from {{ incremental_input(ref('int_positions_unpivoted_to_trader_groups'), 'report_date', var('cftc_window_days'), 160, ['contract_code', 'trader_group']) }}
),

metrics as (
    select
        report_date,
        contract_code,
        market_name,
        commodity_subgroup,
        treasury_symbol,
        treasury_symbol is not null as is_treasury_future,
        trader_group,
        open_interest,
        long_contracts,
        short_contracts,
        spreading_contracts,
        long_contracts - short_contracts as net_contracts,
        100.0 * (long_contracts - short_contracts) / nullif(open_interest, 0) as net_pct_of_open_interest,
        dv01_usd_per_contract,
        (long_contracts - short_contracts) * dv01_usd_per_contract as net_dv01_usd,
        (long_contracts - short_contracts) * dv01_usd_per_contract / ten_year_dv01_usd_per_contract as net_10y_equivalents
    from positions
),

scored as (
    select
        *,
        net_contracts - lag(net_contracts) over by_week as net_change_1w_contracts,
        {{ z_against_prior('net_contracts', 'prior_156', 26) }} as net_z_prior_156w,
        case
            when count(net_contracts) over trailing_52 >= 26
                then
                    100.0 * (net_contracts - min(net_contracts) over trailing_52)
                    / nullif(max(net_contracts) over trailing_52 - min(net_contracts) over trailing_52, 0)
        end as cot_index_52w
    from metrics
    window
        by_week as (partition by contract_code, trader_group order by report_date),
        prior_156 as (partition by contract_code, trader_group order by report_date rows between 156 preceding and 1 preceding),
        trailing_52 as (partition by contract_code, trader_group order by report_date rows between 51 preceding and current row)
),

windowed as (
    select * from scored
    {{ incremental_window_filter(ref('int_positions_unpivoted_to_trader_groups'), 'report_date', var('cftc_window_days')) }}
)

{{ select_published("windowed") }}
