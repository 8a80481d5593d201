with

source as (
    select * from {{ source('treasury_debt', 'mspd_table_1') }}
    {{ published_by('record_date', 'mspd_released_through') }}
),

renamed as (
    select
        record_date as month_end,
        security_type_desc as security_type,
        security_class_desc as security_class,
        src_line_nbr as source_line,
        cast(debt_held_public_mil_amt as decimal(24, 10)) as debt_held_by_public_usd_mn,
        cast(intragov_hold_mil_amt as decimal(24, 10)) as intragovernmental_holdings_usd_mn,
        cast(total_mil_amt as decimal(24, 10)) as total_usd_mn
    from source
)

select * from renamed
