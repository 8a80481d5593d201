"""The par yield curve's release calendar: published each business day in the late afternoon (New York); the curve
for day D is due by 18:00 on the next business day. Refreshed on business-day evenings at 18:30."""

from __future__ import annotations

from datetime import date, datetime, time

import duckdb

from ingestion.calendar import is_business_day, next_business_day, previous_business_day
from ingestion.common.freshness import Freshness, at, latest_date
from ingestion.common.source import Refresh, released_on

# The curve for day D is posted on D at about 18:00 (design.md); a build earlier on D uses D-1's.
PUBLISHED_AT = time(18, 0)
DUE_AT = time(18, 0)


def deadline(curve_date: date) -> datetime:
    return at(next_business_day(curve_date, include=False), DUE_AT)


def curve_due(now: datetime) -> date:
    """The latest curve date that must be loaded by `now`."""
    day = previous_business_day(now.date(), include=True)
    while deadline(day) > now:
        day = previous_business_day(day)
    return day


def assess(con: duckdb.DuckDBPyConnection, now: datetime) -> Freshness:
    latest = latest_date(con, "raw_par_yield_curve.daily_par_yields", "curve_date")
    rule = "curve for business day D loaded by 18:00 New York on the next business day"
    return Freshness("par_yield_curve", now, latest, curve_due(now), rule)


REFRESH = Refresh(
    "par_yields_on_business_day_evenings",
    "30 18 * * 1-5",
    "Business-day evenings at 18:30, after the Treasury publishes the day's curve.",
    released_on(is_business_day, "{day} is a bond-market holiday: no curve is published"),
)
