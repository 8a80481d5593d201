"""The NY Fed's reference rates: SOFR for business day D comes out at about 08:00 on the next business day; due by
12:00 then. Refreshed on business-day mornings at 08:30."""

from __future__ import annotations

from datetime import date, datetime, time

import duckdb

from ingestion.calendar import is_business_day, next_business_day, previous_business_day
from ingestion.common.freshness import Freshness, at, latest_date
from ingestion.common.source import Refresh, released_on


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


REFRESH = Refresh(
    "funding_rates_on_business_day_mornings",
    "30 8 * * 1-5",
    "Business-day mornings at 08:30, after SOFR and the other reference rates for the day before (about 08:00).",
    released_on(is_business_day, "{day} is a bond-market holiday: no reference rates are published"),
)
