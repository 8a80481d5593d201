"""Great Expectations 1.x suites for the raw tables: ranges, identities, identifiers and calendars.

Each raw table has one suite made of "views": a SQL query over the table (the columns to check, plus
derived columns such as an identity's other side) and the expectations on it. The query runs in
DuckDB, the result is validated by GX as a pandas batch, and every failed expectation reports how many
rows broke it with examples named by the record's key. Plain Python: the Dagster asset checks in
defs/quality call `validate`, and the tests call it directly.

Why these rules:
- yields, rates and bid-to-cover have hard plausible ranges (TIPS real yields go below zero, 1981 bills
  went past 16%); a value outside is a unit or parsing error, not a market move;
- bidder amounts add up to the competitive amount accepted, and TFF open interest equals the longs
  plus spreading (and the shorts plus spreading), exactly, in the published data;
- country lines plus "All Other" reproduce TIC's grand total within rounding (the dbt test uses the
  same tolerance);
- every CUSIP carries a valid check digit; yields and auctions fall on bond-market business days;
  TFF positions are as of Tuesdays (a holiday moves a few to Monday, so "mostly");
- a merge-loaded table never loses rows: fewer rows than before the load is a broken load.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

import duckdb
import pandas as pd

from ingestion.calendar import is_business_day
from ingestion.common.cusip import CUSIP_PATTERN, is_valid_cusip

EXAMPLES = 5  # failing records listed per expectation in the check's metadata
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

    def line(self) -> str:
        detail = (
            f"{self.rows_failed} of {self.rows_checked} rows"
            if self.rows_failed is not None
            else f"observed {self.observed}"
        )
        return f"{self.view}: {self.expectation}({self.columns}) failed: {detail}" + (
            f"; e.g. {self.examples[:3]}" if self.examples else ""
        )


@dataclass
class SuiteOutcome:
    suite: str
    rows: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


# --- helpers for derived columns --------------------------------------------------------------------


def _flag_non_business_days(column: str, flag: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def derive(df: pd.DataFrame) -> pd.DataFrame:
        days = pd.to_datetime(df[column]).dt.date
        df[flag] = days.map(lambda d: d is None or pd.isna(d) or is_business_day(d))
        return df

    return derive


def _flag_cusips(df: pd.DataFrame) -> pd.DataFrame:
    df["cusip_check_digit_valid"] = df["cusip"].map(lambda c: c is None or pd.isna(c) or is_valid_cusip(c))
    return df


def _chain(*steps: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def derive(df: pd.DataFrame) -> pd.DataFrame:
        for step in steps:
            df = step(df)
        return df

    return derive


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
        gxe.ExpectColumnValuesToBeInSet(
            column="auction_on_business_day", value_set=[True], description="auctions are held on business days"
        ),
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
                _gxe().ExpectColumnValuesToBeInSet(column="auction_on_business_day", value_set=[True]),
                _gxe().ExpectColumnValuesToBeInSet(
                    column="security_type",
                    value_set=["Bill", "CMB", "Note", "Bond", "TIPS Note", "TIPS Bond", "FRN Note"],
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
                # The Treasury has published on a handful of early-close Good Fridays: allow 0.1%.
                _gxe().ExpectColumnValuesToBeInSet(
                    column="curve_date_on_business_day",
                    value_set=[True],
                    mostly=0.999,
                    description="the curve is published on bond-market business days",
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

TFF = RawTableSuite(
    "cftc_tff",
    "tff_futures_only",
    "report_date_as_yyyy_mm_dd",
    (
        View(
            "positions",
            f"""
            select
                report_date_as_yyyy_mm_dd as report_date,
                cftc_contract_market_code,
                dayname(report_date_as_yyyy_mm_dd) as report_weekday,
                open_interest_all,
                {" + ".join(_LONGS + _SPREADS)} as longs_plus_spreading,
                {" + ".join(_SHORTS + _SPREADS)} as shorts_plus_spreading,
                least({", ".join(_LONGS + _SHORTS + _SPREADS)}) as smallest_position,
                greatest(pct_of_oi_dealer_long_all, pct_of_oi_asset_mgr_long, pct_of_oi_lev_money_long,
                    pct_of_oi_other_rept_long, pct_of_oi_nonrept_long_all, pct_of_oi_dealer_short_all,
                    pct_of_oi_asset_mgr_short, pct_of_oi_lev_money_short, pct_of_oi_other_rept_short,
                    pct_of_oi_nonrept_short_all) as largest_pct_of_open_interest
            from {{table}}
            """,
            ("report_date", "cftc_contract_market_code"),
            lambda columns: [
                _gxe().ExpectColumnPairValuesToBeEqual(
                    column_A="open_interest_all",
                    column_B="longs_plus_spreading",
                    description="open interest = all longs (reportable and not) + all spreading",
                ),
                _gxe().ExpectColumnPairValuesToBeEqual(
                    column_A="open_interest_all",
                    column_B="shorts_plus_spreading",
                    description="open interest = all shorts (reportable and not) + all spreading",
                ),
                _gxe().ExpectColumnValuesToBeBetween(column="smallest_position", min_value=0),
                _gxe().ExpectColumnValuesToBeBetween(column="largest_pct_of_open_interest", min_value=0, max_value=100),
                _gxe().ExpectColumnValuesToBeInSet(
                    column="report_weekday",
                    value_set=["Tuesday"],
                    mostly=0.97,
                    description="positions are as of Tuesday; a holiday moves a few reports to another day",
                ),
            ],
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
    )
}


# --- running a suite --------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
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
        if index == 0 and previous_rows:
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
                )
            )
    return outcome
