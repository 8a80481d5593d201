"""The calendars the sources publish on: SIFMA's US bond market and the federal holidays (each source's release days
are in its own `releases.py`).

Business days are SIFMA's US bond-market calendar as `pandas_market_calendars` maintains it (`SIFMAUS`),
not a rule of thumb. SIFMA decides year by year: it recommended an early close, not a full close, on
Good Friday in 2021, 2023 and 2026 (the Treasury published a par curve on 2023-04-07), and when a
holiday falls on a Saturday the bond market does not always close the Friday before (Friday
2023-11-10 had a curve; so did 10 November 1995, 2000, 2006 and 2017). Early-close days are business
days. The emulator, the Great Expectations suites, the freshness checks and the schedules all ask
this module, so they agree with each other and with the published data.

Federal holidays (pandas' `USFederalHolidayCalendar`: Saturday observed on Friday, Sunday on Monday)
are a separate calendar: they move the CFTC's Friday release, and Good Friday is not one of them.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

# The calendars are computed once for this span (the auction history starts in 1979).
FIRST_YEAR, LAST_YEAR = 1970, 2060


@cache
def _bond_market_days() -> frozenset[date]:
    # Imported here: pandas_market_calendars costs a second or more to import, and most commands never ask.
    import pandas_market_calendars as mcal

    days = mcal.get_calendar("SIFMAUS").valid_days(f"{FIRST_YEAR}-01-01", f"{LAST_YEAR}-12-31")
    return frozenset(d.date() for d in days)


@cache
def _federal_holidays() -> frozenset[date]:
    from pandas.tseries.holiday import USFederalHolidayCalendar

    days = USFederalHolidayCalendar().holidays(f"{FIRST_YEAR}-01-01", f"{LAST_YEAR}-12-31")
    return frozenset(d.date() for d in days)


def _check_span(day: date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{day} is outside the calendar span {FIRST_YEAR}..{LAST_YEAR}")


def is_business_day(day: date) -> bool:
    """A SIFMA US bond-market business day (early closes included)."""
    _check_span(day)
    return day in _bond_market_days()


@cache
def holidays(year: int) -> frozenset[date]:
    """Weekdays of `year` on which SIFMA recommends the US bond market close."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    _check_span(first)
    days = (first + timedelta(days=i) for i in range((last - first).days + 1))
    return frozenset(d for d in days if d.weekday() < 5 and d not in _bond_market_days())


@cache
def federal_holidays(year: int) -> frozenset[date]:
    """US federal holidays observed in `year` (a Saturday New Year's Day is observed on 31 December before)."""
    return frozenset(d for d in _federal_holidays() if d.year == year)


def next_business_day(day: date, *, include: bool = True) -> date:
    """The first business day on or after `day` (strictly after when include=False)."""
    if not include:
        day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def previous_business_day(day: date, *, include: bool = False) -> date:
    """The last business day before `day` (on or before when include=True)."""
    if not include:
        day -= timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def business_days(start: date, end: date) -> list[date]:
    """Business days in [start, end]."""
    return sorted(d for d in _bond_market_days() if start <= d <= end)
