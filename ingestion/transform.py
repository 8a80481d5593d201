"""Run the dbt project (dbt/) against the warehouse: `dbt build` with seeds, models, data and unit tests.

Used by `treasury build` (ingest, then this). dbt runs in-process through dbtRunner, with the profile
in dbt/profiles.yml reading the same TREASURY_WAREHOUSE the loaders write to.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.common.warehouse import row_counts

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt"
MARTS = (
    "fct_auctions",
    "fct_par_yields",
    "mart_yield_curve_daily",
    "fct_futures_positioning",
    "fct_foreign_holdings",
    "mart_treasury_stress_weekly",
)


@dataclass
class DbtSummary:
    ok: bool
    seconds: float
    counts: Counter = field(default_factory=Counter)  # (resource type, status) -> n
    failures: list[str] = field(default_factory=list)
    mart_rows: dict[str, int] = field(default_factory=dict)

    def render(self) -> str:
        by_type: dict[str, Counter] = {}
        for (kind, status), n in self.counts.items():
            by_type.setdefault(kind, Counter())[status] += n
        lines = [f"dbt build {'passed' if self.ok else 'FAILED'} in {self.seconds:.1f}s"]
        for kind in ("seed", "model", "test", "unit_test"):
            if kind in by_type:
                lines.append(
                    f"  {kind + 's':<11}" + ", ".join(f"{n} {status}" for status, n in sorted(by_type[kind].items()))
                )
        if self.mart_rows:
            lines.append("  marts:")
            lines += [f"    marts.{name:<30}{rows:>10,} rows" for name, rows in self.mart_rows.items()]
        lines += [f"  FAILED: {f}" for f in self.failures]
        return "\n".join(lines)


def dbt_env(warehouse: Path) -> dict[str, str]:
    return {
        "TREASURY_WAREHOUSE": str(warehouse.resolve()),
        "DBT_PROFILES_DIR": str(DBT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
    }


def run_dbt(args: list[str], warehouse: Path):
    """Invoke dbt in-process with the project's paths and the warehouse; returns dbt's result object."""
    from dbt.cli.main import dbtRunner

    saved = {k: os.environ.get(k) for k in dbt_env(warehouse)}
    os.environ.update(dbt_env(warehouse))
    try:
        return dbtRunner().invoke(
            [
                *args,
                "--project-dir",
                str(DBT_DIR),
                "--profiles-dir",
                str(DBT_DIR),
                "--target-path",
                str(DBT_DIR / "target"),
                "--log-path",
                str(DBT_DIR / "logs"),
                "--quiet",
            ]
        )
    finally:
        _release_duckdb()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _release_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB handle open for the life of the process; close it so the loaders (and
    readers) can open the file again in this process."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover
        return
    env = getattr(DuckDBConnectionManager, "_ENV", None)
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()


def build(warehouse: Path, select: list[str] | None = None) -> DbtSummary:
    """`dbt build` (optionally `--select`), summarised: counts by resource type and status, failures, mart rows."""
    import time

    started = time.perf_counter()
    result = run_dbt(["build", *(["--select", *select] if select else [])], warehouse)
    summary = DbtSummary(ok=bool(result.success), seconds=0.0)
    if result.exception is not None:
        summary.failures.append(f"{type(result.exception).__name__}: {result.exception}")
    for node_result in getattr(result.result, "results", None) or []:
        node = node_result.node
        status = str(node_result.status)
        summary.counts[(node.resource_type, status)] += 1
        if status in ("fail", "error"):
            summary.failures.append(f"{node.resource_type} {node.name}: {node_result.message}")
    summary.seconds = time.perf_counter() - started
    summary.mart_rows = mart_row_counts(warehouse)
    return summary


def mart_row_counts(warehouse: Path) -> dict[str, int]:
    """Rows in each mart that exists in the warehouse (empty if the file does not exist yet)."""
    counts = row_counts(warehouse, [("marts", name) for name in MARTS])
    return {name: counts[("marts", name)] for name in MARTS if ("marts", name) in counts}
