"""The CFTC's TFF release calendar: Tuesday positions are released on Friday at 15:30; a federal holiday in that week
moves the release to the next federal working day (normally the Monday after). Due by the end of the day after release
(Saturday for a Friday release). A build as of a date holds the reports released by then (`cftc_released_through`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import duckdb

from ingestion.calendar import federal_holidays
from ingestion.common.freshness import Freshness, at, latest_date
from ingestion.common.source import Refresh, published_through, released_on

# A report comes out at 15:30 on its release day: a build earlier that day holds the week before.
PUBLISHED_AT = time(15, 30)


def release_date(report_tuesday: date) -> date:
    """Release day of the TFF report for positions as of `report_tuesday`: the Friday after, or, when a federal
    holiday falls in that week, the next federal working day after the Friday (normally the Monday)."""
    monday = report_tuesday - timedelta(days=report_tuesday.weekday())
    friday = monday + timedelta(days=4)
    week = {monday + timedelta(days=i) for i in range(5)}
    if week & (federal_holidays(monday.year) | federal_holidays(friday.year)):
        day = friday + timedelta(days=1)
        while day.weekday() >= 5 or day in federal_holidays(day.year):
            day += timedelta(days=1)
        return day
    return friday


def latest_report_released(as_of: date) -> date:
    """The latest report Tuesday whose release day is on or before `as_of` (end of day)."""
    tuesday = as_of - timedelta(days=(as_of.weekday() - 1) % 7)
    while release_date(tuesday) > as_of:
        tuesday -= timedelta(days=7)
    return tuesday


def deadline(report_tuesday: date) -> datetime:
    return at(release_date(report_tuesday) + timedelta(days=2))


def report_due(now: datetime) -> date:
    """The latest report Tuesday that must be loaded by `now`."""
    tuesday = now.date() - timedelta(days=(now.date().weekday() - 1) % 7)
    while deadline(tuesday) > now:
        tuesday -= timedelta(days=7)
    return tuesday


def is_release_day(day: date) -> bool:
    """True on the day a TFF report comes out (the schedule refreshes CFTC that evening)."""
    last_tuesday = day - timedelta(days=(day.weekday() - 1) % 7)
    return any(release_date(last_tuesday - timedelta(days=7 * k)) == day for k in range(2))


def assess(con: duckdb.DuckDBPyConnection, now: datetime) -> Freshness:
    latest = latest_date(con, "raw_cftc_tff.tff_futures_only", "report_date_as_yyyy_mm_dd")
    rule = "Tuesday report loaded by the end of the day after its release (Friday, later after a federal holiday)"
    # A holiday Tuesday moves the as-of date to the Monday: one day earlier still counts.
    return Freshness("cftc_tff", now, latest, report_due(now), rule, grace=timedelta(days=1))


def cutoffs(moment: datetime) -> dict[str, str]:
    return {"cftc_released_through": latest_report_released(published_through(moment, PUBLISHED_AT)).isoformat()}


REFRESH = Refresh(
    "cftc_on_release_evenings",
    "0 17 * * 1-5",
    "17:00 on release days: Fridays, or the next business day after a week with a federal holiday.",
    released_on(is_release_day, "the CFTC releases no TFF report on {day}"),
)
