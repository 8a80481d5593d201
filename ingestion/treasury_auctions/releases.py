"""Auction results are published within minutes of the close: an auction listed in `upcoming_auctions` is due by the
end of the day after its auction date. Refreshed at 13:30 on the days the published calendar lists an auction."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb

from ingestion.common.freshness import Freshness, at, latest_date
from ingestion.common.source import Refresh, RefreshDay
from ingestion.common.warehouse import connect

# Results come out minutes after the competitive close: 11:30 for bills, 13:00 for notes, bonds, TIPS and FRNs
# (about 13:02). One time for the source: a bill's results are used from 13:05 too (never before they are out).
PUBLISHED_AT = time(13, 5)


def results_deadline(auction_date: date) -> datetime:
    return at(auction_date + timedelta(days=2))


def assess(con: duckdb.DuckDBPyConnection, now: datetime) -> Freshness:
    latest = latest_date(con, "raw_treasury_auctions.auctions_query", "auction_date")
    # Every auction the calendar announced, whose results deadline has passed, must be loaded.
    last_due = (now - timedelta(days=2)).date()
    try:
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
    except duckdb.CatalogException:
        missing = []  # nothing loaded yet
    rule = "every auction listed in upcoming_auctions loaded by the end of the day after its auction date"
    return Freshness("treasury_auctions", now, latest, None, rule, [m for (m,) in missing])


def auctions_on(day: date, serving: Path) -> list[str] | None:
    """Auctions scheduled on `day` per the published calendar (the serving file); None when it can't be read."""
    try:
        with connect(serving) as con:
            rows = con.execute(
                "select security_term || ' ' || security_type from staging.stg_treasury_auctions__upcoming_auctions "
                "where auction_date = ? order by 1",
                [day],
            ).fetchall()
    except duckdb.Error:
        return None
    return [r for (r,) in rows]


def on_auction_days(day: date, serving: Path) -> RefreshDay:
    scheduled = auctions_on(day, serving)
    if scheduled == []:
        return RefreshDay(skip=f"no auction is scheduled on {day}")
    # When the calendar cannot be read (no serving file yet), refresh anyway: an extra run costs little.
    return RefreshDay(tags={"auctions": ", ".join(scheduled or ["unknown"])})


REFRESH = Refresh(
    "auctions_on_auction_day_afternoons",
    "30 13 * * 1-5",
    "13:30 on auction days (per upcoming_auctions), after the 11:30 and 13:00 results.",
    on_auction_days,
)
