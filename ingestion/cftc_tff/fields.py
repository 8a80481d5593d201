"""Fields of the CFTC Traders in Financial Futures, futures-only Socrata dataset (`gpe5-46if`), and their load types.

Names copied exactly from the dataset (their irregular `_all` suffixes included). Socrata sends every
number as a JSON string and leaves null fields out of the object; the report date is a floating
timestamp string ("2025-08-05T00:00:00.000") loaded as a DATE.
"""

from __future__ import annotations

from ingestion.common.records import DATE_TS, DECIMAL, INT, TEXT

DATASET_ID = "gpe5-46if"
REPORT_DATE = "report_date_as_yyyy_mm_dd"

_TEXT_HEAD = (
    "id",
    "market_and_exchange_names",
    REPORT_DATE,
    "yyyy_report_week_ww",
    "contract_market_name",
    "cftc_contract_market_code",
    "cftc_market_code",
    "cftc_region_code",
    "cftc_commodity_code",
    "commodity_name",
)
POSITIONS = (
    "open_interest_all",
    "dealer_positions_long_all",
    "dealer_positions_short_all",
    "dealer_positions_spread_all",
    "asset_mgr_positions_long",
    "asset_mgr_positions_short",
    "asset_mgr_positions_spread",
    "lev_money_positions_long",
    "lev_money_positions_short",
    "lev_money_positions_spread",
    "other_rept_positions_long",
    "other_rept_positions_short",
    "other_rept_positions_spread",
    "tot_rept_positions_long_all",
    "tot_rept_positions_short",
    "nonrept_positions_long_all",
    "nonrept_positions_short_all",
)
CHANGES = (
    "change_in_open_interest_all",
    "change_in_dealer_long_all",
    "change_in_dealer_short_all",
    "change_in_dealer_spread_all",
    "change_in_asset_mgr_long",
    "change_in_asset_mgr_short",
    "change_in_asset_mgr_spread",
    "change_in_lev_money_long",
    "change_in_lev_money_short",
    "change_in_lev_money_spread",
    "change_in_other_rept_long",
    "change_in_other_rept_short",
    "change_in_other_rept_spread",
    "change_in_tot_rept_long_all",
    "change_in_tot_rept_short",
    "change_in_nonrept_long_all",
    "change_in_nonrept_short_all",
)
PCT_OF_OI = (
    "pct_of_open_interest_all",
    "pct_of_oi_dealer_long_all",
    "pct_of_oi_dealer_short_all",
    "pct_of_oi_dealer_spread_all",
    "pct_of_oi_asset_mgr_long",
    "pct_of_oi_asset_mgr_short",
    "pct_of_oi_asset_mgr_spread",
    "pct_of_oi_lev_money_long",
    "pct_of_oi_lev_money_short",
    "pct_of_oi_lev_money_spread",
    "pct_of_oi_other_rept_long",
    "pct_of_oi_other_rept_short",
    "pct_of_oi_other_rept_spread",
    "pct_of_oi_tot_rept_long_all",
    "pct_of_oi_tot_rept_short",
    "pct_of_oi_nonrept_long_all",
    "pct_of_oi_nonrept_short_all",
)
TRADERS = (
    "traders_tot_all",
    "traders_dealer_long_all",
    "traders_dealer_short_all",
    "traders_dealer_spread_all",
    "traders_asset_mgr_long_all",
    "traders_asset_mgr_short_all",
    "traders_asset_mgr_spread",
    "traders_lev_money_long_all",
    "traders_lev_money_short_all",
    "traders_lev_money_spread",
    "traders_other_rept_long_all",
    "traders_other_rept_short_all",
    "traders_other_rept_spread",
    "traders_tot_rept_long_all",
    "traders_tot_rept_short_all",
)
CONCENTRATION = (
    "conc_gross_le_4_tdr_long",
    "conc_gross_le_4_tdr_short",
    "conc_gross_le_8_tdr_long",
    "conc_gross_le_8_tdr_short",
    "conc_net_le_4_tdr_long_all",
    "conc_net_le_4_tdr_short_all",
    "conc_net_le_8_tdr_long_all",
    "conc_net_le_8_tdr_short_all",
)
_TEXT_TAIL = (
    "contract_units",
    "cftc_subgroup_code",
    "commodity",
    "commodity_subgroup_name",
    "commodity_group_name",
    "futonly_or_combined",
)

TFF_FIELDS: dict[str, str] = {
    **{f: TEXT for f in _TEXT_HEAD},
    REPORT_DATE: DATE_TS,
    **{f: INT for f in POSITIONS + CHANGES + TRADERS},
    **{f: DECIMAL for f in PCT_OF_OI + CONCENTRATION},
    **{f: TEXT for f in _TEXT_TAIL},
}
TFF_REQUIRED = ("id", REPORT_DATE, "cftc_contract_market_code", "market_and_exchange_names", "open_interest_all")

# The Treasury futures the marts single out, by CFTC contract market code.
TREASURY_CONTRACTS = {
    "042601": "2-Year T-Note (ZT)",
    "044601": "5-Year T-Note (ZF)",
    "043602": "10-Year T-Note (ZN)",
    "043607": "Ultra 10-Year T-Note (TN)",
    "020601": "T-Bond (ZB)",
    "020604": "Ultra T-Bond (UB)",
}
