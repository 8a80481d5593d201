"""The NY Fed's primary dealer statistics: the week ended Wednesday W comes out on Thursday W+8 at about 16:15; due by
the end of Friday W+9. Refreshed on Thursdays at 16:45."""

from __future__ import annotations

from datetime import date, datetime, time

import duckdb

from ingestion.common.freshness import Freshness, latest_date, weekly_due
from ingestion.common.source import Refresh

# Thursday W+8 at about 16:15 (the staging model's publication day is asofdate + 8).
PUBLISHED_AT = time(16, 15)


def week_due(now: datetime) -> date:
    """The latest as-of Wednesday that must be loaded by `now` (released Thursday W+8, due end of Friday W+9)."""
    return weekly_due(now, 2, 10)


def assess(con: duckdb.DuckDBPyConnection, now: datetime) -> Freshness:
    latest = latest_date(con, "raw_primary_dealers.dealer_statistics", "asofdate", "keyid = 'PDPOSGST-TOT'")
    rule = "week ended Wednesday W loaded by the end of Friday W+9 (released Thursday W+8 at about 16:15)"
    return Freshness("primary_dealers", now, latest, week_due(now), rule)


REFRESH = Refresh(
    "primary_dealers_on_thursday_evenings",
    "45 16 * * 4",
    "Thursdays at 16:45, after the NY Fed publishes the previous week's dealer statistics (about 16:15).",
)
