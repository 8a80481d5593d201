-- One row per MSPD month: marketable debt outstanding and the foreign share of it, the TIC foreign total as known
-- (the latest TIC month on or before the MSPD month), each labelled with its own date.
with

mspd as (
    select
        month_end,
        max(total_usd_mn) filter (where security_type = 'Total Marketable') / 1000.0 as marketable_debt_usd_bn,
        max(debt_held_by_public_usd_mn) filter (where security_type = 'Total Marketable') / 1000.0 as marketable_held_by_public_usd_bn,
        max(total_usd_mn) filter (
            where security_type in ('Total Public Debt Outstanding', 'Total Treasury Securities Outstanding')
        ) / 1000.0 as total_public_debt_usd_bn,
        sum(total_usd_mn) filter (where security_type = 'Marketable') / 1000.0 as marketable_classes_sum_usd_bn,
        max(total_usd_mn) filter (where security_type = 'Marketable' and security_class = 'Bills') / 1000.0 as bills_usd_bn
    from {{ ref('stg_treasury_debt__mspd_table_1') }}
    group by month_end
),

tic as (
    select
        month_end as tic_month_end,
        expected_release_date as tic_release_date,
        holdings_usd_bn as foreign_holdings_usd_bn
    from {{ ref('fct_foreign_holdings') }}
    where row_type = 'grand_total'
),

penny as (
    select
        record_date,
        total_public_debt_outstanding_usd
    from {{ ref('stg_treasury_debt__debt_to_the_penny') }}
),

joined as (
    select
        mspd.*,
        tic.tic_month_end,
        tic.tic_release_date,
        tic.foreign_holdings_usd_bn
    from mspd
    asof left join tic on mspd.month_end >= tic.tic_month_end
),

final as (
    select
        joined.month_end,
        joined.marketable_debt_usd_bn,
        joined.marketable_held_by_public_usd_bn,
        joined.marketable_classes_sum_usd_bn,
        joined.bills_usd_bn,
        100.0 * joined.bills_usd_bn / joined.marketable_debt_usd_bn as bills_share_of_marketable_pct,
        joined.total_public_debt_usd_bn,
        penny.record_date as debt_to_the_penny_date,
        cast(penny.total_public_debt_outstanding_usd as double) / 1e9 as debt_to_the_penny_total_usd_bn,
        joined.tic_month_end,
        joined.tic_release_date,
        joined.foreign_holdings_usd_bn,
        100.0 * joined.foreign_holdings_usd_bn / joined.marketable_debt_usd_bn as foreign_share_of_marketable_pct
    from joined
    asof left join penny on joined.month_end >= penny.record_date
)

{{ select_published('final') }}
