with

source as (
    select * from {{ source('funding_rates', 'reference_rates') }}
    -- Day D's rates are published on the next business day.
    {{ published_by('effective_date + 1', 'funding_rates_published_through') }}
),

renamed as (
    select
        effective_date as rate_date,
        type as rate_type,
        cast(percent_rate as decimal(12, 5)) as rate_pct,
        cast(percent_percentile1 as decimal(12, 5)) as percentile_1_pct,
        cast(percent_percentile25 as decimal(12, 5)) as percentile_25_pct,
        cast(percent_percentile75 as decimal(12, 5)) as percentile_75_pct,
        cast(percent_percentile99 as decimal(12, 5)) as percentile_99_pct,
        cast(target_rate_from as decimal(12, 5)) as target_range_lower_pct,
        cast(target_rate_to as decimal(12, 5)) as target_range_upper_pct,
        cast(volume_in_billions as double) as volume_usd_bn,
        revision_indicator
    from source
)

select * from renamed
