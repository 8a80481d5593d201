"""FiscalData's federal debt releases: Debt to the Penny for day D comes out on the next federal business day and is
due by the end of the business day after; the Monthly Statement of the Public Debt (MSPD) for month M comes out on the
fourth business day of M+1 and is due by the end of the fifth. A build as of a date holds the MSPD months released by
then (`mspd_released_through`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import duckdb

from ingestion.calendar import federal_holidays, next_business_day
from ingestion.common.freshness import Freshness, at, latest_date
from ingestion.common.source import Refresh, published_through, released_on

# Debt to the Penny and the MSPD come out in the afternoon; 15:00 New York holds both back until then.
PUBLISHED_AT = time(15, 0)


def mspd_release_date(month_end: date) -> date:
    """The Monthly Statement of the Public Debt for month M comes out on the fourth business day of month M+1."""
    day = month_end + timedelta(days=1)
    for _ in range(3):
        day = next_business_day(day, include=True) + timedelta(days=1)
    return next_business_day(day, include=True)


def latest_mspd_month_released(as_of: date) -> date:
    """The latest month (its month-end date) whose MSPD was out by `as_of` (end of day)."""
    month_end = as_of.replace(day=1) - timedelta(days=1)
    while mspd_release_date(month_end) > as_of:
        month_end = month_end.replace(day=1) - timedelta(days=1)
    return month_end


def is_federal_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def _next_federal_business_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_federal_business_day(day):
        day += timedelta(days=1)
    return day


def debt_day_due(now: datetime) -> date:
    """The latest federal business day whose Debt to the Penny must be loaded by `now`: day D is released on the
    next federal business day and due by the end of the business day after that."""
    day = now.date()
    while not is_federal_business_day(day) or (
        at(_next_federal_business_day(_next_federal_business_day(day)) + timedelta(days=1)) > now
    ):
        day -= timedelta(days=1)
    return day


def mspd_month_due(now: datetime) -> date:
    """The latest month (month-end date) whose MSPD must be loaded by `now` (end of its fifth business day)."""
    month_end = now.date().replace(day=1) - timedelta(days=1)
    while at(next_business_day(mspd_release_date(month_end), include=False) + timedelta(days=1)) > now:
        month_end = month_end.replace(day=1) - timedelta(days=1)
    return month_end


def assess(con: duckdb.DuckDBPyConnection, now: datetime) -> Freshness:
    latest = latest_date(con, "raw_treasury_debt.debt_to_the_penny", "record_date")
    month = latest_date(con, "raw_treasury_debt.mspd_table_1", "record_date")
    due_month = mspd_month_due(now)
    missing = [] if month is not None and month >= due_month else [f"MSPD {due_month:%B %Y}"]
    rule = (
        "Debt to the Penny for day D loaded by the end of the next federal business day after its release; "
        "MSPD for month M by the end of its fifth business day"
    )
    return Freshness("treasury_debt", now, latest, debt_day_due(now), rule, missing)


def cutoffs(moment: datetime) -> dict[str, str]:
    return {"mspd_released_through": latest_mspd_month_released(published_through(moment, PUBLISHED_AT)).isoformat()}


REFRESH = Refresh(
    "treasury_debt_on_federal_business_days",
    "0 16 * * 1-5",
    "Federal business days at 16:00: Debt to the Penny for the day before, and the MSPD on its fourth business day.",
    released_on(is_federal_business_day, "{day} is a federal holiday: FiscalData publishes no Debt to the Penny"),
)
