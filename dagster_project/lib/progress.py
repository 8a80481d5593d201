"""What `treasury build` shows while it runs: one line per step as it finishes, a live indicator on a terminal, and
everything else (Dagster's and dbt's own lines, dlt's, warnings) in a log file.

Two Dagster loggers, selected by the build's run config (a run launched from the UI uses Dagster's console logger
as usual): `treasury_progress` feeds the `Progress` display, `treasury_log_file` writes every record to the log.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import dagster as dg

SPINNER = "|/-\\"
# Log lines of a step worth a place on its progress line.
NOTE_PREFIXES = ("marts unchanged",)


@dataclass
class StepTally:
    started: float
    assets: int = 0
    rows: int = 0
    rows_loaded: int = 0
    passed: int = 0
    warned: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)


def step_label(step_key: str) -> str:
    """A person's name for a step: `ingest <source>`, `dbt build`, `check <source>.<table>`."""
    if step_key.startswith("ingest_"):
        return "ingest " + step_key.removeprefix("ingest_")
    names = {
        "warehouse_models": "dbt build (seeds, models, tests)",
        "dbt_unit_tests": "dbt unit tests",
        "publish__serving_file": "publish serving file",
        "publish__stress_report": "write stress report",
    }
    if step_key in names:
        return names[step_key]
    for suffix, kind in (("_great_expectations", "expectations"), ("_fresh_per_release_calendar", "freshness")):
        if step_key.endswith(suffix):
            source_table = step_key.removesuffix(suffix)
            source, _, table = source_table.partition("__")
            return f"{kind} {source}.{table}"
    return step_key


def _is_check_step(step_key: str) -> bool:
    return step_key.endswith(("_great_expectations", "_fresh_per_release_calendar"))


class Progress:
    """Prints a line per finished step to `stream`; on a terminal, a spinner line shows the running step."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.steps: dict[str, StepTally] = {}
        self.running: str | None = None
        # Raw-table checks that all passed are shown as one line per run of consecutive check steps.
        self._passed_checks: list[tuple[int, float]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._spinner: threading.Thread | None = None

    # --- the display -------------------------------------------------------------------------------------
    def line(self, text: str) -> None:
        with self._lock:
            if self.live:
                self.stream.write("\r\033[K")
            self.stream.write(text + "\n")
            self.stream.flush()

    def _spin(self) -> None:
        turn = 0
        while not self._stop.wait(0.2):
            with self._lock:
                step = self.running
                if step is None or step not in self.steps:
                    continue
                seconds = time.monotonic() - self.steps[step].started
                self.stream.write(f"\r\033[K  {SPINNER[turn % 4]} {step_label(step)}  {seconds:.0f}s")
                self.stream.flush()
            turn += 1

    def __enter__(self) -> Progress:
        if self.live:
            self._spinner = threading.Thread(target=self._spin, name="treasury-progress", daemon=True)
            self._spinner.start()
        return self

    def _flush_checks(self) -> None:
        if self._passed_checks:
            steps, checks = len(self._passed_checks), sum(n for n, _ in self._passed_checks)
            seconds = sum(s for _, s in self._passed_checks)
            self._passed_checks = []
            self.line(
                f"  {'checks on the raw tables':<50}{f'{checks}/{checks} passed ({steps} steps)':<50}{seconds:>6.1f}s"
            )

    def __exit__(self, *exc) -> None:
        self._flush_checks()
        self._stop.set()
        if self._spinner is not None:
            self._spinner.join()
            with self._lock:
                self.stream.write("\r\033[K")
                self.stream.flush()

    def skipped(self, step: str, why: str) -> None:
        """A step that was not run at all (a later stage of the build that had nothing to do)."""
        self._flush_checks()
        self.line(f"  {step_label(step):<50}{f'skipped ({why})':<50}{0.0:>6.1f}s")

    def announce(self, text: str) -> None:
        """A line of its own between steps (what the next stage will do)."""
        self._flush_checks()
        self.line(f"  {text}")

    def note(self, step: str, text: str) -> None:
        if step in self.steps:
            self.steps[step].notes.append(text)

    # --- Dagster events ------------------------------------------------------------------------------------
    def event(self, event: dg.DagsterEvent) -> None:
        step = event.step_key
        if step is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            if not _is_check_step(step):
                self._flush_checks()
            self.steps[step] = StepTally(time.monotonic())
            self.running = step
            return
        tally = self.steps.setdefault(step, StepTally(time.monotonic()))
        if kind == "ASSET_MATERIALIZATION":
            metadata = event.event_specific_data.materialization.metadata
            tally.assets += 1
            rows = metadata.get("dagster/row_count")
            tally.rows += int(rows.value) if rows is not None else 0
            tables = metadata.get("tables")
            if tables is not None:
                tally.notes.append(f"{tables.value} tables copied")
            before = metadata.get("rows_before_load")
            if rows is not None and before is not None:
                tally.rows_loaded += int(rows.value) - int(before.value)
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                tally.passed += 1
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                tally.warned += 1
            else:
                tally.failed += 1
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED", "STEP_UP_FOR_RETRY"):
            self.running = None
            seconds = time.monotonic() - tally.started
            clean = kind == "STEP_SUCCESS" and not (tally.warned or tally.failed)
            if _is_check_step(step) and clean:
                self._passed_checks.append((tally.passed, seconds))
                return
            self.line(f"  {step_label(step):<50}{self._describe(kind, tally):<50}{seconds:>6.1f}s")

    @staticmethod
    def _describe(kind: str, tally: StepTally) -> str:
        if kind == "STEP_SKIPPED":
            return "skipped (nothing upstream was materialized)"
        if kind == "STEP_UP_FOR_RETRY":
            return "will be retried"
        parts = []
        if tally.assets:
            rows = f", {tally.rows:,} rows" if tally.rows else ""
            parts.append(f"{tally.assets} asset{'s' * (tally.assets != 1)}{rows}")
        if tally.rows_loaded:
            parts.append(f"+{tally.rows_loaded:,} new")
        checks = tally.passed + tally.warned + tally.failed
        if checks:
            text = f"{tally.passed}/{checks} checks passed"
            text += f", {tally.warned} warned" if tally.warned else ""
            text += f", {tally.failed} FAILED" if tally.failed else ""
            parts.append(text)
        parts += tally.notes
        if kind == "STEP_FAILURE":
            parts.insert(0, "FAILED")
        return "; ".join(parts) or ("done" if kind == "STEP_SUCCESS" else "")


_ACTIVE: Progress | None = None


def activate(progress: Progress | None) -> None:
    global _ACTIVE
    _ACTIVE = progress


class _ProgressHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None)
        if not isinstance(meta, dict) or _ACTIVE is None:
            return
        event = meta.get("dagster_event")
        if event is not None:
            _ACTIVE.event(event)
        elif meta.get("step_key") and str(meta.get("orig_message", "")).startswith(NOTE_PREFIXES):
            _ACTIVE.note(meta["step_key"], str(meta["orig_message"]))


@dg.logger(description="The build's progress display (treasury build): one line per finished step.")
def treasury_progress(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("treasury_progress", level=logging.DEBUG)
    logger.addHandler(_ProgressHandler())
    return logger


@dg.logger(
    config_schema={"path": dg.Field(str), "log_level": dg.Field(str, default_value="DEBUG")},
    description="Every record of the run, plain text, appended to a file.",
)
def treasury_log_file(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("treasury_log_file", level=init_context.logger_config["log_level"])
    path = Path(init_context.logger_config["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


@dg.logger(
    config_schema={"log_level": dg.Field(str, default_value="DEBUG")},
    description="Dagster's and dbt's lines, live, on stderr, without colour codes (treasury build -v).",
)
def treasury_plain_console(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("treasury_plain_console", level=init_context.logger_config["log_level"])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    return logger


# The loggers every job offers (definitions.py); Dagster's console logger stays the default for runs from the UI.
LOGGERS = {
    "console": dg.colored_console_logger,
    "treasury_progress": treasury_progress,
    "treasury_log_file": treasury_log_file,
    "treasury_plain_console": treasury_plain_console,
}
