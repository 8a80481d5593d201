"""The sources, one line each: everything that iterates the sources reads this list.

A source is one folder, `ingestion/<name>/`, whose package declares `SOURCE` (ingestion/common/source.py): its dlt
source, its raw tables' expectations, its release calendar and its refresh schedule. Its SQL lives in
`dbt/models/staging/<name>/`, its synthetic endpoints in `emulator/<name>.py`. The order is the order of a build.
"""

from __future__ import annotations

from datetime import date, datetime
from importlib import import_module

from ingestion.common.expectations import RawTableSuite
from ingestion.common.source import Source
from ingestion.settings import END_OF_DAY, NEW_YORK

NAMES = (
    "treasury_auctions",
    "par_yield_curve",
    "cftc_tff",
    "tic_holdings",
    "primary_dealers",
    "funding_rates",
    "fed_custody",
    "treasury_debt",
    "fed_soma",
)

SOURCES: dict[str, Source] = {name: import_module(f"ingestion.{name}").SOURCE for name in NAMES}
# Every raw table's suite, by (source, table): the raw tables the warehouse holds.
SUITES: dict[tuple[str, str], RawTableSuite] = {
    (suite.source, suite.table): suite for source in SOURCES.values() for suite in source.suites
}


def source(name: str) -> Source:
    """The source called `name`, or an error that lists the sources."""
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(f"unknown source {name!r}; choose from {', '.join(NAMES)}") from None


def point_in_time_cutoffs(moment: datetime | date) -> dict[str, str]:
    """The last date of each kind a build at `moment` (New York) may contain: the dbt vars the staging models filter
    on. `as_of` is the build's day; each source's `<name>_published_through` is that day once the source's
    publication time has passed, else the day before (a curve published at 18:00 is not in a build at 10:23)."""
    if not isinstance(moment, datetime):  # a date: its end, everything published on it
        moment = datetime.combine(moment, END_OF_DAY, NEW_YORK)
    cutoffs = {"as_of": moment.date().isoformat()}
    for declared in SOURCES.values():
        cutoffs.update(declared.point_in_time_cutoffs(moment))
    return cutoffs
