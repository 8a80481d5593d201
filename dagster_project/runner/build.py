"""Run the whole pipeline as the Dagster job, in-process: what `treasury build` does (one code path with the UI).

The run is recorded in the project's Dagster instance (DAGSTER_HOME), so `treasury dev` shows it and every asset it
materialized. A build killed with -9 cannot tell the instance it died: the next build marks such runs failed and
frees the concurrency slots they held, so nothing waits on them for ever.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import redirect_stdout, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa

from dagster_project.lib.build_status import (
    BUILD_TAG,
    HELD_BACK,
    STAGE_TAG,
    RelationStatus,
    blocked_sources,
    failure_reason,
    published_statuses,
)
from dagster_project.lib.progress import Progress, activate
from dagster_project.lib.warehouse import Warehouse
from ingestion.common.lock import process_alive

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The tag that names the process running a CLI build, so a later build can tell that it died.
PID_TAG = "treasury/pid"
DAGSTER_HOME = PROJECT_ROOT / ".dagster_home"
# The instance settings: a committed file (telemetry off, one run at a time, run retries), used as it is by the
# project's own DAGSTER_HOME and copied into another DAGSTER_HOME that has none.
DAGSTER_YAML = DAGSTER_HOME / "dagster.yaml"


def ensure_dagster_home(home: Path | None = None) -> Path:
    """DAGSTER_HOME (default: .dagster_home in the project), with the project's dagster.yaml when it has none."""
    home = home or DAGSTER_HOME
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(DAGSTER_YAML, config)
    return home


@dataclass
class RunSummary:
    success: bool
    seconds: float
    warehouse: Warehouse
    materialized: list[str] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    checks_warned: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    mart_rows: dict[str, int] = field(default_factory=dict)
    drift: dict[str, str] = field(default_factory=dict)  # raw table -> schema drift reported by its load
    published: bool = False
    report_written: bool = False
    unchanged: bool = False  # nothing new since the last publish: dbt and publish were skipped
    rebuilt: str = ""  # what the transform stage rebuilt, and why (lib/changes.py)
    log_path: Path | None = None
    run_ids: list[str] = field(default_factory=list)
    statuses: list[RelationStatus] = field(default_factory=list)  # the published marts._build_status

    @property
    def held_back(self) -> list[RelationStatus]:
        return [s for s in self.statuses if s.status == HELD_BACK and s.schema_name == "marts"]

    def verdict(self) -> str:
        if self.success:
            return "SUCCESS"
        if self.published and self.held_back:
            return f"published with {len(self.held_back)} marts held back"
        return "FAILED"

    def render(self) -> str:
        from dagster_project.runner.cli import sample_label  # the CLI's: cli imports this module when it runs

        label = sample_label() if self.warehouse.sample else "public APIs"
        lines = [
            f"  assets materialized: {len(self.materialized)}",
            f"  checks: {self.checks_passed} passed, {len(self.checks_failed)} failed, {len(self.checks_warned)} warnings",
        ]
        lines += [f"    FAILED check {name}" for name in self.checks_failed]
        lines += [f"    WARNING {name}" for name in self.checks_warned]
        lines += [f"  FAILED step {name}" for name in self.failed_steps]
        if self.rebuilt:
            lines.append(f"  rebuilt: {self.rebuilt}")
        lines.append("  schema drift: " + ("none" if not self.drift else ""))
        lines += [f"    {table}: {text}" for table, text in self.drift.items()]
        if self.mart_rows:
            held = {s.table_name: s for s in self.held_back}
            lines.append("  marts:")
            width = max(len(name) for name in self.mart_rows) + 2  # columns stay aligned whatever the names
            for name, rows in self.mart_rows.items():
                line = f"    marts.{name:<{width}}{rows:>10,} rows"
                if name in held:
                    line += f"  HELD BACK at {held[name].data_as_of or 'no earlier version'}"
                lines.append(line)
        if self.held_back:
            lines.append(
                f"  held back ({len(self.held_back)} marts keep their last good version; marts._build_status):"
            )
            by_reason: dict[str, list[str]] = {}
            for s in self.held_back:
                by_reason.setdefault(s.reason or "no reason recorded", []).append(s.table_name)
            lines += [f"    {', '.join(names)}: {reason}" for reason, names in by_reason.items()]
        serving = self.warehouse.serving_file
        if self.published:
            lines.append(f"  serving file: {serving} published")
        elif self.unchanged:
            lines.append(
                f"  serving file: {serving} current (no new data since it was published: dbt and publish skipped)"
            )
        else:
            lines.append(f"  serving file: {serving} kept as it was (nothing published this run)")
        if self.report_written:
            from dagster_project.report.page import report_dir

            lines.append(f"  stress report: {report_dir(serving) / 'index.html'} (treasury report --open)")
        if self.log_path is not None:
            lines.append(f"  log (Dagster, dbt and dlt lines): {self.log_path}")
        if self.run_ids:
            lines.append(f"  Dagster runs: {', '.join(run_id[:8] for run_id in self.run_ids)}")
        as_of = self.warehouse.as_of_label
        lines.append(f"Pipeline run ({label}, as of {as_of}): {self.verdict()} in {self.seconds:.1f}s")
        return "\n".join(lines)


def _interrupted(result) -> bool:
    """Did Ctrl-C (SIGINT) end this run? Dagster turns it into an interrupted step and a failed run."""
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        while error is not None:
            if "Interrupt" in (error.cls_name or ""):
                return True
            error = error.cause or error.context
    return False


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the CLI builds recorded as running whose process is gone, and free their concurrency slots; the
    ids of the runs released."""
    released = []
    unfinished = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED]
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=unfinished)):
        pid = run.tags.get(PID_TAG)
        if pid is None or not pid.isdigit() or (int(pid) == os.getpid() or process_alive(int(pid))):
            continue
        if run.status != dg.DagsterRunStatus.NOT_STARTED:
            instance.report_run_failed(run, message=f"the build's process (pid {pid}) is gone: killed")
        else:
            instance.report_run_canceled(run, message=f"the build's process (pid {pid}) is gone: killed")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


class _Redirect:
    """A text stream that writes to the current build's targets. One object for the life of the process: whatever
    kept a reference to it during an earlier build (Dagster's log capture does) writes to the current build's log,
    never to a file an earlier build closed."""

    targets: tuple = ()

    def write(self, text: str) -> int:
        for stream in self.targets:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.targets:
            stream.flush()

    def isatty(self) -> bool:
        return False


_STDOUT = _Redirect()


def log_file_path(folder: Path) -> Path:
    """Where a build writes Dagster's, dbt's and dlt's own lines: logs/ in the warehouse's folder (Warehouse.folder),
    one file per build."""
    return folder / "logs" / f"build-{datetime.now():%Y%m%d-%H%M%S}.log"


def release_memory() -> None:
    """Give back to the system what the loads freed: Python's garbage, Arrow's pool and the C heap's free pages. The
    dbt child starts next. Measured with the emulator's caches dropped too: the build process held 905 MB during dbt
    before, 704 MB after."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    with suppress(OSError, AttributeError):  # glibc only
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def run_pipeline(
    warehouse: Warehouse,
    *,
    verbose: bool = False,
    log_path: Path | None = None,
    progress: Progress | None = None,
    after_ingest: Callable[[], None] | None = None,
) -> RunSummary:
    """Run the build's three stage jobs in this process on the instance in DAGSTER_HOME, with `warehouse` as the
    runs' settings (their run configuration: nothing is written to the environment); the summary of what they did.
    `after_ingest` runs once the ingest run is done (the CLI's sample mode drops the emulator's data sets)."""
    from dagster_project.definitions import defs
    from dagster_project.defs.schedules import STAGES
    from dagster_project.defs.transform.assets import warehouse_models
    from dagster_project.lib.changes import REBUILDS_TAG, plan_transform
    from dagster_project.lib.dbt import mart_row_counts
    from ingestion.registry import SUITES

    started = time.perf_counter()
    log_path = log_path or log_file_path(warehouse.folder)
    definitions = defs()
    asset_graph = definitions.resolve_asset_graph()
    loggers: dict = {"treasury_log_file": {"config": {"path": str(log_path)}}, "treasury_progress": {}}
    if verbose:
        loggers["treasury_plain_console"] = {"config": {"log_level": "DEBUG"}}
    # dlt's and the sources' own lines (and library warnings) go to the same file.
    log_path.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.FileHandler(log_path, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    # dagster's own Python warnings too (they have no handler: Python would print them to stderr).
    python_loggers = [logging.getLogger(name) for name in ("treasury", "dlt", "dagster", "py.warnings")]
    for logger in python_loggers:
        logger.addHandler(file_handler)
    logging.captureWarnings(True)
    activate(progress)
    # dagster-dbt copies dbt's lines to stdout (for the UI's captured logs): in a build they belong in the log file,
    # and on the console too with -v.
    # Its own handle: dlt re-initialises its loggers (closing their handlers' files) when a pipeline runs.
    dbt_lines = log_path.open("a", encoding="utf-8", buffering=1)
    _STDOUT.targets = (dbt_lines, sys.stdout) if verbose else (dbt_lines,)
    results = []
    plan = None
    try:
        with redirect_stdout(_STDOUT), dg.DagsterInstance.get() as instance:
            release_dead_runs(instance)
            tags = {PID_TAG: str(os.getpid()), "treasury/command": "treasury build", BUILD_TAG: str(uuid.uuid4())}
            # Three runs, so that one broken source stops only what depends on it: within a run Dagster skips every
            # step after a failed one (it has no "run anyway"); across runs the dbt step leaves out only the blocked
            # sources (build_status.blocked_sources) and publish keeps their marts at their last good version. The
            # daemon chains the same jobs (continue_the_build).
            for stage, job in STAGES.items():
                selection = None
                if stage == "transform":
                    if after_ingest is not None:
                        after_ingest()
                    release_memory()
                    # Only what depends on a source whose data changed is in the transform run; with nothing new,
                    # no transform or publish run at all, so the last real results stay the latest (lib/changes.py).
                    plan = plan_transform(
                        instance,
                        warehouse.target,
                        warehouse.serving_file,
                        warehouse.cutoffs(),
                        blocked_sources(instance, SUITES),
                    )
                    if plan.nothing:
                        for step in ("warehouse_models", "publish__serving_file", "publish__stress_report"):
                            if progress is not None:
                                progress.skipped(step, f"marts unchanged ({plan.reason})")
                        break
                    if progress is not None:
                        progress.announce(f"rebuilding {plan.describe()}")
                    selection = plan.asset_selection(asset_graph, warehouse_models().keys)
                result = definitions.resolve_job_def(job.name).execute_in_process(
                    instance=instance,
                    raise_on_error=False,
                    run_config={"loggers": loggers, "resources": {"warehouse": warehouse.run_config()}},
                    tags={**tags, STAGE_TAG: stage, **({REBUILDS_TAG: plan.tag()} if plan is not None else {})},
                    asset_selection=selection,
                )
                results.append(result)
                if _interrupted(result):
                    raise KeyboardInterrupt  # Ctrl-C: Dagster ended the run; the later stages must not start
    finally:
        _STDOUT.targets = ()
        dbt_lines.close()
        activate(None)
        logging.captureWarnings(False)
        for logger in python_loggers:
            logger.removeHandler(file_handler)
        file_handler.close()
    summary = RunSummary(success=all(r.success for r in results), seconds=0.0, warehouse=warehouse, log_path=log_path)
    summary.run_ids = [r.run_id for r in results]
    for event in (e for r in results for e in r.all_events):
        if event.is_step_materialization:
            summary.materialized.append(event.asset_key.to_user_string())
            drift = event.event_specific_data.materialization.metadata.get("schema_drift")
            if drift is not None and drift.value != "none":
                summary.drift[event.asset_key.to_user_string()] = drift.value
        elif event.is_step_failure:
            summary.failed_steps.append(f"{event.step_key}: {failure_reason(event.step_failure_data.error)}")
    for evaluation in (e for r in results for e in r.get_asset_check_evaluations()):
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        if evaluation.passed:
            summary.checks_passed += 1
        elif evaluation.severity == dg.AssetCheckSeverity.WARN:
            summary.checks_warned.append(f"{name}: {_warning_reason(evaluation, asset_graph)}")
        else:
            summary.checks_failed.append(f"{name}: {_warning_reason(evaluation, asset_graph)}")
    summary.published = "publish/serving_file" in summary.materialized
    summary.report_written = "publish/stress_report" in summary.materialized
    summary.unchanged = summary.success and plan is not None and plan.nothing
    summary.rebuilt = plan.describe() if plan is not None else ""
    summary.mart_rows = mart_row_counts(warehouse.target)
    if summary.published:
        summary.statuses = published_statuses(warehouse.serving_file)
    summary.seconds = time.perf_counter() - started
    return summary


def _warning_reason(evaluation: dg.AssetCheckEvaluation, asset_graph) -> str:
    """Why a check warned or failed: its own description, else (dbt tests) the rows that failed and what the test
    checks."""
    if evaluation.description:
        return evaluation.description
    parts = []
    failed_rows = evaluation.metadata.get("dagster_dbt/failed_row_count")
    if failed_rows is not None:
        parts.append(f"{failed_rows.value} rows fail it")
    spec = asset_graph.get_check_spec(evaluation.asset_check_key)
    if spec.description:
        parts.append(spec.description)
    return "; ".join(parts) or "no reason recorded"
