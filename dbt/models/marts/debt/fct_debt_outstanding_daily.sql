-- One row per business day: Debt to the Penny as published, with the gap of its identity (public + intragovernmental
-- - total; zero in every published row seen).
with

debt as (
    select * from {{ ref('stg_treasury_debt__debt_to_the_penny') }}
),

final as (
    select
        record_date,
        debt_held_by_public_usd,
        intragovernmental_holdings_usd,
        total_public_debt_outstanding_usd,
        debt_held_by_public_usd + intragovernmental_holdings_usd - total_public_debt_outstanding_usd as identity_gap_usd,
        100.0 * cast(debt_held_by_public_usd as double) / cast(total_public_debt_outstanding_usd as double) as held_by_public_share_pct,
        fiscal_year
    from debt
)

{{ select_published('final') }}
