"""The run settings as one Dagster resource: where the warehouse and the serving file live, the point in time the
build is as of (a date's end, or a New York time), and the point-in-time cut-offs that moment implies.

Every asset, check, schedule and sensor that touches the warehouse takes a `Warehouse` parameter and asks it (for a
connection, the writer lock, a dlt pipeline, dbt's vars), so none of them reads the environment or knows what kind of
warehouse it is. The definitions build it from the environment (`TREASURY_WAREHOUSE`, `TREASURY_SERVING`,
`TREASURY_AS_OF`, `TREASURY_SAMPLE`: what `dg dev` and a UI launch see); `treasury build` passes the same fields as the
run's configuration instead, so a CLI build never writes the environment.

The warehouse is a DuckDB file or a DuckLake (`TREASURY_WAREHOUSE=ducklake:...`, ingestion/common/lake.py); the
methods below are the same for both, so no asset knows which one it runs on.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field, PrivateAttr

from dagster_project.lib.snapshots import current_snapshot, record_published
from ingestion import settings
from ingestion.common.lake import EXTENSION_DIR, Lake
from ingestion.common.lake import install_packaged_extensions as lake_install
from ingestion.common.lock import BUILD_SCOPE, writer_lock
from ingestion.common.sql import identifier, literal
from ingestion.common.warehouse import Target, catalog_name, connect, parse_target, row_counts
from ingestion.registry import point_in_time_cutoffs


@lru_cache(maxsize=32)  # keyed by the minute: a long-running code server sees a new one every minute
def _cutoffs(moment: datetime) -> dict[str, str]:
    return point_in_time_cutoffs(moment)


def run_created_at(instance: dg.DagsterInstance, run_id: str) -> datetime | None:
    """When a run was created, in New York time to the minute (the point in time of a run with none set)."""
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return None
    return record.create_timestamp.astimezone(settings.NEW_YORK).replace(second=0, microsecond=0)


class Warehouse(dg.ConfigurableResource):
    """Where a run reads and writes, and as of when."""

    path: str = Field(
        description="The warehouse (TREASURY_WAREHOUSE): a DuckDB file, absolute, or ducklake:<catalog> for a lake."
    )
    lake_data_path: str = Field(
        default="", description="A lake's data files (TREASURY_LAKE_DATA_PATH): a folder or s3://bucket/prefix."
    )
    serving_path: str = Field(description="The published read-only copy BI tools open (TREASURY_SERVING), absolute.")
    as_of: str = Field(
        default="",
        description="The point in time the run treats as now (TREASURY_AS_OF): YYYY-MM-DD (the end of that day) or "
        "YYYY-MM-DDTHH:MM in New York time; empty: when the run was created, so every step of a run (and the stages "
        "the build chains after it) has the same point-in-time cut-offs.",
    )
    sample: bool = Field(default=False, description="The sources read the built-in emulator (TREASURY_SAMPLE).")
    _created: datetime | None = PrivateAttr(default=None)

    @classmethod
    def from_environment(cls) -> Warehouse:
        """The settings of a run started from the UI or the daemon: the environment (.env included), as parsed by
        ingestion/settings.py. An unset point in time stays unset: each run of a long-running code server is as of
        when that run was created."""
        as_of = os.environ.get(settings.AS_OF_ENV, "").strip()
        if as_of:
            settings.parse_point_in_time(as_of)  # a bad value fails when the definitions load, naming the variable
        target = settings.warehouse()  # a bad lake setting fails when the definitions load, naming the variable
        return cls(
            path=str(target) if isinstance(target, Path) else target.setting,
            lake_data_path=target.data_path if isinstance(target, Lake) else "",
            serving_path=str(settings.serving_path()),
            as_of=as_of,
            sample=settings.sample_mode(),
        )

    @classmethod
    def for_build(cls, path: str | Path | None, as_of: datetime | None, *, sample: bool) -> Warehouse:
        """The settings of a CLI build: `--warehouse` and `--as-of` when given, else the environment's; the point in
        time fixed when the build starts (a build that runs past a source's publication time, or midnight, keeps the
        cut-offs it started with)."""
        target = settings.warehouse(str(path) if path is not None else None)
        return cls(
            path=str(target) if isinstance(target, Path) else target.setting,
            lake_data_path=target.data_path if isinstance(target, Lake) else "",
            serving_path=str(settings.serving_path(target.parent if isinstance(target, Path) else None)),
            as_of=settings.format_point_in_time(as_of or settings.point_in_time()),
            sample=sample,
        )

    def run_config(self) -> dict[str, object]:
        """The resource's run configuration with every field set (a field a run's configuration leaves out takes
        its default, not the definitions' value)."""
        return {
            "config": {
                "path": self.path,
                "lake_data_path": self.lake_data_path,
                "serving_path": self.serving_path,
                "as_of": self.as_of,
                "sample": self.sample,
            }
        }

    # --- the settings ---------------------------------------------------------------------------------------------

    @property
    def target(self) -> Target:
        """The warehouse: a DuckDB file's Path, or a Lake."""
        return parse_target(self.path, self.lake_data_path or None)

    @property
    def lake(self) -> Lake | None:
        target = self.target
        return target if isinstance(target, Lake) else None

    @property
    def catalog(self) -> str:
        """The catalog name a connection has in use (dbt's views name it)."""
        return catalog_name(self.target)

    @property
    def folder(self) -> Path:
        """Where the build's own files go (logs/): beside the warehouse file, or beside the serving file of a lake."""
        target = self.target
        return target.parent if isinstance(target, Path) else self.serving_file.parent

    @property
    def serving_file(self) -> Path:
        return Path(self.serving_path)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # A run with no point in time set (the UI, the daemon) is as of when it was created: the same moment in each
        # of its steps and processes, so transform and publish agree on the cut-offs.
        if not self.as_of and context.instance is not None and context.dagster_run is not None:
            self._created = run_created_at(context.instance, context.dagster_run.run_id)

    @property
    def point_in_time(self) -> datetime:
        """The moment the run is as of (New York): `as_of`, else when the run was created, else now."""
        if self.as_of:
            return settings.parse_point_in_time(self.as_of)
        return self._created or settings.now_in_new_york()

    @property
    def as_of_date(self) -> date:
        return self.point_in_time.date()

    @property
    def as_of_label(self) -> str:
        """The point in time for people: `2026-12-04` (its end) or `2026-12-04 10:23 New York`."""
        return settings.describe_point_in_time(self.point_in_time)

    def pinned(self) -> Warehouse:
        """These settings with the point in time written out: a later stage of the same build (launched by the
        sensor) gets the cut-offs this run had."""
        return self.at(settings.format_point_in_time(self.point_in_time))

    def at(self, as_of: str) -> Warehouse:
        """These settings as of another point in time (a new resource: Dagster keeps a resource's configuration
        apart from its fields, so a pydantic copy would not reach a run)."""
        return Warehouse(**{**self.run_config()["config"], "as_of": as_of})

    def cutoffs(self) -> dict[str, str]:
        """The dbt vars of a build at `point_in_time`: the last date of each kind it may contain."""
        return dict(_cutoffs(self.point_in_time))

    def dbt_vars(self) -> dict[str, str]:
        """What dbt gets, once per invocation: where the warehouse is (profiles.yml) and the cut-offs."""
        lake = self.lake
        if lake is None:
            return {"warehouse_path": self.path, **self.cutoffs()}
        lake_install()  # dbt's connection autoloads the extensions from DuckDB's folder: they must be there
        return {
            "dbt_target": f"lake_{'postgres' if lake.kind == 'postgres' else 'local'}{'_s3' if lake.on_s3 else ''}",
            "lake_attach": lake.dbt_attach(),
            "lake_data_path": lake.data_path,
            "duckdb_extension_directory": str(EXTENSION_DIR),
            **self.cutoffs(),
        }

    def describe(self) -> dict[str, str]:
        """The settings as a run records them in its metadata."""
        return {
            "warehouse": str(self.target),
            "serving_file": str(self.serving_file),
            "as_of": settings.format_point_in_time(self.point_in_time),
            "sample": str(self.sample).lower(),
            **{f"cutoff.{k}": v for k, v in self.cutoffs().items() if k != "as_of"},
        }

    # --- what the assets do with it -------------------------------------------------------------------------------

    def connect(self, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        return connect(self.target, read_only=read_only)

    def connect_serving(self) -> duckdb.DuckDBPyConnection:
        return connect(self.serving_file)

    def is_file(self, path: Path) -> bool:
        """Whether `path` is the warehouse's own file (never for a lake)."""
        target = self.target
        return isinstance(target, Path) and target.resolve() == path.resolve()

    def attach_pinned(self, con: duckdb.DuckDBPyConnection) -> int | None:
        """Attach the warehouse read-only to `con` under its catalog name (`catalog`: the name dbt's views use), one
        state of it: a file as it is (None; the writer lock keeps it still); a lake at its current snapshot, pinned
        (returned), so a commit by another writer meanwhile changes nothing that is read."""
        lake = self.lake
        if lake is None:
            con.execute(f"attach {literal(self.path)} as {identifier(self.catalog)} (read_only)")
            return None
        lake.attach(con, read_only=True)
        snapshot = current_snapshot(con)
        con.execute(f"use memory; detach {self.catalog}")
        lake.attach(con, read_only=True, snapshot=snapshot)
        con.execute("use memory")  # the caller names the catalog
        return snapshot

    def record_published(self, version: int | None, statuses, rows: dict[str, int], *, run_id: str) -> str | None:
        """On a lake, record the published build (its pinned snapshot, as-of date, run, tables) and say so; a file
        keeps no record beyond the serving file (None)."""
        lake = self.lake
        if lake is None or version is None:
            return None
        with self.writer_lock():
            record_published(lake, version, statuses, rows, as_of=self.as_of_date, run_id=run_id)
        return f"published lake snapshot {version} (treasury snapshots lists the published builds)"

    def writer_lock(self, scope: str = BUILD_SCOPE) -> AbstractContextManager[None]:
        """The warehouse's writer lock (a concurrent writer fails with a message naming the holder): one for the
        whole warehouse, or on a PostgreSQL-catalog lake one per scope (a source's load, or dbt and publish)."""
        return writer_lock(self.target, (scope,))

    def row_counts(self, relations) -> dict[tuple[str, str], int]:
        return row_counts(self.target, relations)

    def exists(self) -> bool:
        return self.target.exists()
