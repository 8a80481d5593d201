-- Every Treasury future in the positioning mart carries a DV01 from the dated seed (a missing seed row would
-- silently drop it from the basis-trade proxy).
select
    report_date,
    contract_code,
    trader_group
from {{ ref('fct_futures_positioning') }}
where is_treasury_future and dv01_usd_per_contract is null
