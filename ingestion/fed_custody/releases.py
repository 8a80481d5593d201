"""FRED's custody series (WMTSECL1): Wednesday W's level comes out with the H.4.1 on Thursday W+1 at 16:30 and reaches
FRED soon after; due by the end of Friday W+2. Refreshed on Thursdays at 18:00."""

from __future__ import annotations

from datetime import date, datetime, time

import duckdb

from ingestion.common.freshness import Freshness, latest_date, weekly_due
from ingestion.common.source import Refresh

# The H.4.1 comes out on Thursdays at 16:30.
PUBLISHED_AT = time(16, 30)


def week_due(now: datetime) -> date:
    """The latest Wednesday whose custody level must be loaded by `now` (end of the Friday after)."""
    return weekly_due(now, 2, 3)


def _loaded_series(con: duckdb.DuckDBPyConnection) -> list[str]:
    try:
        rows = con.execute("select distinct series_id from raw_fed_custody.observations order by 1").fetchall()
    except duckdb.CatalogException:
        return []
    return [series for (series,) in rows]


def assess(con: duckdb.DuckDBPyConnection, now: datetime) -> Freshness:
    latest = latest_date(con, "raw_fed_custody.observations", "observation_date", "series_id = 'WMTSECL1'")
    rule = "WMTSECL1 for Wednesday W loaded by the end of Friday W+2 (H.4.1 on Thursday W+1)"
    if latest is None:
        # A configured subset without WMTSECL1 (SOURCES__FED_CUSTODY__SERIES_IDS='["IORB"]'): judge the series
        # loaded, each at least weekly, by the same deadline.
        series = _loaded_series(con)
        if series:
            latest = latest_date(con, "raw_fed_custody.observations", "observation_date")
            rule = f"the configured series ({', '.join(series)}) loaded through Wednesday W by the end of Friday W+2"
    return Freshness("fed_custody", now, latest, week_due(now), rule)


REFRESH = Refresh(
    "fed_custody_on_h41_evenings",
    "0 18 * * 4",
    "Thursdays at 18:00, after the H.4.1 (16:30) and FRED's update of the custody holdings.",
)
