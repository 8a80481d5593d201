"""Run the whole pipeline as the Dagster job, in-process: what `treasury build` does (one code path with the UI)."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from ingestion import settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
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
    sample: bool
    materialized: list[str] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    checks_warned: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    mart_rows: dict[str, int] = field(default_factory=dict)
    drift: dict[str, str] = field(default_factory=dict)  # raw table -> schema drift reported by its load
    published: bool = False

    def render(self) -> str:
        label = "SAMPLE DATA (built-in emulator, synthetic)" if self.sample else "public APIs"
        lines = [
            f"Pipeline run ({label}, as of {settings.as_of()}): {'SUCCESS' if self.success else 'FAILED'} in {self.seconds:.1f}s",
            f"  assets materialized: {len(self.materialized)}",
            f"  checks: {self.checks_passed} passed, {len(self.checks_failed)} failed, {len(self.checks_warned)} warnings",
        ]
        lines += [f"    FAILED check {name}" for name in self.checks_failed]
        lines += [f"    WARNING {name}" for name in self.checks_warned]
        lines += [f"  FAILED step {name}" for name in self.failed_steps]
        lines.append("  schema drift: " + ("none" if not self.drift else ""))
        lines += [f"    {table}: {text}" for table, text in self.drift.items()]
        if self.mart_rows:
            lines.append("  marts:")
            lines += [f"    marts.{name:<30}{rows:>10,} rows" for name, rows in self.mart_rows.items()]
        serving = settings.serving_path()
        lines.append(
            f"  serving file: {serving} published"
            if self.published
            else f"  serving file: {serving} kept as it was (nothing published this run)"
        )
        return "\n".join(lines)


def run_pipeline(log_level: str = "INFO") -> RunSummary:
    from dagster_project.definitions import defs
    from ingestion.transform import mart_row_counts

    started = time.perf_counter()
    definitions = defs()
    job = definitions.resolve_job_def("refresh_all")
    asset_graph = definitions.resolve_asset_graph()
    result = job.execute_in_process(
        raise_on_error=False, run_config={"loggers": {"console": {"config": {"log_level": log_level}}}}
    )
    summary = RunSummary(success=result.success, seconds=0.0, sample=settings.sample_mode())
    for event in result.all_events:
        if event.is_step_materialization:
            summary.materialized.append(event.asset_key.to_user_string())
            drift = event.event_specific_data.materialization.metadata.get("schema_drift")
            if drift is not None and drift.value != "none":
                summary.drift[event.asset_key.to_user_string()] = drift.value
        elif event.is_step_failure:
            summary.failed_steps.append(f"{event.step_key}: {_failure_reason(event.step_failure_data.error)}")
    for evaluation in result.get_asset_check_evaluations():
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        if evaluation.passed:
            summary.checks_passed += 1
        elif evaluation.severity == dg.AssetCheckSeverity.WARN:
            summary.checks_warned.append(f"{name}: {_warning_reason(evaluation, asset_graph)}")
        else:
            summary.checks_failed.append(f"{name}: {_warning_reason(evaluation, asset_graph)}")
    summary.published = "publish/serving_file" in summary.materialized
    summary.mart_rows = mart_row_counts(settings.warehouse_path())
    summary.seconds = time.perf_counter() - started
    return summary


# The project's own errors name the source, the record and the problem: the line a person needs.
_PROJECT_ERRORS = ("SourceDataError", "SourceHTTPError")


def _failure_reason(error) -> str:
    """One line for a failed step: the project's error in the chain (dlt wraps it twice), else the root cause
    (Dagster wraps a step's exception in its own)."""
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause or error.context
    found = next((e for e in chain if e.cls_name in _PROJECT_ERRORS), None)
    lines = (found or chain[-1]).message.strip().splitlines()
    first = lines[0] if lines else chain[-1].cls_name or "no message"
    # The project's errors speak for themselves ("[source] where: problem"): drop their class name.
    return first.removeprefix(f"ingestion.common.errors.{found.cls_name}: ") if found else first


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
