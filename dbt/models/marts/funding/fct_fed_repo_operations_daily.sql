-- One row per day with a Desk operation: the Standing Repo Facility's take-up (repo) and the overnight reverse repo
-- facility's (ON RRP), with their rates and a z-score of the SRF take-up against the prior 250 days only.
with

operations as (
    select * from {{ ref('stg_funding_rates__repo_operations') }}
),

details as (
    select * from {{ ref('stg_funding_rates__repo_operation_details') }}
),

rates as (
    select
        operation_id,
        max(minimum_bid_rate_pct) as minimum_bid_rate_pct,
        max(award_rate_pct) as award_rate_pct,
        max(stop_out_rate_pct) as stop_out_rate_pct
    from details
    group by operation_id
),

daily as (
    select
        operations.operation_date,
        count(*) filter (where operations.operation_type = 'Repo') as repo_operations,
        coalesce(sum(operations.total_accepted_usd) filter (where operations.operation_type = 'Repo'), 0) as srf_take_up_usd,
        max(rates.minimum_bid_rate_pct) filter (where operations.operation_type = 'Repo') as srf_minimum_bid_rate_pct,
        max(rates.stop_out_rate_pct) filter (where operations.operation_type = 'Repo') as srf_stop_out_rate_pct,
        coalesce(sum(operations.total_accepted_usd) filter (
            where operations.operation_type = 'Reverse Repo' and operations.term = 'Overnight'
        ), 0) as on_rrp_take_up_usd,
        max(rates.award_rate_pct) filter (where operations.operation_type = 'Reverse Repo') as on_rrp_award_rate_pct,
        max(operations.accepted_counterparties) filter (where operations.operation_type = 'Reverse Repo') as on_rrp_counterparties
    from operations
    left join rates on operations.operation_id = rates.operation_id
    group by operations.operation_date
),

scored as (
    select
        *,
        on_rrp_take_up_usd - lag(on_rrp_take_up_usd) over by_day as on_rrp_change_1d_usd,
        {{ z_against_prior('srf_take_up_usd', 'prior_250', 60) }} as srf_take_up_usd_z_prior_250d
    from daily
    window
        by_day as (order by operation_date),
        prior_250 as (order by operation_date rows between 250 preceding and 1 preceding)
)

{{ select_published('scored') }}
