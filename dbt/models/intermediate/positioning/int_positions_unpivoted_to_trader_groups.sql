-- TFF positions, one row per report date x contract x trader group, with the DV01 per contract in force
-- on the report date (Treasury futures only; the latest dated seed value on or before the report date).
with

positions as (
    select * from {{ ref('stg_cftc_tff__positions') }}
),

by_group as (
    {% for group in ['dealer', 'asset_manager', 'leveraged_funds', 'other_reportables'] %}
        select
            report_date,
            contract_code,
            market_name,
            commodity_subgroup,
            open_interest,
            '{{ group }}' as trader_group,
            {{ group }}_long as long_contracts,
            {{ group }}_short as short_contracts,
            {{ group }}_spreading as spreading_contracts
        from positions
        union all
    {% endfor %}
    select
        report_date,
        contract_code,
        market_name,
        commodity_subgroup,
        open_interest,
        'non_reportable' as trader_group,
        nonreportable_long as long_contracts,
        nonreportable_short as short_contracts,
        null as spreading_contracts
    from positions
),

dv01 as (
    select * from {{ ref('treasury_futures_dv01') }}
),

with_dv01 as (
    select
        by_group.*,
        contracts.symbol as treasury_symbol,
        (
            select max_by(dv01.dv01_usd_per_contract, dv01.valid_from)
            from dv01
            where dv01.cftc_contract_market_code = by_group.contract_code and dv01.valid_from <= by_group.report_date
        ) as dv01_usd_per_contract,
        (
            select max_by(dv01.dv01_usd_per_contract, dv01.valid_from)
            from dv01
            where dv01.cftc_contract_market_code = '043602' and dv01.valid_from <= by_group.report_date
        ) as ten_year_dv01_usd_per_contract
    from by_group
    left join {{ ref('treasury_futures_contracts') }} as contracts
        on by_group.contract_code = contracts.cftc_contract_market_code
)

select * from with_dv01
