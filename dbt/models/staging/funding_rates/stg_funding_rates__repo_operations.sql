with

source as (
    select * from {{ source('funding_rates', 'repo_operations') }}
    {{ published_by('operation_date', 'repo_operations_published_through') }}
),

renamed as (
    select
        operation_id,
        operation_date,
        settlement_date,
        maturity_date,
        operation_type,
        operation_method,
        -- "1 Day " has been published with a trailing space.
        trim(settlement_type) as settlement_type,
        term,
        term_calender_days as term_calendar_days,
        release_time,
        close_time,
        note,
        cast(last_updated as timestamp) as last_updated_at_et,
        participating_cpty as participating_counterparties,
        accepted_cpty as accepted_counterparties,
        cast(operation_limit as double) as operation_limit_usd,
        cast(total_amt_submitted as double) as total_submitted_usd,
        cast(total_amt_accepted as double) as total_accepted_usd,
        auction_status
    from source
)

select * from renamed
