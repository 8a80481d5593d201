"""`make bench`: how fast the pipeline is on this machine, measured the way a user runs it.

Prints, from one run of this script: `treasury build --sample` on an empty warehouse as of the business day before
today (cold), then as of today (one new day: only what changed is rebuilt), then again with nothing new (no-change), the cold build on the
emulator's 4x sample (how cost grows with data: time, memory and rows loaded, as ratios), `treasury ingest --sample`
alone, the targets of a daily refresh (ratios to the cold build, memory), each step's time
in the three builds (from the Dagster run history),
the peak resident memory of each command (the process and all its children, sampled every 50 ms) and the import
time of the modules a build loads (each in a fresh interpreter); then the developer loop: `make test-fast` and
`make test`, each timed as a whole (`--no-tests` leaves them out: together they take about 15 minutes on 2 cores).
Then the same cold and no-change builds on the lakehouse backend (DuckLake with a SQLite catalog, and with a
PostgreSQL catalog on a throwaway PostgreSQL server when Debian's PostgreSQL is installed), and the p95 latency of
BI queries on each backend (the serving file, each lake attached read-only). Everything runs in a scratch folder:
the project's warehouse and run history are not touched. Figures vary from machine to machine and run to run:
compare ratios taken from one run. `--json PATH` also writes the figures as JSON; `--no-lake` leaves the lake out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parent.parent
TREASURY = str(Path(sys.executable).with_name("treasury"))
# What a build imports, roughly in the order it imports them (each measured alone, in a fresh interpreter).
IMPORTS = (
    "duckdb",
    "dlt",
    "ingestion.pipelines",
    "dagster",
    "dagster_dlt",
    "dagster_dbt",
    "dbt.cli.main",
    "great_expectations",
    "dagster_project.definitions",
)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The process name is in parentheses and may contain spaces: the parent pid is the 2nd field after it.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _tree_rss_bytes(root: int) -> int:
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
        todo.extend(_children(pid))
    return total


def run(label: str, command: list[str], env: dict[str, str]) -> dict:
    """Run `command`, sampling the resident memory of its process tree; returns seconds, peak RSS and output."""
    print(
        f"  {label}: {' '.join(Path(command[0]).name if i == 0 else c for i, c in enumerate(command))} ...", flush=True
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_bytes(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.communicate()[0]
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        print(output[-4000:])
        raise SystemExit(f"bench: {label} failed (exit {process.returncode})")
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(peak / 2**20), "lines": len(output.splitlines())}


def raw_size(warehouse: str) -> dict[str, int]:
    """What the sources loaded: rows and cells (rows x columns) of the raw tables (not dlt's own or its staging)."""
    import duckdb

    rows = cells = 0
    with duckdb.connect(warehouse, read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name, count(*) from information_schema.columns "
            "where table_schema like 'raw\\_%' escape '\\' and table_schema not like '%\\_staging' escape '\\' "
            "and table_name not like '\\_dlt%' escape '\\' group by all"
        ).fetchall()
        for schema, table, columns in tables:
            n = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            rows, cells = rows + n, cells + n * columns
    return {"raw_rows": rows, "raw_cells": cells}


def step_seconds(dagster_home: Path) -> list[dict[str, float]]:
    """Each step's seconds in the builds recorded in `dagster_home`, oldest build first ([] if none were recorded).
    A build is up to three runs (ingest, transform, publish) sharing the `treasury/build` tag."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.get() as instance:
        builds: dict[str, dict[str, float | None]] = {}
        for run in reversed(instance.get_runs()):
            steps = builds.setdefault(run.tags.get("treasury/build", run.run_id), {})
            for s in sorted(instance.get_run_step_stats(run.run_id), key=lambda s: s.start_time or 0):
                steps[s.step_key] = round(s.end_time - s.start_time, 1) if s.start_time and s.end_time else None
        return list(builds.values())


def import_seconds(module: str, env: dict[str, str]) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=PROJECT, capture_output=True, text=True, check=True)
    return round(float(out.stdout.strip().splitlines()[-1]), 1)


def test_suite(target: str, env: dict[str, str]) -> dict:
    """`make <target>` (the tests as the README runs them): seconds, and pytest's closing line (passed, skipped...)."""
    make = os.environ.get("MAKE", "make")
    print(f"  {target}: {make} {target} ...", flush=True)
    started = time.perf_counter()
    result = subprocess.run(
        [make, "--no-print-directory", target], env=env, cwd=PROJECT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    lines = [line.strip("= ") for line in result.stdout.splitlines() if " in " in line and line.startswith("=")]
    if result.returncode != 0:
        print(result.stdout[-4000:] + result.stderr[-2000:])
        raise SystemExit(f"bench: make {target} failed (exit {result.returncode})")
    return {"seconds": round(seconds, 1), "pytest": lines[-1] if lines else ""}


# What a BI tool asks of the marts: the board's last year, an auction summary, a positioning aggregate.
BI_QUERIES = (
    "select week_ending, composite_stress_score, is_stress_week from marts.mart_treasury_stress_weekly "
    "order by week_ending desc limit 52",
    "select security_class, term_group, count(*), avg(bid_to_cover_recomputed), avg(tail_proxy_prior_close_bp) "
    "from marts.fct_auctions group by all order by all",
    "select report_date, trader_group, sum(net_dv01_usd) from marts.fct_futures_positioning "
    "where report_date >= date '2024-01-01' and is_treasury_future group by all order by all",
)


def bi_query_p95(connect, rounds: int = 30) -> dict:
    """Each BI query `rounds` times on one open read-only connection (as a BI tool keeps one): p50 and p95 in ms."""
    timings: list[float] = []
    with connect() as con:
        for query in BI_QUERIES:
            con.execute(query).fetchall()  # warm: the first query of a connection reads the catalog
        for _ in range(rounds):
            for query in BI_QUERIES:
                started = time.perf_counter()
                con.execute(query).fetchall()
                timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50_ms": round(timings[len(timings) // 2], 1), "p95_ms": round(timings[int(len(timings) * 0.95)], 1)}


def lake_builds(folder: Path, env: dict[str, str], figures: dict) -> None:
    """Cold and no-change builds on a SQLite-catalog lake and (when PostgreSQL is installed) a PostgreSQL-catalog
    one; each lake's BI query latency."""
    from ingestion.common.lake import Lake

    cases = [("lake_sqlite", f"ducklake:{folder / 'lake_sqlite' / 'catalog.sqlite'}", None)]
    server = None
    try:
        from tests.pg import _bin_dir, remove, start_server

        if _bin_dir() is not None:
            server = start_server()
            cases.append(("lake_postgres", f"ducklake:postgres:{server.conninfo}", str(folder / "lake_postgres")))
        else:
            print("  (PostgreSQL is not installed: the PostgreSQL-catalog lake is left out)", flush=True)
        for key, warehouse, data_path in cases:
            lake_env = dict(
                env,
                TREASURY_WAREHOUSE=warehouse,
                TREASURY_SERVING=str(folder / key / "serving.duckdb"),
                DAGSTER_HOME=str(folder / f"dagster_home_{key}"),
                **({"TREASURY_LAKE_DATA_PATH": data_path} if data_path else {}),
            )
            figures[f"{key}_cold"] = run(f"{key} cold build", [TREASURY, "build", "--sample"], lake_env)
            figures[f"{key}_no_change"] = run(f"{key} no-change build", [TREASURY, "build", "--sample"], lake_env)
            lake = Lake.parse(warehouse, data_path)
            figures[f"{key}_bi"] = bi_query_p95(lake.connect)
    finally:
        if server is not None:
            remove(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to this JSON file")
    parser.add_argument("--no-tests", action="store_true", help="leave out the timing of make test-fast and make test")
    parser.add_argument("--no-lake", action="store_true", help="leave out the builds on the lakehouse backend")
    parser.add_argument(
        "--scale",
        type=int,
        default=4,
        metavar="K",
        help="also build the emulator's K-times sample cold (TREASURY_SAMPLE_SCALE, default 4; 1 leaves it out)",
    )
    args = parser.parse_args()
    figures: dict = {"machine": f"{os.cpu_count()} cores", "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="treasury-bench-") as scratch:
        folder = Path(scratch)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TREASURY_", "SOURCES__", "DAGSTER_HOME"))}
        build_env = dict(
            env,
            TREASURY_WAREHOUSE=str(folder / "build" / "warehouse.duckdb"),
            TREASURY_SERVING=str(folder / "build" / "serving.duckdb"),
            DAGSTER_HOME=str(folder / "dagster_home"),
        )
        # A daily refresh: the warehouse as of the business day before today, then today's build (one new day), then
        # the same build again (nothing new).
        today = datetime.now(ZoneInfo("America/New_York")).date()
        day_before = today - timedelta(days=3 if today.weekday() == 0 else 1)
        print(f"Benchmark (scratch folder, sample mode, as of {day_before}, then {today}):", flush=True)
        build = [TREASURY, "build", "--sample", "--as-of"]
        figures["cold_build"] = run("cold build", [*build, day_before.isoformat()], build_env)
        figures["one_day_build"] = run("one-day build", [*build, today.isoformat()], build_env)
        figures["no_change_build"] = run("no-change build", [*build, today.isoformat()], build_env)
        figures["cold_build"].update(raw_size(build_env["TREASURY_WAREHOUSE"]))
        # How cost grows with data: the same cold build on the emulator's larger sample (TREASURY_SAMPLE_SCALE=4:
        # four times the CFTC contracts, the widest and longest data set; emulator/server.py says why only those).
        scaled_env = dict(
            build_env,
            TREASURY_SAMPLE_SCALE=str(args.scale),
            TREASURY_WAREHOUSE=str(folder / "scaled" / "warehouse.duckdb"),
            TREASURY_SERVING=str(folder / "scaled" / "serving.duckdb"),
            DAGSTER_HOME=str(folder / "dagster_home_scaled"),
        )
        if args.scale > 1:
            figures["scaled_cold_build"] = run(
                f"cold build, {args.scale}x sample", [*build, day_before.isoformat()], scaled_env
            )
            figures["scaled_cold_build"].update(raw_size(scaled_env["TREASURY_WAREHOUSE"]))
        ingest_env = dict(build_env, TREASURY_WAREHOUSE=str(folder / "ingest" / "warehouse.duckdb"))
        figures["ingest_only"] = run("ingest only", [TREASURY, "ingest", "--sample"], ingest_env)
        import duckdb

        figures["file_bi"] = bi_query_p95(lambda: duckdb.connect(build_env["TREASURY_SERVING"], read_only=True))
        if not args.no_lake:
            lake_builds(folder, env, figures)
        steps = step_seconds(folder / "dagster_home") if (folder / "dagster_home").exists() else []
        figures["steps"] = dict(zip(("cold", "one_day", "no_change"), steps, strict=False)) if len(steps) >= 3 else {}
        figures["imports"] = {m: import_seconds(m, env) for m in IMPORTS}
        if not args.no_tests:
            figures["tests"] = {target: test_suite(target, env) for target in ("test-fast", "test")}

    cold, warm = figures["cold_build"]["seconds"], figures["no_change_build"]["seconds"]
    figures["no_change_over_cold"] = round(warm / cold, 2)
    figures["one_day_over_cold"] = round(figures["one_day_build"]["seconds"] / cold, 2)
    print()
    print(f"{'command':<26}{'seconds':>9}{'peak RSS MB':>13}{'output lines':>14}")
    for key, label in (
        ("cold_build", "build --sample, cold"),
        ("one_day_build", "build --sample, one day"),
        ("no_change_build", "build --sample, no change"),
        ("ingest_only", "ingest --sample, cold"),
    ):
        f = figures[key]
        print(f"{label:<26}{f['seconds']:>9.1f}{f['peak_rss_mb']:>13,}{f['lines']:>14}")
    print()
    # The targets of issue 23 (README "How fast"), measured in this run.
    targets = (
        (
            "no-change build / cold build",
            f"{figures['no_change_over_cold']:.2f}",
            "0.15 or less",
            figures["no_change_over_cold"] <= 0.15,
        ),
        (
            "one new business day / cold",
            f"{figures['one_day_over_cold']:.2f}",
            "0.30 or less",
            figures["one_day_over_cold"] <= 0.30,
        ),
        ("cold build, nine sources", f"{cold:.1f} s", "45 s or less", cold <= 45),
        (
            "peak RSS, cold build",
            f"{figures['cold_build']['peak_rss_mb']:,} MB",
            "1,024 MB or less",
            figures["cold_build"]["peak_rss_mb"] <= 1024,
        ),
    )
    if "scaled_cold_build" in figures:
        one, big = figures["cold_build"], figures["scaled_cold_build"]
        growth = {
            "data_cells": round(big["raw_cells"] / one["raw_cells"], 2),
            "data_rows": round(big["raw_rows"] / one["raw_rows"], 2),
            "time": round(big["seconds"] / one["seconds"], 2),
            "memory": round(big["peak_rss_mb"] / one["peak_rss_mb"], 2),
        }
        figures["scaled_over_cold"] = growth
        # The goal: at most linear: k times the data in at most k times the time and 2x the memory. The
        # data's own ratio (cells loaded) is the k a time ratio is held to: the scale multiplies one source.
        targets += (
            (
                f"{args.scale}x sample / 1x, time",
                f"{growth['time']:.2f}",
                f"{args.scale} or less",
                growth["time"] <= args.scale,
            ),
            (
                f"{args.scale}x sample / 1x, time / data",
                f"{growth['time'] / growth['data_cells']:.2f}",
                "1 or less",
                growth["time"] <= growth["data_cells"],
            ),
            (f"{args.scale}x sample / 1x, memory", f"{growth['memory']:.2f}", "2 or less", growth["memory"] <= 2),
        )
    print(f"{'case':<34}{'measured':>12}  {'target':<18}met")
    for case, measured, target, met in targets:
        print(f"{case:<34}{measured:>12}  {target:<18}{'yes' if met else 'NO'}")
    if "scaled_cold_build" in figures:
        print()
        print(f"{'cold build':<26}{'raw rows':>12}{'raw cells':>14}{'seconds':>9}{'peak RSS MB':>13}")
        for key, label in (("cold_build", "sample (1x)"), ("scaled_cold_build", f"{args.scale}x sample")):
            f = figures[key]
            print(f"{label:<26}{f['raw_rows']:>12,}{f['raw_cells']:>14,}{f['seconds']:>9.1f}{f['peak_rss_mb']:>13,}")
        g = figures["scaled_over_cold"]
        print(f"{'ratio':<26}{g['data_rows']:>12.2f}{g['data_cells']:>14.2f}{g['time']:>9.2f}{g['memory']:>13.2f}")
    lakes = [key for key in ("lake_sqlite", "lake_postgres") if f"{key}_cold" in figures]
    print()
    print(
        f"{'backend':<34}{'cold s':>8}{'x file':>8}{'no-change s':>13}{'peak RSS MB':>13}{'BI p50 ms':>11}{'BI p95 ms':>11}"
    )
    rows = [
        ("DuckDB file (serving file for BI)", figures["cold_build"], figures["no_change_build"], figures["file_bi"])
    ]
    labels = {"lake_sqlite": "DuckLake, SQLite catalog", "lake_postgres": "DuckLake, PostgreSQL catalog"}
    rows += [(labels[k], figures[f"{k}_cold"], figures[f"{k}_no_change"], figures[f"{k}_bi"]) for k in lakes]
    for label, c, n, bi in rows:
        print(
            f"{label:<34}{c['seconds']:>8.1f}{c['seconds'] / cold:>8.2f}{n['seconds']:>13.1f}{c['peak_rss_mb']:>13,}"
            f"{bi['p50_ms']:>11.1f}{bi['p95_ms']:>11.1f}"
        )
    if figures["steps"]:
        print()
        print(f"{'step':<62}{'cold s':>8}{'one day s':>11}{'no-change s':>13}")

        def cell(seconds: float | None, width: int) -> str:
            return f"{seconds:>{width}.1f}" if seconds is not None else f"{'not run':>{width}}"

        for step, seconds in figures["steps"]["cold"].items():
            one_day, no_change = (figures["steps"][k].get(step) for k in ("one_day", "no_change"))
            print(f"{step[:60]:<62}{cell(seconds, 8)}{cell(one_day, 11)}{cell(no_change, 13)}")
    else:
        print("steps: no runs recorded in DAGSTER_HOME (the build ran on an ephemeral instance)")
    print()
    print(f"{'import (fresh interpreter)':<44}{'seconds':>8}")
    for module, seconds in figures["imports"].items():
        print(f"{module:<44}{seconds:>8.1f}")
    if "tests" in figures:
        print()
        print(f"{'tests (as the README runs them)':<34}{'seconds':>9}  pytest")
        for target, f in figures["tests"].items():
            print(f"{'make ' + target:<34}{f['seconds']:>9.1f}  {f['pytest']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
