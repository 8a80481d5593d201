"""Run the dlt sources into the DuckDB warehouse: one pipeline and one `raw_<source>` schema per source.

Plain dlt: used by `python -m ingestion ingest`, by `treasury ingest` and by the Dagster ingestion assets. Each
source reads its host from dlt's configuration (`sources.<name>.base_url` in .dlt/config.toml, or
`SOURCES__<NAME>__BASE_URL`): sample mode is only another base URL, set by whoever started the emulator.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import dlt
from dlt.pipeline.exceptions import PipelineNeverRan
from dlt.pipeline.helpers import pipeline_drop

from ingestion import settings
from ingestion.common.lake import Lake
from ingestion.common.lock import process_alive
from ingestion.common.records import DriftReport
from ingestion.common.warehouse import Target, row_counts
from ingestion.registry import NAMES, source


def dataset_name(name: str) -> str:
    return source(name).dataset


def make_source(name: str, base_url: str | None, as_of: date, drift: DriftReport):
    """The registered source `name` as of `as_of`; its host from dlt's configuration unless `base_url` is given."""
    settings.use_project_dlt_config()
    return source(name).make(as_of, drift, base_url)


def configured_host(name: str) -> str:
    """The base URL the source will read, as dlt's configuration resolves it (environment, .dlt/config.toml)."""
    settings.use_project_dlt_config()
    return str(dlt.config.get(f"sources.{name}.base_url"))


def public_host(name: str) -> str:
    """The source's public host: the committed `.dlt/config.toml`, whatever the environment says."""
    import tomllib

    with (settings.PROJECT_ROOT / ".dlt" / "config.toml").open("rb") as file:
        return tomllib.load(file)["sources"][name]["base_url"]


def reads_public_host(name: str) -> bool:
    """False when the source is pointed elsewhere (the emulator in sample mode, or a mirror)."""
    return configured_host(name).rstrip("/") == public_host(name).rstrip("/")


@cache
def _working_dir() -> Path:
    """dlt's working folder (extracted pages, load packages, a copy of the state): one per process, removed at exit.

    The state that matters (incremental cursors, schemas) lives in the warehouse itself, in dlt's
    `_dlt_pipeline_state` table, and dlt restores it from there when its working folder is new. So two processes
    never share a working folder (no lost load package), a killed run leaves nothing half-done behind (the next run
    starts from the state of the last completed load and fetches again), and the folder's path, unlike the
    warehouse's, never holds a quote or a space that could break dlt's SQL.
    """
    prefix = "treasury-dlt-"
    # A run killed with -9 cannot clean up after itself: remove the folders of processes that no longer exist.
    for stale in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
        pid = stale.name.removeprefix(prefix).split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def make_pipeline(name: str, warehouse: Target) -> dlt.Pipeline:
    """The source's pipeline into the warehouse: dlt's duckdb destination for a file, its ducklake destination for a
    lake (the same `raw_<source>` schemas and tables either way)."""
    # One working folder per warehouse within the process, so two warehouses never share state.
    identity = warehouse.setting if isinstance(warehouse, Lake) else str(warehouse.resolve())
    digest = hashlib.sha1(identity.encode()).hexdigest()[:12]
    settings.use_project_dlt_config()
    destination = (
        warehouse.dlt_destination() if isinstance(warehouse, Lake) else dlt.destinations.duckdb(str(warehouse))
    )
    return dlt.pipeline(
        pipeline_name=f"treasury_{name}",
        destination=destination,
        dataset_name=dataset_name(name),
        pipelines_dir=str(_working_dir() / digest),
    )


def declared_pipeline(name: str) -> dlt.Pipeline:
    """The source's pipeline with no warehouse: what Dagster reads the asset specs from (pipeline and dataset names).
    A run loads through its own pipeline on the run's warehouse (`make_pipeline`)."""
    settings.use_project_dlt_config()
    return dlt.pipeline(
        pipeline_name=f"treasury_{name}",
        destination="duckdb",
        dataset_name=dataset_name(name),
        pipelines_dir=str(_working_dir() / "declared"),
    )


@dataclass
class TableResult:
    source: str
    table: str
    rows_loaded: int
    rows_in_table: int


@dataclass
class SourceResult:
    source: str
    seconds: float
    tables: list[TableResult] = field(default_factory=list)
    drift: DriftReport = field(default_factory=DriftReport)
    error: str | None = None

    def line(self) -> str:
        """One line for a progress display: rows loaded and the tables' sizes, or why the source failed."""
        if self.error:
            return f"{self.source}: FAILED after {self.seconds:.1f}s: {self.error}"
        loaded = sum(t.rows_loaded for t in self.tables)
        sizes = ", ".join(f"{t.table} {t.rows_in_table:,}" for t in self.tables)
        return f"{self.source}: {loaded:,} rows loaded in {self.seconds:.1f}s ({sizes})"


PUBLIC_APIS = "public APIs"


@dataclass
class IngestSummary:
    warehouse: Target
    as_of: date
    hosts: str = PUBLIC_APIS  # what the sources were pointed at, for the reader of the summary
    results: list[SourceResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.error is None for r in self.results)

    def render(self) -> str:
        lines = [f"Ingest into {self.warehouse} from {self.hosts}, as of {self.as_of}", ""]
        width = max([len(t.table) for r in self.results for t in r.tables] + [len("table")]) + 2
        lines.append(f"{'source':<19}{'table':<{width}}{'loaded':>10}{'in table':>11}{'seconds':>9}")
        for r in self.results:
            if r.error:
                lines.append(f"{r.source:<19}{'FAILED':<{width}}{'':>10}{'':>11}{r.seconds:>9.1f}")
                continue
            for i, t in enumerate(r.tables):
                seconds = f"{r.seconds:.1f}" if i == 0 else ""
                source = r.source if i == 0 else ""
                lines.append(f"{source:<19}{t.table:<{width}}{t.rows_loaded:>10,}{t.rows_in_table:>11,}{seconds:>9}")
        total = sum(r.seconds for r in self.results)
        lines.append(f"{'':<19}{'total':<{width}}{'':>10}{'':>11}{total:>9.1f}")
        drifts = [f"  {r.source}: {r.drift.describe()}" for r in self.results if r.drift]
        lines += ["", "Schema drift: " + ("none" if not drifts else "")] + drifts
        for r in self.results:
            if r.error:
                lines += ["", f"{r.source} failed; tables keep what earlier runs loaded:", f"  {r.error}"]
        return "\n".join(lines)


def run_source(
    name: str,
    *,
    warehouse: Target,
    as_of: date,
    base_url: str | None = None,
    full_refresh: bool = False,
) -> SourceResult:
    drift = DriftReport()
    started = time.perf_counter()
    pipeline = make_pipeline(name, warehouse)
    source = make_source(name, base_url, as_of, drift)
    if full_refresh:
        reset_cursors(pipeline, source)
    info = pipeline.run(source)
    info.raise_on_failed_jobs()
    result = SourceResult(name, time.perf_counter() - started, drift=drift)
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace.last_normalize_info else {}
    dataset = dataset_name(name)
    in_tables = row_counts(warehouse, [(dataset, resource) for resource in source.selected_resources])
    for resource in source.selected_resources.keys():
        result.tables.append(
            TableResult(name, resource, counts.get(resource, 0), in_tables.get((dataset, resource), 0))
        )
    return result


def reset_cursors(pipeline: dlt.Pipeline, source) -> None:
    """A full refresh re-reads the whole history: it forgets the incremental cursors and keeps every table, so the
    current tables are merged again and no vintage is dropped (a refetch of unchanged values adds none)."""
    pipeline.sync_destination()  # the state lives in the warehouse; the working folder may be new
    try:
        drop = pipeline_drop(pipeline, resources=list(source.resources), state_only=True)
    except PipelineNeverRan:
        return  # nothing loaded yet: the run reads the whole history anyway
    if not drop.is_empty:
        drop()


def run_ingest(
    sources: list[str] | None = None,
    *,
    warehouse: Target,
    as_of: date,
    full_refresh: bool = False,
    base_urls: dict[str, str] | None = None,
    hosts: str = PUBLIC_APIS,
    on_result: Callable[[SourceResult], None] | None = None,
) -> IngestSummary:
    """Load each source in turn; a failing source is reported and the others still run. `base_urls` overrides
    dlt's configuration per source (tests); `on_result` hears of each source as it finishes. The warehouse and the
    as-of date come from the caller (the CLI reads them from its flags and the environment): nothing here does."""
    folder = warehouse.catalog_file.parent if isinstance(warehouse, Lake) and warehouse.catalog_file else None
    folder = warehouse.parent if isinstance(warehouse, Path) else folder
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    names = list(sources or NAMES)
    for name in names:
        source(name)  # an unknown name fails before any source runs
    summary = IngestSummary(warehouse, as_of, hosts)
    urls = base_urls or {}
    for name in names:
        started = time.perf_counter()
        try:
            result = run_source(
                name, warehouse=warehouse, as_of=as_of, base_url=urls.get(name), full_refresh=full_refresh
            )
        except Exception as exc:  # noqa: BLE001 - reported per source; the CLI exits non-zero
            result = SourceResult(name, time.perf_counter() - started, error=root_cause(exc))
        summary.results.append(result)
        if on_result:
            on_result(result)
    return summary


def root_cause(exc: BaseException) -> str:
    """The innermost project error in a dlt exception chain (dlt wraps extract errors twice)."""
    from ingestion.common.errors import SourceDataError, SourceHTTPError, find_cause

    cause = find_cause(exc, SourceDataError, SourceHTTPError)
    return str(cause) if cause is not None else f"{type(exc).__name__}: {exc}"
