"""TIC's release calendar: month M is released around the 18th of month M+2 (the dbt models use the same day); it is
due one month after that, by the end of the 18th of month M+3. A build as of a date holds the months released by then
(`tic_released_through`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import duckdb
from dateutil.relativedelta import relativedelta

from ingestion.calendar import is_business_day
from ingestion.common.freshness import Freshness, at, latest_date
from ingestion.common.source import Refresh, published_through, released_on

RELEASE_DAY = 18
# TIC releases at 16:00 New York.
PUBLISHED_AT = time(16, 0)


def expected_release(month_end: date) -> date:
    """When TIC publishes month M, by convention: the 18th of month M+2 (the real release falls around the 15th to
    the 18th; the emulator publishes on the next business day on or after this date)."""
    return (month_end.replace(day=1) + relativedelta(months=2)).replace(day=RELEASE_DAY)


def latest_month_released(as_of: date) -> date:
    """The latest month (its month-end date) TIC had published by `as_of`."""
    month_end = as_of.replace(day=1) - timedelta(days=1)
    while expected_release(month_end) > as_of:
        month_end = month_end.replace(day=1) - timedelta(days=1)
    return month_end


def deadline(month_end: date) -> datetime:
    return at(expected_release(month_end) + relativedelta(months=1) + timedelta(days=1))


def month_due(now: datetime) -> date:
    """The latest month (as its month-end date) that must be loaded by `now`."""
    month_end = now.date().replace(day=1) - timedelta(days=1)
    while deadline(month_end) > now:
        month_end = month_end.replace(day=1) - timedelta(days=1)
    return month_end


def is_release_window(day: date) -> bool:
    """Business days from the 15th to the 21st: TIC's release falls in that window every month."""
    return is_business_day(day) and 15 <= day.day <= 21


def assess(con: duckdb.DuckDBPyConnection, now: datetime) -> Freshness:
    latest = latest_date(con, "raw_tic_holdings.major_foreign_holders", "month_end")
    rule = "month M loaded by the end of the 18th of month M+3 (one month after its expected release)"
    return Freshness("tic_holdings", now, latest, month_due(now), rule)


def cutoffs(moment: datetime) -> dict[str, str]:
    return {"tic_released_through": latest_month_released(published_through(moment, PUBLISHED_AT)).isoformat()}


REFRESH = Refresh(
    "tic_around_monthly_release",
    "30 16 15-21 * *",
    "16:30 on business days from the 15th to the 21st, the window of TIC's monthly release.",
    released_on(is_release_window, "{day} is not a business day in TIC's release window"),
)
