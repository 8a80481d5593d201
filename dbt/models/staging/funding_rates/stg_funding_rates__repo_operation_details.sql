with

source as (
    select * from {{ source('funding_rates', 'repo_operation_details') }}
    {{ published_by('operation_date', 'repo_operations_published_through') }}
),

renamed as (
    select
        operation_id,
        operation_date,
        security_type,
        cast(amt_submitted as double) as submitted_usd,
        cast(amt_accepted as double) as accepted_usd,
        cast(minimum_bid_rate as double) as minimum_bid_rate_pct,
        cast(percent_offering_rate as double) as offering_rate_pct,
        cast(percent_award_rate as double) as award_rate_pct,
        cast(percent_high_rate as double) as high_rate_pct,
        cast(percent_low_rate as double) as low_rate_pct,
        cast(percent_stop_out_rate as double) as stop_out_rate_pct,
        cast(percent_weighted_average_rate as double) as weighted_average_rate_pct
    from source
)

select * from renamed
