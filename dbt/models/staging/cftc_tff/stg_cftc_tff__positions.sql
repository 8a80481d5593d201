with

source as (
    select * from {{ source('cftc_tff', 'tff_futures_only') }}
    {{ published_by('report_date_as_yyyy_mm_dd', 'cftc_released_through') }}
),

renamed as (
    select
        report_date_as_yyyy_mm_dd as report_date,
        cftc_contract_market_code as contract_code,
        market_and_exchange_names as market_name,
        commodity_subgroup_name as commodity_subgroup,
        open_interest_all as open_interest,
        dealer_positions_long_all as dealer_long,
        dealer_positions_short_all as dealer_short,
        dealer_positions_spread_all as dealer_spreading,
        asset_mgr_positions_long as asset_manager_long,
        asset_mgr_positions_short as asset_manager_short,
        asset_mgr_positions_spread as asset_manager_spreading,
        lev_money_positions_long as leveraged_funds_long,
        lev_money_positions_short as leveraged_funds_short,
        lev_money_positions_spread as leveraged_funds_spreading,
        other_rept_positions_long as other_reportables_long,
        other_rept_positions_short as other_reportables_short,
        other_rept_positions_spread as other_reportables_spreading,
        nonrept_positions_long_all as nonreportable_long,
        nonrept_positions_short_all as nonreportable_short,
        tot_rept_positions_long_all as total_reportable_long,
        tot_rept_positions_short as total_reportable_short
    from source
)

select * from renamed
