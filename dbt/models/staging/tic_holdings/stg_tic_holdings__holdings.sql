with

source as (
    select * from {{ source('tic_holdings', 'major_foreign_holders') }}
    {{ published_by('month_end', 'tic_released_through') }}
),

renamed as (
    select
        month_end,
        country,
        row_type,
        is_comparison_series,
        cast(holdings_bn as double) as holdings_usd_bn,
        value_flag,
        source_file,
        file_release_date
    from source
)

select * from renamed
