"""What a source declares about itself, beside its SQL: the one shape the registry (ingestion/registry.py) lists.

Everything that iterates the sources (the Dagster assets, checks, schedules and freshness, the CLI's `--source`
choices, the sample emulator's routes, the tests' isolation) reads these declarations; nothing else keeps a list or an
if-chain keyed by a source's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ingestion.common.expectations import RawTableSuite
from ingestion.common.freshness import Freshness


@dataclass(frozen=True)
class RefreshDay:
    """A scheduled day: why nothing is released then (the run is skipped), or the tags of the run to start."""

    skip: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refresh:
    """When Dagster refreshes the source: a cron in New York time, narrowed by the release calendar."""

    schedule: str  # the schedule's name
    cron: str
    description: str
    # (day, the published serving file) -> skip or run: the schedule asks it on each scheduled day.
    plan: Callable[[date, Path], RefreshDay] = lambda day, serving: RefreshDay()


def released_on(is_release_day: Callable[[date], bool], nothing_released: str) -> Callable[[date, Path], RefreshDay]:
    """A refresh plan from a release-day rule: skipped, with `nothing_released` ({day} filled in), on other days."""

    def plan(day: date, serving: Path) -> RefreshDay:  # noqa: ARG001 - the plan's signature
        return RefreshDay() if is_release_day(day) else RefreshDay(skip=nothing_released.format(day=day))

    return plan


def no_cutoffs(moment: datetime) -> dict[str, str]:  # noqa: ARG001 - the cut-off's signature
    return {}


def published_through(moment: datetime, published_at: time) -> date:
    """The last publication day whose publication time has passed at `moment` (New York): `moment`'s own day once
    its clock reads `published_at` or later, else the day before. A build as of a plain date is as of its end."""
    return moment.date() if moment.time() >= published_at else moment.date() - timedelta(days=1)


@dataclass(frozen=True)
class Source:
    """One public data set: its dlt source, its raw tables' expectations and its release calendar."""

    name: str
    summary: str  # what it is and where it comes from, in a few words (help texts)
    dlt_source: Callable[..., Any]  # the @dlt.source function; its host and options come from dlt's configuration
    suites: tuple[RawTableSuite, ...]  # one per raw table: the tables the source loads
    assess: Callable[[duckdb.DuckDBPyConnection, datetime], Freshness]  # freshness of its raw tables, judged at a time
    refresh: Refresh
    # When a publication day's data comes out, New York time (releases.PUBLISHED_AT): a build at an earlier time of
    # that day does not use it (`<name>_published_through`, the day before), in sample mode as with the real hosts.
    published_at: time
    # Cut-offs of its own beyond `<name>_published_through` (dbt vars its staging models filter on), at a moment.
    cutoffs: Callable[[datetime], dict[str, str]] = no_cutoffs
    # False for sources whose payloads have a fixed layout (an unknown line is an error, not drift).
    reports_drift: bool = True

    @property
    def dataset(self) -> str:
        """The warehouse schema its tables load into."""
        return f"raw_{self.name}"

    @property
    def cutoff_var(self) -> str:
        """The dbt var holding the last publication day a build may use (staging: `published_by(expr, var)`)."""
        return f"{self.name}_published_through"

    def point_in_time_cutoffs(self, moment: datetime) -> dict[str, str]:
        """Its dbt cut-off vars for a build at `moment` (New York)."""
        return {self.cutoff_var: published_through(moment, self.published_at).isoformat(), **self.cutoffs(moment)}

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(suite.table for suite in self.suites)

    @property
    def freshness_table(self) -> str:
        """The raw table whose freshness check stands for the source: its first."""
        return self.suites[0].table

    def make(self, as_of: date, drift: Any, base_url: str | None = None) -> Any:
        """The dlt source as of `as_of`, reporting schema drift to `drift`; `base_url` overrides the configured host."""
        arguments: dict[str, Any] = {"as_of": as_of}
        if self.reports_drift:
            arguments["drift"] = drift
        if base_url is not None:
            arguments["base_url"] = base_url
        return self.dlt_source(**arguments)
