"""Expectations on the TFF positions: ranges, report days and the open-interest identity.

The policy and the declaration shapes: ingestion/common/expectations.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from ingestion.calendar import federal_holidays, is_business_day
from ingestion.cftc_tff.fields import TREASURY_CONTRACTS
from ingestion.common.expectations import WARNING, Expectation, RawTableSuite, View, count_only, expect, on_calendar

if TYPE_CHECKING:
    import pandas as pd


def _on_report_day(day: date) -> bool:
    """A TFF report date is the Tuesday, or the last day before it when holidays close the days up to the Tuesday."""
    tuesday = day + timedelta(days=(1 - day.weekday()) % 7)
    between = [day + timedelta(days=i) for i in range(1, (tuesday - day).days + 1)]
    return all(not is_business_day(d) or d in federal_holidays(d.year) for d in between)


def _flag_report_days(df: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    days = pd.to_datetime(df["report_date"]).dt.date
    df["report_on_tuesday_or_holiday_shift"] = days.map(lambda d: d is None or pd.isna(d) or _on_report_day(d))
    return df


# Reportable groups, then non-reportable; spreading is held by the four reportable groups only.
_LONGS = (
    "dealer_positions_long_all",
    "asset_mgr_positions_long",
    "lev_money_positions_long",
    "other_rept_positions_long",
    "nonrept_positions_long_all",
)
_SHORTS = (
    "dealer_positions_short_all",
    "asset_mgr_positions_short",
    "lev_money_positions_short",
    "other_rept_positions_short",
    "nonrept_positions_short_all",
)
_SPREADS = (
    "dealer_positions_spread_all",
    "asset_mgr_positions_spread",
    "lev_money_positions_spread",
    "other_rept_positions_spread",
)

_TREASURY_CODES = ", ".join(f"'{code}'" for code in TREASURY_CONTRACTS)


def _tff_identities(*, blocking: bool) -> list[Expectation]:
    who = (
        "the Treasury futures the marts single out: exact"
        if blocking
        else (
            "other contracts: the CFTC's consolidated index rows (codes ending in +) miss it by 1 or 2 contracts "
            "in every published file, a publication artefact"
        )
    )
    severity = {} if blocking else {"severity": WARNING}
    return [
        expect.ColumnPairValuesToBeEqual(
            column_A="open_interest_all",
            column_B=side,
            description=f"open interest = all {label} (reportable and not) + all spreading; {who}",
            **severity,
        )
        for side, label in (("longs_plus_spreading", "longs"), ("shorts_plus_spreading", "shorts"))
    ]


_TFF_SQL = f"""
    select
        report_date_as_yyyy_mm_dd as report_date,
        cftc_contract_market_code,
        open_interest_all,
        {" + ".join(_LONGS + _SPREADS)} as longs_plus_spreading,
        {" + ".join(_SHORTS + _SPREADS)} as shorts_plus_spreading,
        least({", ".join(_LONGS + _SHORTS + _SPREADS)}) as smallest_position,
        greatest(pct_of_oi_dealer_long_all, pct_of_oi_asset_mgr_long, pct_of_oi_lev_money_long,
            pct_of_oi_other_rept_long, pct_of_oi_nonrept_long_all, pct_of_oi_dealer_short_all,
            pct_of_oi_asset_mgr_short, pct_of_oi_lev_money_short, pct_of_oi_other_rept_short,
            pct_of_oi_nonrept_short_all) as largest_pct_of_open_interest
    from {{table}}
"""

TFF = RawTableSuite(
    "cftc_tff",
    "tff_futures_only",
    "report_date_as_yyyy_mm_dd",
    (
        View(
            "positions",
            _TFF_SQL,
            ("report_date", "cftc_contract_market_code"),
            lambda columns: [
                expect.ColumnValuesToBeBetween(
                    column="smallest_position", min_value=0, description="positions are contracts held, never negative"
                ),
                expect.ColumnValuesToBeBetween(
                    column="largest_pct_of_open_interest",
                    min_value=0,
                    max_value=100,
                    description="a group's position as a percent of open interest",
                ),
                *on_calendar(
                    "report_on_tuesday_or_holiday_shift",
                    [True],
                    "positions are as of Tuesday (the day before when a holiday closes the Tuesday)",
                    mostly=0.99,
                ),
            ],
            _flag_report_days,
        ),
        View(
            "treasury_identity",
            _TFF_SQL + f" where cftc_contract_market_code in ({_TREASURY_CODES})",
            ("report_date", "cftc_contract_market_code"),
            lambda columns: _tff_identities(blocking=True),
        ),
        View(
            "other_contracts_identity",
            _TFF_SQL + f" where cftc_contract_market_code not in ({_TREASURY_CODES})",
            ("report_date", "cftc_contract_market_code"),
            lambda columns: _tff_identities(blocking=False),
        ),
    ),
)


SUITES = (
    TFF,
    count_only(
        "cftc_tff",
        "tff_futures_only_vintages",
        "report_date_as_yyyy_mm_dd",
        ("report_date_as_yyyy_mm_dd", "cftc_contract_market_code"),
    ),
)
