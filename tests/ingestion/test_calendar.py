"""The bond-market calendar is SIFMA's (pandas_market_calendars), and the release days follow the federal holidays."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ingestion import calendar
from ingestion.cftc_tff import releases as cftc_releases
from ingestion.tic_holdings import releases as tic_releases

# The days a rule-of-thumb calendar (Good Friday always closed, a Saturday holiday observed on Friday) calls
# closed but SIFMA kept open: early-close Good Fridays, and Fridays before a Saturday Veterans Day.
SIFMA_OPEN_DAYS = [
    date(2021, 4, 2),
    date(2023, 4, 7),
    date(2026, 4, 3),
    date(1995, 11, 10),
    date(2000, 11, 10),
    date(2006, 11, 10),
    date(2017, 11, 10),
    date(2023, 11, 10),
]


@pytest.mark.parametrize("day", SIFMA_OPEN_DAYS, ids=str)
def test_days_sifma_kept_open_are_business_days(day):
    assert calendar.is_business_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2023, 11, 24),  # the day after Thanksgiving: 2 pm close
        date(2023, 7, 3),  # the day before Independence Day
        date(2023, 12, 29),  # the last business day of the year
        date(2023, 5, 26),  # the Friday before Memorial Day
        date(2024, 12, 24),  # Christmas Eve
        date(2025, 1, 9),  # national day of mourning for President Carter: early close, federal offices shut
    ],
    ids=str,
)
def test_early_close_days_are_business_days(day):
    assert calendar.is_business_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 3, 29),  # Good Friday, full close
        date(2025, 4, 18),  # Good Friday, full close
        date(2022, 12, 26),  # Christmas on a Sunday, observed Monday
        date(2022, 6, 20),  # Juneteenth observed
        date(2023, 11, 23),  # Thanksgiving
    ],
    ids=str,
)
def test_closed_days_are_not_business_days(day):
    assert not calendar.is_business_day(day)
    assert day in calendar.holidays(day.year)


def test_the_treasury_published_a_curve_on_every_sifma_business_day_of_the_saved_2023_file():
    """The real 2023 CSV (Jan to Sep) has a row for every SIFMA business day of that span and no other."""
    from tests.conftest import reference

    text = reference("yield_curve/daily_treasury_par_yield_2023_jan-sep.csv").read_text()
    published = {
        date(int(d[6:10]), int(d[0:2]), int(d[3:5])) for d in (line.split(",")[0] for line in text.splitlines()[1:])
    }
    assert date(2023, 4, 7) in published
    assert published == set(calendar.business_days(min(published), max(published)))


def _rule_of_thumb_closed(year: int) -> set[date]:
    """What the old calendar added to the true holidays: Good Friday every year, and Saturday holidays on Friday."""
    from dateutil.easter import easter

    closed = {easter(year) - timedelta(days=2)}
    saturday_holidays = [date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)] + (
        [date(year, 6, 19)] if year >= 2022 else []
    )
    closed |= {d - timedelta(days=1) for d in saturday_holidays if d.weekday() == 5}
    return closed


def test_exactly_the_eight_days_differ_from_the_rule_of_thumb_calendar_from_1990_to_2026():
    differ = sorted(d for year in range(1990, 2027) for d in _rule_of_thumb_closed(year) if calendar.is_business_day(d))
    assert differ == sorted(SIFMA_OPEN_DAYS)


def test_business_day_navigation():
    assert calendar.next_business_day(date(2025, 4, 18)) == date(2025, 4, 21)
    assert calendar.previous_business_day(date(2025, 4, 21)) == date(2025, 4, 17)
    assert calendar.previous_business_day(date(2023, 4, 10)) == date(2023, 4, 7)
    assert calendar.business_days(date(2025, 4, 17), date(2025, 4, 22)) == [
        date(2025, 4, 17),
        date(2025, 4, 21),
        date(2025, 4, 22),
    ]


def test_federal_holidays_observe_saturday_on_friday_and_leave_good_friday_out():
    assert date(2023, 11, 10) in calendar.federal_holidays(2023)  # Veterans Day on a Saturday
    assert date(2021, 12, 31) in calendar.federal_holidays(2021)  # New Year's Day 2022 on a Saturday
    assert date(2023, 4, 7) not in calendar.federal_holidays(2023)


@pytest.mark.parametrize(
    ("as_of", "tuesday"),
    [
        (date(2025, 5, 2), date(2025, 4, 29)),  # Friday: that week's report is out (end of day)
        (date(2025, 5, 1), date(2025, 4, 22)),
        (date(2025, 11, 28), date(2025, 11, 18)),  # Thanksgiving week: the report comes out Monday 1 December
        (date(2025, 12, 1), date(2025, 11, 25)),
    ],
    ids=str,
)
def test_latest_cftc_report_released_by_a_date(as_of, tuesday):
    assert cftc_releases.latest_report_released(as_of) == tuesday


def test_tic_month_is_expected_on_the_18th_two_months_later():
    assert tic_releases.expected_release(date(2025, 1, 31)) == date(2025, 3, 18)
    assert tic_releases.expected_release(date(2025, 11, 30)) == date(2026, 1, 18)
