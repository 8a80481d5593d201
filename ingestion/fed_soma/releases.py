"""The NY Fed's SOMA release calendar: the holdings as of Wednesday W are published on Thursday W+1 at about 16:30
(New York, with the H.4.1); due by the end of Friday W+2. Refreshed on Thursdays at 17:30."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import duckdb

from ingestion.common.freshness import Freshness, latest_date, weekly_due
from ingestion.common.source import Refresh, published_through

# Thursday W+1 at about 16:30, with the H.4.1.
PUBLISHED_AT = time(16, 30)


def week_due(now: datetime) -> date:
    """The latest Wednesday whose holdings must be loaded by `now` (end of the Friday after)."""
    return weekly_due(now, 2, 3)


def assess(con: duckdb.DuckDBPyConnection, now: datetime) -> Freshness:
    latest = latest_date(con, "raw_fed_soma.treasury_holdings", "as_of_date")
    rule = "holdings as of Wednesday W loaded by the end of Friday W+2 (published Thursday W+1 at about 16:30)"
    # A holiday Wednesday moves the as-of date to the Tuesday: one day earlier still counts.
    return Freshness("fed_soma", now, latest, week_due(now), rule, grace=timedelta(days=1))


def cutoffs(moment: datetime) -> dict[str, str]:
    """A build holds the weeks published by then: as-of dates before the last publication day (each comes out the
    day after, at 16:30)."""
    return {"soma_released_through": (published_through(moment, PUBLISHED_AT) - timedelta(days=1)).isoformat()}


REFRESH = Refresh(
    "fed_soma_on_thursday_evenings",
    "30 17 * * 4",
    "Thursdays at 17:30, after the NY Fed publishes the week's SOMA holdings (about 16:30).",
)
