"""Judging a source's freshness: is every release that is due by now in the warehouse?

Each source's release calendar (`ingestion/<source>/calendar.py`) says when its data is due (New York time) and
assesses its raw tables; the freshness checks, the schedules and the tests all ask it. Plain Python (no Dagster).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import duckdb

from ingestion.settings import NEW_YORK


def at(day: date, clock: time = time(0, 0)) -> datetime:
    """`clock` on `day` in New York."""
    return datetime.combine(day, clock, tzinfo=NEW_YORK)


def judged_at(as_of: date, clock: datetime | None = None) -> datetime:
    """The moment freshness is judged at: now in New York, or the end of the as-of day if that is earlier.

    A run with TREASURY_AS_OF in the past (sample mode, backfills) is judged as of that day.
    """
    now = (clock or datetime.now(NEW_YORK)).astimezone(NEW_YORK)
    return min(now, at(as_of + timedelta(days=1)))


def weekly_due(now: datetime, weekday: int, days_after: int) -> date:
    """The latest day of the week `weekday` (Monday 0) whose data must be loaded by `now`: due at the start of
    `days_after` days later (New York)."""
    day = now.date() - timedelta(days=(now.date().weekday() - weekday) % 7)
    while at(day + timedelta(days=days_after)) > now:
        day -= timedelta(days=7)
    return day


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


def latest_date(con: duckdb.DuckDBPyConnection, table: str, column: str, where: str = "true") -> date | None:
    """The latest date in a raw table (None when it has no rows, or does not exist yet: a first load with no rows)."""
    try:
        return con.execute(f"select max({column}) from {table} where {where}").fetchone()[0]
    except duckdb.CatalogException:
        return None
