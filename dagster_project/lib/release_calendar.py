"""When each source's data is due, from its publisher's release calendar (New York time).

The freshness checks call a source stale when data that is due is missing from the warehouse; the
schedules use the same calendar to decide which days a source is worth refreshing. Plain Python (no
Dagster), so the rules are unit-tested on their own.

- Par yields: published each business day in the late afternoon; the curve for day D is due by
  18:00 on the next business day.
- Auctions: results are published within minutes of the close; an auction listed in
  `upcoming_auctions` is due by the end of the day after its auction date.
- CFTC TFF: Tuesday positions are released on Friday at 15:30; a federal holiday in that week moves the
  release to the next business day (normally the Monday after). Due by the end of the day after release
  (Saturday for a Friday release).
- TIC: month M is released around the 18th of month M+2 (the same convention as the dbt models); it is
  due one month after that, by the end of the 18th of month M+3.
- Primary dealer statistics: the week ended Wednesday W comes out on Thursday W+8 at about 16:15; due by the end of
  Friday W+9.
- Reference rates: SOFR for business day D comes out at about 08:00 on the next business day; due by 12:00 then.
- FRED custody (WMTSECL1): Wednesday W's level comes out with the H.4.1 on Thursday W+1 at 16:30 and reaches FRED
  soon after; due by the end of Friday W+2.
- Debt to the Penny: day D comes out on the next federal business day; due by the end of the business day after.
  MSPD: month M comes out on the fourth business day of M+1; due by the end of the fifth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb
from dateutil.relativedelta import relativedelta

from ingestion.calendar import (
    cftc_release_date,
    federal_holidays,
    is_business_day,
    mspd_release_date,
    next_business_day,
    previous_business_day,
    tic_expected_release,
)

NEW_YORK = ZoneInfo("America/New_York")
YIELDS_DUE_AT = time(18, 0)


def _at(day: date, at: time = time(0, 0)) -> datetime:
    return datetime.combine(day, at, tzinfo=NEW_YORK)


def judged_at(as_of: date, clock: datetime | None = None) -> datetime:
    """The moment freshness is judged at: now in New York, or the end of the as-of day if that is earlier.

    A run with TREASURY_AS_OF in the past (sample mode, backfills) is judged as of that day.
    """
    now = (clock or datetime.now(NEW_YORK)).astimezone(NEW_YORK)
    return min(now, _at(as_of + timedelta(days=1)))


# --- par yield curve ---------------------------------------------------------------------------------


def par_yields_deadline(curve_date: date) -> datetime:
    return _at(next_business_day(curve_date, include=False), YIELDS_DUE_AT)


def par_yields_due(now: datetime) -> date:
    """The latest curve date that must be loaded by `now`."""
    day = previous_business_day(now.date(), include=True)
    while par_yields_deadline(day) > now:
        day = previous_business_day(day)
    return day


# --- CFTC Traders in Financial Futures --------------------------------------------------------------


def cftc_deadline(report_tuesday: date) -> datetime:
    return _at(cftc_release_date(report_tuesday) + timedelta(days=2))


def cftc_report_due(now: datetime) -> date:
    """The latest report Tuesday that must be loaded by `now`."""
    tuesday = now.date() - timedelta(days=(now.date().weekday() - 1) % 7)
    while cftc_deadline(tuesday) > now:
        tuesday -= timedelta(days=7)
    return tuesday


def is_cftc_release_day(day: date) -> bool:
    """True on the day a TFF report comes out (the schedule refreshes CFTC that evening)."""
    last_tuesday = day - timedelta(days=(day.weekday() - 1) % 7)
    return any(cftc_release_date(last_tuesday - timedelta(days=7 * k)) == day for k in range(2))


# --- TIC Major Foreign Holders ----------------------------------------------------------------------


def tic_deadline(month_end: date) -> datetime:
    return _at(tic_expected_release(month_end) + relativedelta(months=1) + timedelta(days=1))


def tic_month_due(now: datetime) -> date:
    """The latest month (as its month-end date) that must be loaded by `now`."""
    month_end = now.date().replace(day=1) - timedelta(days=1)
    while tic_deadline(month_end) > now:
        month_end = month_end.replace(day=1) - timedelta(days=1)
    return month_end


def is_tic_release_window(day: date) -> bool:
    """Business days from the 15th to the 21st: TIC's release falls in that window every month."""
    return is_business_day(day) and 15 <= day.day <= 21


# --- primary dealers, reference rates, FRED custody, federal debt ------------------------------------


def dealer_week_due(now: datetime) -> date:
    """The latest as-of Wednesday that must be loaded by `now` (released Thursday W+8, due end of Friday W+9)."""
    wednesday = now.date() - timedelta(days=(now.date().weekday() - 2) % 7)
    while _at(wednesday + timedelta(days=10)) > now:
        wednesday -= timedelta(days=7)
    return wednesday


def sofr_due(now: datetime) -> date:
    """The latest business day whose SOFR must be loaded by `now` (noon on the next business day)."""
    day = previous_business_day(now.date(), include=True)
    while _at(next_business_day(day, include=False), time(12, 0)) > now:
        day = previous_business_day(day)
    return day


def custody_week_due(now: datetime) -> date:
    """The latest Wednesday whose custody level must be loaded by `now` (end of the Friday after)."""
    wednesday = now.date() - timedelta(days=(now.date().weekday() - 2) % 7)
    while _at(wednesday + timedelta(days=3)) > now:
        wednesday -= timedelta(days=7)
    return wednesday


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
        _at(_next_federal_business_day(_next_federal_business_day(day)) + timedelta(days=1)) > now
    ):
        day -= timedelta(days=1)
    return day


def mspd_month_due(now: datetime) -> date:
    """The latest month (month-end date) whose MSPD must be loaded by `now` (end of its fifth business day)."""
    month_end = now.date().replace(day=1) - timedelta(days=1)
    while _at(next_business_day(mspd_release_date(month_end), include=False) + timedelta(days=1)) > now:
        month_end = month_end.replace(day=1) - timedelta(days=1)
    return month_end


# --- auctions ---------------------------------------------------------------------------------------


def auction_results_deadline(auction_date: date) -> datetime:
    return _at(auction_date + timedelta(days=2))


# --- assessing the warehouse ------------------------------------------------------------------------


@dataclass
class Freshness:
    """The verdict for one source: stale when something due by `judged_at` is missing."""

    source: str
    judged_at: datetime
    latest_loaded: date | None
    due: date | None
    rule: str
    missing: list[str] = field(default_factory=list)
    grace: timedelta = timedelta(0)

    @property
    def fresh(self) -> bool:
        if self.missing:
            return False
        return self.due is None or (self.latest_loaded is not None and self.latest_loaded + self.grace >= self.due)

    @property
    def description(self) -> str:
        if self.fresh:
            return f"{self.source}: fresh (latest {self.latest_loaded}, due {self.due or 'n/a'})"
        if self.missing:
            return f"{self.source}: STALE, {len(self.missing)} due but not loaded: {', '.join(self.missing[:5])}"
        if self.latest_loaded is None:
            return f"{self.source}: no rows loaded yet, but {self.due} was due by now"
        return f"{self.source}: STALE, latest loaded {self.latest_loaded}, but {self.due} was due by now"


def _max(con: duckdb.DuckDBPyConnection, table: str, column: str, where: str = "true") -> date | None:
    """The latest date in a raw table (None when it has no rows, or does not exist yet: a first load with no rows)."""
    try:
        return con.execute(f"select max({column}) from {table} where {where}").fetchone()[0]
    except duckdb.CatalogException:
        return None


def _loaded_series(con: duckdb.DuckDBPyConnection) -> list[str]:
    try:
        rows = con.execute("select distinct series_id from raw_fed_custody.observations order by 1").fetchall()
    except duckdb.CatalogException:
        return []
    return [series for (series,) in rows]


def assess(con: duckdb.DuckDBPyConnection, source: str, now: datetime) -> Freshness:
    """Freshness of one source's raw tables in the warehouse open on `con`, judged at `now`."""
    if source == "par_yield_curve":
        due = par_yields_due(now)
        latest = _max(con, "raw_par_yield_curve.daily_par_yields", "curve_date")
        rule = "curve for business day D loaded by 18:00 New York on the next business day"
        return Freshness(source, now, latest, due, rule)
    if source == "cftc_tff":
        due = cftc_report_due(now)
        latest = _max(con, "raw_cftc_tff.tff_futures_only", "report_date_as_yyyy_mm_dd")
        rule = "Tuesday report loaded by the end of the day after its release (Friday, later after a federal holiday)"
        # A holiday Tuesday moves the as-of date to the Monday: one day earlier still counts.
        return Freshness(source, now, latest, due, rule, grace=timedelta(days=1))
    if source == "tic_holdings":
        due = tic_month_due(now)
        latest = _max(con, "raw_tic_holdings.major_foreign_holders", "month_end")
        rule = "month M loaded by the end of the 18th of month M+3 (one month after its expected release)"
        return Freshness(source, now, latest, due, rule)
    if source == "treasury_auctions":
        latest = _max(con, "raw_treasury_auctions.auctions_query", "auction_date")
        # Every auction the calendar announced, whose results deadline has passed, must be loaded.
        last_due = (now - timedelta(days=2)).date()
        missing = con.execute(
            """
            select u.security_term || ' ' || u.security_type || ' ' || u.cusip || ' auctioned ' || u.auction_date
            from raw_treasury_auctions.upcoming_auctions as u
            where u.cusip is not null and u.auction_date <= ? and not exists (
                -- auctions_query lists announced auctions too: only a row with amounts accepted has results
                select 1 from raw_treasury_auctions.auctions_query as a
                where a.cusip = u.cusip and a.auction_date = u.auction_date and a.total_accepted is not null
            )
            order by u.auction_date
            """,
            [last_due],
        ).fetchall()
        rule = "every auction listed in upcoming_auctions loaded by the end of the day after its auction date"
        return Freshness(source, now, latest, None, rule, [m for (m,) in missing])
    if source == "primary_dealers":
        latest = _max(con, "raw_primary_dealers.dealer_statistics", "asofdate", "keyid = 'PDPOSGST-TOT'")
        rule = "week ended Wednesday W loaded by the end of Friday W+9 (released Thursday W+8 at about 16:15)"
        return Freshness(source, now, latest, dealer_week_due(now), rule)
    if source == "funding_rates":
        latest = _max(con, "raw_funding_rates.reference_rates", "effective_date", "type = 'SOFR'")
        rule = "SOFR for business day D loaded by 12:00 New York on the next business day (released about 08:00)"
        return Freshness(source, now, latest, sofr_due(now), rule)
    if source == "fed_custody":
        latest = _max(con, "raw_fed_custody.observations", "observation_date", "series_id = 'WMTSECL1'")
        rule = "WMTSECL1 for Wednesday W loaded by the end of Friday W+2 (H.4.1 on Thursday W+1)"
        if latest is None:
            # A configured subset without WMTSECL1 (SOURCES__FED_CUSTODY__SERIES_IDS='["IORB"]'): judge the series
            # loaded, each at least weekly, by the same deadline.
            series = _loaded_series(con)
            if series:
                latest = _max(con, "raw_fed_custody.observations", "observation_date")
                rule = (
                    f"the configured series ({', '.join(series)}) loaded through Wednesday W by the end of Friday W+2"
                )
        return Freshness(source, now, latest, custody_week_due(now), rule)
    if source == "treasury_debt":
        latest = _max(con, "raw_treasury_debt.debt_to_the_penny", "record_date")
        month = _max(con, "raw_treasury_debt.mspd_table_1", "record_date")
        due_month = mspd_month_due(now)
        missing = [] if month is not None and month >= due_month else [f"MSPD {due_month:%B %Y}"]
        rule = (
            "Debt to the Penny for day D loaded by the end of the next federal business day after its release; "
            "MSPD for month M by the end of its fifth business day"
        )
        return Freshness(source, now, latest, debt_day_due(now), rule, missing)
    raise ValueError(f"no release calendar for source {source!r}")
