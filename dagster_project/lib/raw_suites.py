"""Great Expectations 1.x suites for the raw tables: ranges, identities, identifiers and calendars.

Each raw table has one suite made of "views": a SQL query over the table (the columns to check, plus
derived columns such as an identity's other side) and the expectations on it. The query runs in
DuckDB, the result is validated by GX as a pandas batch, and every failed expectation reports how many
rows broke it with examples named by the record's key. Plain Python: the Dagster asset checks in
defs/quality call `validate`, and the tests call it directly.

The policy (README, "Checks"): an expectation blocks (GX severity `critical`, the default) only what would
make a mart wrong: keys, types and units, and the identities the marts rely on. A publication artefact
(a curve or an auction on a day the calendar calls closed, a report on another weekday, the CFTC's
consolidated index rows that miss the open-interest identity by a contract or two) is an expectation of
severity `warning`: it fails the check as a warning, with the rows named, and blocks nothing.

Why these rules:
- yields, rates and bid-to-cover have hard plausible ranges (TIPS real yields go below zero, 1981 bills
  went past 16%); a value outside is a unit or parsing error, not a market move;
- bidder amounts add up to the competitive amount accepted (the marts' bidder shares rely on it), and
  TFF open interest equals the longs plus spreading (and the shorts plus spreading): exactly for the
  six Treasury futures the marts single out; for other contracts a miss is the CFTC's own rounding
  (consolidated markets, codes ending in `+`, miss by 1 or 2 contracts in every published file) and warns;
- country lines plus "All Other" reproduce TIC's grand total within rounding (the dbt test uses the
  same tolerance);
- every CUSIP carries a valid check digit (a key);
- yields and auctions fall on SIFMA bond-market business days and TFF positions are as of Tuesdays (Monday when the Tuesday is a holiday):
  each date outside is a calendar quirk to look at, not wrong data, and warns; many (more than 1%) are a systematic slip such as dates parsed a day off, and block;
- a merge-loaded table never loses rows: fewer rows than before the load is a broken load (TIC's current
  table is replaced by each publication, so it may shrink, e.g. in a build as of an earlier date; its loader
  refuses a truncated publication instead).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import duckdb

from ingestion.calendar import federal_holidays, is_business_day
from ingestion.cftc_tff.fields import TREASURY_CONTRACTS
from ingestion.common.cusip import CUSIP_PATTERN, is_valid_cusip

if TYPE_CHECKING:  # pandas (with GX) is imported only when a suite runs: a build with nothing to validate skips it
    import pandas as pd

EXAMPLES = 20  # failing records named per expectation in the check's metadata
WARNING = "warning"  # GX severity of a publication artefact: reported with its rows, blocks nothing
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # before GX is first imported: no usage statistics sent


@dataclass(frozen=True)
class View:
    """A query over one raw table and the expectations it must meet."""

    name: str
    sql: str  # `{table}` is replaced with the qualified raw table
    key: tuple[str, ...]  # the columns that name a record in the examples
    expectations: Callable[[list[str]], list[Any]]  # columns of the query result -> GX expectations
    derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None


@dataclass(frozen=True)
class RawTableSuite:
    source: str
    table: str
    date_column: str  # the data's own date: shown as "latest date" and used by the freshness checks
    views: tuple[View, ...]
    # Merge-loaded tables never shrink; a table replaced by each complete publication (TIC's) may, and its loader
    # refuses a truncated publication itself.
    never_shrinks: bool = True

    @property
    def qualified(self) -> str:
        return f"raw_{self.source}.{self.table}"

    @property
    def name(self) -> str:
        return f"raw_{self.source}__{self.table}"


@dataclass
class ExpectationOutcome:
    view: str
    expectation: str
    columns: str
    success: bool
    rows_checked: int | None
    rows_failed: int | None
    observed: Any
    examples: list[dict[str, Any]]
    description: str | None
    blocking: bool = True
    key: tuple[str, ...] = ()  # the columns that name a record in `examples`

    def line(self) -> str:
        detail = (
            f"{self.rows_failed} of {self.rows_checked} rows"
            if self.rows_failed is not None
            else f"observed {self.observed}"
        )
        kind = "failed" if self.blocking else "warning"
        named = ", ".join(
            "/".join(str(v) for k, v in example.items() if k in self.key) or str(example)
            for example in self.examples[:10]
        )
        more = (self.rows_failed or 0) - min(len(self.examples), 10)
        return f"{self.view}: {self.expectation}({self.columns}) {kind}: {detail}" + (
            f": {named}{f' and {more} more' if more > 0 else ''}" if self.examples else ""
        )


@dataclass
class SuiteOutcome:
    suite: str
    rows: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """No blocking expectation failed (warnings may have)."""
        return not self.failed

    @property
    def failed(self) -> list[ExpectationOutcome]:
        """Blocking expectations that failed: the table must not reach the marts."""
        return [o for o in self.outcomes if not o.success and o.blocking]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        """Warning expectations that failed: publication artefacts, named, blocking nothing."""
        return [o for o in self.outcomes if not o.success and not o.blocking]


# --- helpers for derived columns --------------------------------------------------------------------


def _flag_non_business_days(column: str, flag: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def derive(df: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        days = pd.to_datetime(df[column]).dt.date
        df[flag] = days.map(lambda d: d is None or pd.isna(d) or is_business_day(d))
        return df

    return derive


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


def _flag_cusips(df: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    df["cusip_check_digit_valid"] = df["cusip"].map(lambda c: c is None or pd.isna(c) or is_valid_cusip(c))
    return df


def _chain(*steps: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def derive(df: pd.DataFrame) -> pd.DataFrame:
        for step in steps:
            df = step(df)
        return df

    return derive


def _on_calendar(column: str, value_set: list, what: str, *, mostly: float) -> list[Any]:
    """A date column on its calendar: each row off it warns (a publication quirk, named); more than
    1 - `mostly` of the rows off it blocks (a systematic slip, such as dates parsed a day off, makes marts wrong)."""
    gxe = _gxe()
    return [
        gxe.ExpectColumnValuesToBeInSet(
            column=column,
            value_set=value_set,
            mostly=mostly,
            description=f"{what}: at least {mostly:.0%} of rows (fewer is a systematic date slip)",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column=column,
            value_set=value_set,
            severity=WARNING,
            description=f"{what}: every row (a date outside is a calendar quirk to look at, not wrong data)",
        ),
    ]


# --- the suites -------------------------------------------------------------------------------------


def _gxe():
    import great_expectations.expectations as gxe

    return gxe


def _auction_expectations(columns: list[str]) -> list[Any]:
    gxe = _gxe()
    rate = "percent; TIPS real yields go below zero, 1981 bills went past 16%"
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="cusip"),
        gxe.ExpectColumnValuesToMatchRegex(column="cusip", regex=CUSIP_PATTERN.pattern),
        gxe.ExpectColumnValuesToBeInSet(
            column="cusip_check_digit_valid", value_set=[True], description="the 9th character is the check digit"
        ),
        *_on_calendar("auction_on_business_day", [True], "auctions are held on SIFMA business days", mostly=0.99),
        gxe.ExpectColumnValuesToBeInSet(column="security_type", value_set=["Bill", "Note", "Bond"]),
        gxe.ExpectColumnValuesToBeBetween(column="high_yield", min_value=-3, max_value=25, description=rate),
        gxe.ExpectColumnValuesToBeBetween(column="high_investment_rate", min_value=-1, max_value=25, description=rate),
        gxe.ExpectColumnValuesToBeBetween(column="high_discnt_rate", min_value=-1, max_value=25, description=rate),
        gxe.ExpectColumnValuesToBeBetween(
            column="bid_to_cover_ratio", min_value=1, max_value=10, description="tendered / accepted"
        ),
        *[
            gxe.ExpectColumnValuesToBeBetween(
                column=share, min_value=0, max_value=1, description="of competitive accepted"
            )
            for share in ("primary_dealer_share", "direct_bidder_share", "indirect_bidder_share")
        ],
        gxe.ExpectColumnValuesToBeBetween(
            column="bidder_identity_gap_usd",
            min_value=0,
            max_value=0,
            description="comp_accepted = primary dealer + direct + indirect accepted (exact where reported)",
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="issue_date", column_B="auction_date", or_equal=True, ignore_row_if="either_value_is_missing"
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="maturity_date", column_B="issue_date", ignore_row_if="either_value_is_missing"
        ),
    ]


AUCTIONS = RawTableSuite(
    "treasury_auctions",
    "auctions_query",
    "auction_date",
    (
        View(
            "auctions",
            """
            select
                cusip, auction_date, issue_date, maturity_date, security_type, security_term,
                high_yield, high_investment_rate, high_discnt_rate, bid_to_cover_ratio,
                primary_dealer_accepted / nullif(comp_accepted, 0) as primary_dealer_share,
                direct_bidder_accepted / nullif(comp_accepted, 0) as direct_bidder_share,
                indirect_bidder_accepted / nullif(comp_accepted, 0) as indirect_bidder_share,
                comp_accepted - (primary_dealer_accepted + direct_bidder_accepted + indirect_bidder_accepted)
                    as bidder_identity_gap_usd
            from {table}
            """,
            ("cusip", "auction_date"),
            _auction_expectations,
            _chain(_flag_cusips, _flag_non_business_days("auction_date", "auction_on_business_day")),
        ),
    ),
)

UPCOMING_AUCTIONS = RawTableSuite(
    "treasury_auctions",
    "upcoming_auctions",
    "auction_date",
    (
        View(
            "upcoming",
            "select cusip, auction_date, issue_date, security_type, security_term, offering_amt from {table}",
            ("cusip", "auction_date"),
            lambda columns: [
                _gxe().ExpectColumnValuesToMatchRegex(column="cusip", regex=CUSIP_PATTERN.pattern),
                _gxe().ExpectColumnValuesToBeInSet(column="cusip_check_digit_valid", value_set=[True]),
                *_on_calendar("auction_on_business_day", [True], "auctions fall on SIFMA business days", mostly=0.99),
                _gxe().ExpectColumnValuesToBeInSet(
                    column="security_type",
                    value_set=["Bill", "CMB", "Note", "Bond", "TIPS Note", "TIPS Bond", "FRN Note"],
                    severity=WARNING,
                    description="the calendar feeds freshness and schedules, not the marts: a new type is reported",
                ),
                _gxe().ExpectColumnValuesToBeBetween(column="offering_amt", min_value=0, strict_min=True),
            ],
            _chain(_flag_cusips, _flag_non_business_days("auction_date", "auction_on_business_day")),
        ),
    ),
)

PAR_YIELDS = RawTableSuite(
    "par_yield_curve",
    "daily_par_yields",
    "curve_date",
    (
        View(
            "par_yields",
            "select * exclude (_dlt_load_id) from {table}",
            ("curve_date",),
            lambda columns: [
                _gxe().ExpectColumnValuesToBeUnique(column="curve_date"),
                *_on_calendar(
                    "curve_date_on_business_day", [True], "curves are published on SIFMA business days", mostly=0.99
                ),
                *[
                    _gxe().ExpectColumnValuesToBeBetween(
                        column=c, min_value=-1, max_value=25, description="par yield, percent"
                    )
                    for c in columns
                    if c.startswith("bc_")
                ],
            ],
            _flag_non_business_days("curve_date", "curve_date_on_business_day"),
        ),
    ),
)

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


def _tff_identities(*, blocking: bool) -> list[Any]:
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
        _gxe().ExpectColumnPairValuesToBeEqual(
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
                _gxe().ExpectColumnValuesToBeBetween(
                    column="smallest_position", min_value=0, description="positions are contracts held, never negative"
                ),
                _gxe().ExpectColumnValuesToBeBetween(
                    column="largest_pct_of_open_interest",
                    min_value=0,
                    max_value=100,
                    description="a group's position as a percent of open interest",
                ),
                *_on_calendar(
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

TIC = RawTableSuite(
    "tic_holdings",
    "major_foreign_holders",
    "month_end",
    (
        View(
            "lines",
            """
            select month_end, country, is_comparison_series, row_type, holdings_bn,
                month_end = last_day(month_end) as is_month_end
            from {table}
            """,
            ("month_end", "country", "is_comparison_series"),
            lambda columns: [
                _gxe().ExpectColumnValuesToBeInSet(column="is_month_end", value_set=[True]),
                _gxe().ExpectColumnValuesToBeInSet(
                    column="row_type",
                    value_set=[
                        "country",
                        "all_other",
                        "grand_total",
                        "foreign_official",
                        "foreign_official_bills",
                        "foreign_official_bonds_notes",
                    ],
                ),
                _gxe().ExpectColumnValuesToBeBetween(
                    column="holdings_bn", min_value=0, max_value=20000, description="$bn held"
                ),
            ],
        ),
        View(
            "grand_total_identity",
            """
            select
                month_end,
                sum(holdings_bn) filter (where row_type in ('country', 'all_other')) as countries_and_other_bn,
                max(holdings_bn) filter (where row_type = 'grand_total') as grand_total_bn,
                abs(countries_and_other_bn - grand_total_bn)
                    - greatest(0.5, 0.05 * count(*) filter (where row_type = 'country')) as gap_beyond_rounding_bn
            from {table}
            where not is_comparison_series
            group by month_end
            """,
            ("month_end",),
            lambda columns: [
                _gxe().ExpectColumnValuesToBeBetween(
                    column="gap_beyond_rounding_bn",
                    max_value=0,
                    description="country lines + All Other = Grand Total, within max($0.5bn, $0.05bn per line)",
                ),
            ],
        ),
    ),
    never_shrinks=False,
)


# --- primary dealers, funding markets, FRED, federal debt ------------------------------------------------------


def _flag_weekday(column: str, flag: str, weekday: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def derive(df: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        days = pd.to_datetime(df[column])
        df[flag] = days.isna() | (days.dt.weekday == weekday)
        return df

    return derive


DEALER_STATISTICS = RawTableSuite(
    "primary_dealers",
    "dealer_statistics",
    "asofdate",
    (
        View(
            "weeks",
            "select keyid, asofdate, series_break, value from {table}",
            ("keyid", "asofdate"),
            lambda columns: [
                _gxe().ExpectCompoundColumnsToBeUnique(column_list=["keyid", "asofdate"]),
                *_on_calendar("as_of_wednesday", [True], "FR 2004 statistics are as of Wednesday", mostly=0.99),
                _gxe().ExpectColumnValuesToBeBetween(
                    column="value",
                    min_value=-2_000_000,
                    max_value=10_000_000,
                    description="$ millions (a net position or a financing total; $10 trillion is far beyond any)",
                ),
            ],
            _flag_weekday("asofdate", "as_of_wednesday", 2),
        ),
        View(
            "published_total",
            """
            select asofdate,
                max(value) filter (where keyid = 'PDPOSGST-TOT') as total_mn,
                sum(value) filter (where keyid = 'PDPOSGS-B' or keyid like 'PDPOSGSC-%') as bills_and_coupons_mn,
                abs(total_mn - bills_and_coupons_mn) as total_minus_parts_mn,
                count(*) filter (where keyid = 'PDPOSGST-TOT' and value is null) as total_suppressed
            from {table} where series_break = 'current' group by asofdate
            """,
            ("asofdate",),
            lambda columns: [
                _gxe().ExpectColumnValuesToBeBetween(
                    column="total_minus_parts_mn",
                    max_value=25_000,
                    severity=WARNING,
                    description="the published total exceeds bills + coupon buckets by $2.7-11.4bn in the NY Fed's "
                    "own data (it is loaded as published); a gap past $25bn is worth a look",
                ),
                _gxe().ExpectColumnValuesToBeInSet(
                    column="total_suppressed",
                    value_set=[0],
                    severity=WARNING,
                    description="the total is suppressed ('*') this week: the dealer component has no value",
                ),
            ],
        ),
    ),
)

_RATE_TYPES = ["SOFR", "BGCR", "TGCR", "EFFR", "OBFR"]
REFERENCE_RATES = RawTableSuite(
    "funding_rates",
    "reference_rates",
    "effective_date",
    (
        View(
            "rates",
            """
            select type, effective_date, percent_rate, percent_percentile1, percent_percentile99, volume_in_billions,
                percent_percentile1 <= percent_percentile99 as percentiles_ordered,
                percent_percentile25 <= percent_rate and percent_rate <= percent_percentile75 as rate_in_middle_half,
                target_rate_from, target_rate_to
            from {table}
            """,
            ("type", "effective_date"),
            lambda columns: [
                _gxe().ExpectCompoundColumnsToBeUnique(column_list=["type", "effective_date"]),
                _gxe().ExpectColumnValuesToBeInSet(column="type", value_set=_RATE_TYPES),
                *[
                    _gxe().ExpectColumnValuesToBeBetween(column=c, min_value=-1, max_value=25, description="percent")
                    for c in ("percent_rate", "percent_percentile1", "percent_percentile99")
                ],
                _gxe().ExpectColumnValuesToBeInSet(
                    column="percentiles_ordered",
                    value_set=[True],
                    description="1st percentile <= 99th (the funding spread would be negative)",
                ),
                _gxe().ExpectColumnValuesToBeInSet(
                    column="rate_in_middle_half",
                    value_set=[True],
                    severity=WARNING,
                    description="the rate (the volume-weighted median) sits between its 25th and 75th percentiles",
                ),
                _gxe().ExpectColumnValuesToBeBetween(
                    column="volume_in_billions", min_value=0, max_value=10_000, description="$ billions a day"
                ),
                _gxe().ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="target_rate_to", column_B="target_rate_from", ignore_row_if="either_value_is_missing"
                ),
            ],
        ),
        View(
            "secured_calendar",
            "select type, effective_date from {table} where type in ('SOFR', 'BGCR', 'TGCR')",
            ("type", "effective_date"),
            lambda columns: _on_calendar(
                "on_business_day", [True], "secured rates exist on SIFMA business days", mostly=0.99
            ),
            _flag_non_business_days("effective_date", "on_business_day"),
        ),
    ),
)

REPO_OPERATIONS = RawTableSuite(
    "funding_rates",
    "repo_operations",
    "operation_date",
    (
        View(
            "operations",
            """
            select o.operation_id, o.operation_date, o.operation_type, o.total_amt_submitted, o.total_amt_accepted,
                o.total_amt_accepted <= o.total_amt_submitted as accepted_within_submitted,
                coalesce(d.details_accepted, 0) - o.total_amt_accepted as details_minus_total_usd
            from {table} as o
            left join (
                select operation_id, sum(amt_accepted) as details_accepted
                from raw_funding_rates.repo_operation_details group by operation_id
            ) as d using (operation_id)
            """,
            ("operation_id",),
            lambda columns: [
                _gxe().ExpectColumnValuesToBeUnique(column="operation_id"),
                _gxe().ExpectColumnValuesToBeInSet(column="operation_type", value_set=["Repo", "Reverse Repo"]),
                _gxe().ExpectColumnValuesToBeBetween(
                    column="total_amt_accepted", min_value=0, max_value=5e12, description="whole dollars"
                ),
                _gxe().ExpectColumnValuesToBeInSet(
                    column="accepted_within_submitted",
                    value_set=[True],
                    severity=WARNING,
                    description="an operation accepts no more than was submitted",
                ),
                _gxe().ExpectColumnValuesToBeBetween(
                    column="details_minus_total_usd",
                    min_value=0,
                    max_value=0,
                    severity=WARNING,
                    description="the details add up to the operation's total (the NY Fed's small value exercises "
                    "publish a zero total beside non-zero details); the marts read the total",
                ),
            ],
        ),
    ),
)

REPO_DETAILS = RawTableSuite(
    "funding_rates",
    "repo_operation_details",
    "operation_date",
    (
        View(
            "details",
            "select * exclude (_dlt_load_id) from {table}",
            ("operation_id", "security_type"),
            lambda columns: [
                _gxe().ExpectCompoundColumnsToBeUnique(column_list=["operation_id", "security_type"]),
                _gxe().ExpectColumnValuesToBeInSet(
                    column="security_type",
                    value_set=["Treasury", "Agency", "Mortgage-Backed"],
                    severity=WARNING,
                    description="a new collateral type is reported; the marts read operation totals",
                ),
                _gxe().ExpectColumnValuesToBeBetween(column="amt_accepted", min_value=0, description="whole dollars"),
                *[
                    _gxe().ExpectColumnValuesToBeBetween(column=c, min_value=-1, max_value=25, description="percent")
                    for c in columns
                    if c.startswith("percent_") or c == "minimum_bid_rate"
                ],
            ],
        ),
    ),
)

REPO_PROPOSITIONS = RawTableSuite(
    "funding_rates",
    "repo_operation_propositions",
    "operation_date",
    (
        View(
            "propositions",
            "select operation_id, counterparty_type, amt_accepted from {table}",
            ("operation_id", "counterparty_type"),
            lambda columns: [
                _gxe().ExpectCompoundColumnsToBeUnique(column_list=["operation_id", "counterparty_type"]),
                _gxe().ExpectColumnValuesToBeInSet(
                    column="counterparty_type",
                    value_set=["bank", "gse", "mmf", "pd"],
                    severity=WARNING,
                    description="a new counterparty type is reported",
                ),
                _gxe().ExpectColumnValuesToBeBetween(column="amt_accepted", min_value=0, description="whole dollars"),
            ],
        ),
    ),
)

FRED_OBSERVATIONS = RawTableSuite(
    "fed_custody",
    "observations",
    "observation_date",
    (
        View(
            "observations",
            """
            select series_id, observation_date, value,
                case series_id when 'WMTSECL1' then value between 0 and 20000000
                               when 'IORB' then value between -1 and 25 else true end as value_in_unit_range
            from {table}
            """,
            ("series_id", "observation_date"),
            lambda columns: [
                _gxe().ExpectCompoundColumnsToBeUnique(column_list=["series_id", "observation_date"]),
                _gxe().ExpectColumnValuesToBeInSet(
                    column="value_in_unit_range",
                    value_set=[True],
                    description="WMTSECL1 in $ millions (0-20 million), IORB in percent (-1 to 25)",
                ),
            ],
        ),
        View(
            "custody_wednesdays",
            "select series_id, observation_date from {table} where series_id = 'WMTSECL1'",
            ("series_id", "observation_date"),
            lambda columns: _on_calendar(
                "on_wednesday", [True], "H.4.1 custody holdings are Wednesday levels", mostly=0.99
            ),
            _flag_weekday("observation_date", "on_wednesday", 2),
        ),
    ),
)

DEBT_TO_THE_PENNY = RawTableSuite(
    "treasury_debt",
    "debt_to_the_penny",
    "record_date",
    (
        View(
            "days",
            """
            select record_date, debt_held_public_amt, intragov_hold_amt, tot_pub_debt_out_amt,
                abs(debt_held_public_amt + intragov_hold_amt - tot_pub_debt_out_amt) as identity_gap_usd
            from {table}
            """,
            ("record_date",),
            lambda columns: [
                _gxe().ExpectColumnValuesToBeUnique(column="record_date"),
                _gxe().ExpectColumnValuesToBeBetween(
                    column="tot_pub_debt_out_amt",
                    min_value=1e12,
                    max_value=1e14,
                    description="dollars ($1-100 trillion: a figure in millions or billions is a unit error)",
                ),
                _gxe().ExpectColumnValuesToBeBetween(
                    column="identity_gap_usd",
                    max_value=0.01,
                    severity=WARNING,
                    description="debt held by the public + intragovernmental holdings = total, to the cent",
                ),
                # A gap past rounding is what the publisher printed (2025-08-04 misses by exactly $10bn in the
                # FiscalData history): fct_debt_outstanding_daily carries the gap as a column and reads each figure
                # as published, so the mart is not wrong. It warns with the days named; units are guarded above
                # and below.
                _gxe().ExpectColumnValuesToBeBetween(
                    column="identity_gap_usd",
                    max_value=10_000_000,
                    severity=WARNING,
                    description="a gap past $10 million is not rounding: a misprint by the publisher (the mart "
                    "carries it as identity_gap_usd) or a misread field",
                ),
                *(
                    _gxe().ExpectColumnValuesToBeBetween(
                        column=part,
                        min_value=0,
                        max_value=1e14,
                        description="dollars, below $100 trillion: a figure in another unit is a parse error",
                    )
                    for part in ("debt_held_public_amt", "intragov_hold_amt")
                ),
            ],
        ),
    ),
)

MSPD_TABLE_1 = RawTableSuite(
    "treasury_debt",
    "mspd_table_1",
    "record_date",
    (
        # The first view is row by row: the never-shrinks count compares it with the rows before the load.
        View(
            "rows",
            """
            select record_date, security_type_desc, security_class_desc,
                record_date = last_day(record_date) as is_month_end,
                abs(debt_held_public_mil_amt + intragov_hold_mil_amt - total_mil_amt) as row_gap_mn
            from {table}
            """,
            ("record_date", "security_type_desc", "security_class_desc"),
            lambda columns: [
                _gxe().ExpectColumnValuesToBeInSet(column="is_month_end", value_set=[True]),
                _gxe().ExpectColumnValuesToBeBetween(
                    column="row_gap_mn",
                    max_value=3,
                    severity=WARNING,
                    description="held by the public + intragovernmental = total on each row: MSPD rounds each "
                    "figure on its own, so they miss by up to $2 million; more is worth a look",
                ),
            ],
        ),
        View(
            "months",
            """
            select record_date,
                count(*) filter (where security_type_desc = 'Total Marketable') as total_marketable_rows,
                max(total_mil_amt) filter (where security_type_desc = 'Total Marketable') as total_marketable_mn,
                abs(sum(total_mil_amt) filter (where security_type_desc = 'Marketable')
                    - max(total_mil_amt) filter (where security_type_desc = 'Total Marketable'))
                    as marketable_classes_gap_mn
            from {table} group by record_date
            """,
            ("record_date",),
            lambda columns: [
                _gxe().ExpectColumnValuesToBeInSet(
                    column="total_marketable_rows",
                    value_set=[1],
                    description="one 'Total Marketable' row a month (the foreign share's denominator)",
                ),
                _gxe().ExpectColumnValuesToBeBetween(
                    column="total_marketable_mn",
                    min_value=100_000,
                    max_value=100_000_000,
                    description="$ millions ($100bn-$100 trillion): a figure in dollars or billions is a unit error",
                ),
                _gxe().ExpectColumnValuesToBeBetween(
                    column="marketable_classes_gap_mn",
                    max_value=3,
                    severity=WARNING,
                    description="the marketable classes add up to Total Marketable: MSPD's own rounding misses by "
                    "up to $2 million; more is worth a look",
                ),
                # fct_marketable_debt_monthly reads Total Marketable and Bills as published, never the sum of the
                # classes: a class that misses by more than rounding is worth a look, not a wrong mart.
                _gxe().ExpectColumnValuesToBeBetween(
                    column="marketable_classes_gap_mn",
                    max_value=1_000,
                    severity=WARNING,
                    description="a gap past $1bn is not rounding: a class misprinted, misread or in another unit "
                    "(the mart reads Total Marketable as published)",
                ),
            ],
        ),
    ),
)


def _count_only(source: str, table: str, date_column: str, key: tuple[str, ...]) -> RawTableSuite:
    """Vintage tables: every version ever published; checked for lost rows and keys only."""
    return RawTableSuite(
        source,
        table,
        date_column,
        (
            View(
                "versions",
                f"select {', '.join(key)}, row_hash from {{table}}",
                key,
                lambda columns: [_gxe().ExpectColumnValuesToNotBeNull(column=c) for c in columns],
            ),
        ),
    )


SUITES: dict[tuple[str, str], RawTableSuite] = {
    (s.source, s.table): s
    for s in (
        AUCTIONS,
        UPCOMING_AUCTIONS,
        PAR_YIELDS,
        TFF,
        _count_only(
            "cftc_tff",
            "tff_futures_only_vintages",
            "report_date_as_yyyy_mm_dd",
            ("report_date_as_yyyy_mm_dd", "cftc_contract_market_code"),
        ),
        TIC,
        _count_only(
            "tic_holdings",
            "major_foreign_holders_vintages",
            "month_end",
            ("month_end", "country", "is_comparison_series"),
        ),
        DEALER_STATISTICS,
        REFERENCE_RATES,
        REPO_OPERATIONS,
        REPO_DETAILS,
        REPO_PROPOSITIONS,
        FRED_OBSERVATIONS,
        DEBT_TO_THE_PENNY,
        MSPD_TABLE_1,
    )
}


# --- running a suite --------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):  # DuckDB dates arrive in pandas as midnight timestamps
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, float) and value != value:
        return None  # NaN is not JSON
    return value


@cache
def _context():
    """One ephemeral GX context per process (each one makes a temporary docs folder)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def validate(con: duckdb.DuckDBPyConnection, suite: RawTableSuite, previous_rows: int | None = None) -> SuiteOutcome:
    """Run the suite against the raw table open on `con`. `previous_rows` is the row count before this load."""
    import great_expectations as gx
    from great_expectations.expectations.metadata_types import FailureSeverity

    context = _context()
    with suppress(KeyError, ValueError):
        context.data_sources.delete(suite.name)
    datasource = context.data_sources.add_pandas(suite.name)
    rows = con.execute(f"select count(*) from {suite.qualified}").fetchone()[0]
    outcome = SuiteOutcome(suite.name, rows)
    for index, view in enumerate(suite.views):
        frame = con.execute(view.sql.format(table=suite.qualified)).df()
        if view.derive:
            frame = view.derive(frame)
        expectation_suite = gx.ExpectationSuite(name=f"{suite.name}.{view.name}")
        expectations = view.expectations(list(frame.columns))
        if index == 0 and previous_rows and suite.never_shrinks:
            expectations.append(
                _gxe().ExpectTableRowCountToBeBetween(
                    min_value=previous_rows, description="a merge load never loses rows: no fewer than before this load"
                )
            )
        for expectation in expectations:
            expectation_suite.add_expectation(expectation)
        batch = (
            datasource.add_dataframe_asset(view.name)
            .add_batch_definition_whole_dataframe("whole_table")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        result = batch.validate(
            expectation_suite,
            result_format={
                "result_format": "SUMMARY",
                "partial_unexpected_count": EXAMPLES,
                "unexpected_index_column_names": list(view.key),
            },
        )
        for r in result.results:
            config = r.expectation_config
            kwargs = config.kwargs
            columns = kwargs.get("column") or ",".join(str(kwargs[k]) for k in ("column_A", "column_B") if k in kwargs)
            details = r.result or {}
            outcome.outcomes.append(
                ExpectationOutcome(
                    view=view.name,
                    expectation=config.type,
                    columns=columns or "table",
                    success=bool(r.success),
                    rows_checked=details.get("element_count"),
                    rows_failed=details.get("unexpected_count"),
                    observed=_jsonable(details.get("observed_value")),
                    examples=_jsonable(details.get("partial_unexpected_index_list") or []),
                    description=config.description,
                    blocking=config.severity != FailureSeverity.WARNING,
                    key=view.key,
                )
            )
    return outcome
