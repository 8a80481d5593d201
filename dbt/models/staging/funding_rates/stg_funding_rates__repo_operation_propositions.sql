with

source as (
    select * from {{ source('funding_rates', 'repo_operation_propositions') }}
    {{ published_by('operation_date', 'repo_operations_published_through') }}
),

renamed as (
    select
        operation_id,
        operation_date,
        counterparty_type,
        cast(amt_accepted as double) as accepted_usd
    from source
)

select * from renamed
