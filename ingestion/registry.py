"""The sources, one line each: everything that iterates the sources reads this list.

A source is one folder, `ingestion/<name>/`, whose package declares `SOURCE` (ingestion/common/source.py): its dlt
source, its raw tables' expectations, its release calendar and its refresh schedule. Its SQL lives in
`dbt/models/staging/<name>/`, its synthetic endpoints in `emulator/<name>.py`. The order is the order of a build.
"""

from __future__ import annotations

from datetime import date
from importlib import import_module

from ingestion.common.expectations import RawTableSuite
from ingestion.common.source import Source

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


def point_in_time_cutoffs(as_of: date) -> dict[str, str]:
    """The last date of each kind a build as of `as_of` may contain (the dbt vars the staging models filter on)."""
    cutoffs = {"as_of": as_of.isoformat()}
    for declared in SOURCES.values():
        cutoffs.update(declared.cutoffs(as_of))
    return cutoffs
