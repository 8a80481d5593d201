"""The NY Fed's reference rates: SOFR for business day D comes out at about 08:00 on the next business day; due by
12:00 then. Refreshed on business-day mornings at 08:30."""

from __future__ import annotations

from datetime import date, datetime, time

import duckdb

from ingestion.calendar import is_business_day, next_business_day, previous_business_day
from ingestion.common.freshness import Freshness, at, latest_date
from ingestion.common.source import Refresh, published_through, released_on

# The reference rates for D come out at about 08:00 on the next business day (publication day effective_date + 1).
PUBLISHED_AT = time(8, 0)
# The repo and reverse repo operations of day D are done and their results out by 14:00 on D (the RRP closes at
# 13:15, the afternoon standing repo at 13:45).
OPERATION_RESULTS_AT = time(14, 0)


def sofr_due(now: datetime) -> date:
    """The latest business day whose SOFR must be loaded by `now` (noon on the next business day)."""
    day = previous_business_day(now.date(), include=True)
    while at(next_business_day(day, include=False), time(12, 0)) > now:
        day = previous_business_day(day)
    return day


def assess(con: duckdb.DuckDBPyConnection, now: datetime) -> Freshness:
    latest = latest_date(con, "raw_funding_rates.reference_rates", "effective_date", "type = 'SOFR'")
    rule = "SOFR for business day D loaded by 12:00 New York on the next business day (released about 08:00)"
    return Freshness("funding_rates", now, latest, sofr_due(now), rule)


def cutoffs(moment: datetime) -> dict[str, str]:
    return {"repo_operations_published_through": published_through(moment, OPERATION_RESULTS_AT).isoformat()}


REFRESH = Refresh(
    "funding_rates_on_business_day_mornings",
    "30 8 * * 1-5",
    "Business-day mornings at 08:30, after SOFR and the other reference rates for the day before (about 08:00).",
    released_on(is_business_day, "{day} is a bond-market holiday: no reference rates are published"),
)
