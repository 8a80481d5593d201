with

source as (
    select * from {{ source('treasury_auctions', 'upcoming_auctions') }}
    {{ published_by('record_date', 'treasury_auctions_published_through') }}
),

renamed as (
    select
        cusip,
        auction_date,
        issue_date,
        announcemt_date as announcement_date,
        record_date,
        security_type,
        security_term,
        reopening as is_reopening,
        cast(offering_amt as double) as offering_amount_usd
    from source
)

select * from renamed
