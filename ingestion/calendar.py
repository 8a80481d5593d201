"""US bond-market calendar: federal holidays, Good Friday, business days.

Shared by the emulator (which dates exist in the synthetic history) and later by freshness checks.
Holidays follow the SIFMA recommendations the par yield curve follows: federal holidays with the
weekend shift (Saturday -> Friday, Sunday -> Monday), plus Good Friday. A Saturday New Year's Day is
not observed on the preceding Friday (the bond market stays open on 31 December).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from dateutil.easter import easter


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date | None:
    if day.weekday() == 5:
        # Saturday: observed Friday, except New Year's Day (no Friday close on 31 Dec).
        return None if (day.month, day.day) == (1, 1) else day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@cache
def holidays(year: int) -> frozenset[date]:
    days: list[date | None] = [
        _observed(date(year, 1, 1)),
        _nth_weekday(year, 1, 0, 3) if year >= 1986 else None,  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        easter(year) - timedelta(days=2),  # Good Friday (bond market closed)
        _last_weekday(year, 5, 0),  # Memorial Day
        _observed(date(year, 6, 19)) if year >= 2022 else None,  # Juneteenth
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _observed(date(year, 11, 11)),  # Veterans Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    ]
    return frozenset(d for d in days if d is not None)


@cache
def federal_holidays(year: int) -> frozenset[date]:
    """Federal holidays (the bond-market holidays less Good Friday): what shifts the CFTC's release day."""
    return holidays(year) - {easter(year) - timedelta(days=2)}


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


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
    out = []
    day = start
    while day <= end:
        if is_business_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out
