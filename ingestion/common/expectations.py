"""How a source declares the expectations on its raw tables: plain data the quality engine runs with Great Expectations.

Each raw table has one suite made of "views": a SQL query over the table (the columns to check, plus derived columns
such as an identity's other side) and the expectations on it. An expectation is named as Great Expectations names it
(`expect.ColumnValuesToBeBetween(column=..., min_value=...)` is GX's `ExpectColumnValuesToBeBetween`), so this module
needs no GX: the engine (dagster_project/quality/engine.py) turns the declarations into GX expectations, runs each
view's query in DuckDB and validates the result as a pandas batch. Each source keeps its suites in
`ingestion/<source>/expectations.py`.

The policy (README, "Checks"): an expectation blocks (GX severity `critical`, the default) only what would make a mart
wrong: keys, types and units, and the identities the marts rely on. A publication artefact (a curve or an auction on a
day the calendar calls closed, a report on another weekday, the CFTC's consolidated index rows that miss the
open-interest identity by a contract or two) is an expectation of severity `warning`: it fails the check as a warning,
with the rows named, and blocks nothing.

Why these rules:
- yields, rates and bid-to-cover have hard plausible ranges (TIPS real yields go below zero, 1981 bills went past
  16%); a value outside is a unit or parsing error, not a market move;
- bidder amounts add up to the competitive amount accepted (the marts' bidder shares rely on it), and TFF open
  interest equals the longs plus spreading (and the shorts plus spreading): exactly for the six Treasury futures the
  marts single out; for other contracts a miss is the CFTC's own rounding and warns;
- country lines plus "All Other" reproduce TIC's grand total within rounding (the dbt test uses the same tolerance);
- every CUSIP carries a valid check digit (a key);
- yields and auctions fall on SIFMA bond-market business days and TFF positions are as of Tuesdays (Monday when the
  Tuesday is a holiday): each date outside is a calendar quirk to look at, not wrong data, and warns; many (more than
  1%) are a systematic slip such as dates parsed a day off, and block;
- a merge-loaded table never loses rows: fewer rows than before the load is a broken load (TIC's current table is
  replaced by each publication, so it may shrink; its loader refuses a truncated publication instead).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ingestion.calendar import is_business_day
from ingestion.common.cusip import is_valid_cusip

if TYPE_CHECKING:  # pandas is imported only when a suite runs
    import pandas as pd

WARNING = "warning"  # GX severity of a publication artefact: reported with its rows, blocks nothing


@dataclass(frozen=True)
class Expectation:
    """One Great Expectations expectation, by its class name and arguments."""

    kind: str  # e.g. "ExpectColumnValuesToBeBetween"
    arguments: dict[str, Any] = field(default_factory=dict)


class _Expect:
    """`expect.ColumnValuesToBeBetween(column="x", max_value=1)` declares GX's ExpectColumnValuesToBeBetween."""

    def __getattr__(self, name: str) -> Callable[..., Expectation]:
        return lambda **arguments: Expectation(f"Expect{name}", arguments)


expect = _Expect()


@dataclass(frozen=True)
class View:
    """A query over one raw table and the expectations it must meet."""

    name: str
    sql: str  # `{table}` is replaced with the qualified raw table
    key: tuple[str, ...]  # the columns that name a record in the examples
    expectations: Callable[[list[str]], list[Expectation]]  # columns of the query result -> expectations
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


# --- helpers for derived columns --------------------------------------------------------------------


def flag_non_business_days(column: str, flag: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def derive(df: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        days = pd.to_datetime(df[column]).dt.date
        df[flag] = days.map(lambda d: d is None or pd.isna(d) or is_business_day(d))
        return df

    return derive


def flag_weekday(column: str, flag: str, weekday: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def derive(df: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        days = pd.to_datetime(df[column])
        df[flag] = days.isna() | (days.dt.weekday == weekday)
        return df

    return derive


def flag_cusips(df: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    df["cusip_check_digit_valid"] = df["cusip"].map(lambda c: c is None or pd.isna(c) or is_valid_cusip(c))
    return df


def chain(*steps: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def derive(df: pd.DataFrame) -> pd.DataFrame:
        for step in steps:
            df = step(df)
        return df

    return derive


def on_calendar(column: str, value_set: list, what: str, *, mostly: float) -> list[Expectation]:
    """A date column on its calendar: each row off it warns (a publication quirk, named); more than
    1 - `mostly` of the rows off it blocks (a systematic slip, such as dates parsed a day off, makes marts wrong)."""
    return [
        expect.ColumnValuesToBeInSet(
            column=column,
            value_set=value_set,
            mostly=mostly,
            description=f"{what}: at least {mostly:.0%} of rows (fewer is a systematic date slip)",
        ),
        expect.ColumnValuesToBeInSet(
            column=column,
            value_set=value_set,
            severity=WARNING,
            description=f"{what}: every row (a date outside is a calendar quirk to look at, not wrong data)",
        ),
    ]


def count_only(source: str, table: str, date_column: str, key: tuple[str, ...]) -> RawTableSuite:
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
                lambda columns: [expect.ColumnValuesToNotBeNull(column=c) for c in columns],
            ),
        ),
    )
