"""The fault matrix, through `treasury build`: a source that fails says why in the summary (source, record, problem),
the serving file keeps its last good copy, the next ordinary build recovers and publishes, and schema drift is in
the summary."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.lib.dbt import DBT_DIR
from emulator.server import base_urls, serve
from tests.conftest import AS_OF
from tests.dagster_project.test_publish import digest
from tests.faulty_api import emulated
from tests.ingestion.test_fault_matrix import Tamper, _future_report


def build(monkeypatch, urls, as_of=AS_OF) -> tuple[int, str]:
    """`treasury build --as-of` in this process with every source pointed at `urls`: (exit status, stdout)."""
    from dagster_project.runner.cli import main

    for source, url in urls.items():
        monkeypatch.setenv(f"SOURCES__{source.upper()}__BASE_URL", url)
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["build", "--as-of", as_of.isoformat()])
    return code, out.getvalue()


@pytest.mark.slow  # two whole builds
def test_a_poisoned_cftc_page_fails_its_source_with_the_reason_and_holds_back_only_its_marts(
    sample_build, tmp_path, monkeypatch
):
    # Any path works: a quote, spaces and non-ASCII in the folder, and a serving file with the warehouse's name in
    # another folder (the same stem once broke the publish's ATTACH).
    warehouse, first_serving = sample_build.copy_to(tmp_path / "it's a wåre house")
    serving = tmp_path / "served copy" / "warehouse.duckdb"
    serving.parent.mkdir()
    first_serving.rename(serving)
    monkeypatch.setenv("TREASURY_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TREASURY_SERVING", str(serving))
    published = digest(serving)
    tamper = Tamper(emulated(as_of=AS_OF))
    with serve(tamper) as root:
        tamper.once("/resource/", _future_report)
        code, summary = build(monkeypatch, base_urls(root))
        assert code == 1, summary
        [line] = [row for row in summary.splitlines() if "FAILED step ingest_cftc_tff" in row]
        assert "[cftc_tff.tff_futures_only] page 1" in line, line
        assert "1 record(s) with report_date_as_yyyy_mm_dd after 2025-06-24" in line and "2099-06-16" in line, line
        # The other sources' marts are published; the four that read CFTC keep their last good version.
        assert "published with 4 marts held back in " in summary.splitlines()[-1], summary
        with duckdb.connect(str(serving), read_only=True) as con:
            held = con.execute(
                "select table_name from marts._build_status where status = 'held back' and schema_name = 'marts' "
                "order by 1"
            ).fetchall()
        assert [name for (name,) in held] == [
            "fct_basis_trade_proxy_weekly",
            "fct_futures_positioning",
            "mart_stress_alerts",
            "mart_treasury_stress_weekly",
        ]
        # The next ordinary build recovers without --full-refresh and publishes. FiscalData now also sends a new
        # field: it loads as text, and the summary says so.
        tamper.emulator.drift_fields = {"wi_yield_at_deadline": "4.250000"}
        code, summary = build(monkeypatch, base_urls(root))
    assert code == 0, summary
    assert "FAILED" not in summary and digest(serving) != published
    assert "treasury_auctions/auctions_query: new upstream fields loaded as text: wi_yield_at_deadline" in summary
    # dagster-dbt's folder per dbt invocation is removed once read: dbt/target does not grow with each build.
    # (Named by the Dagster run: other processes, a test worker beside this one, may be running dbt right now.)
    with dg.DagsterInstance.get() as instance:
        runs = [run.run_id[:7] for run in instance.get_runs()]
    assert len(runs) >= 6  # two builds of three runs each
    assert [p.name for p in (DBT_DIR / "target").iterdir() if any(f"-{run}-" in p.name for run in runs)] == []


def test_the_same_file_cannot_be_warehouse_and_serving_file(sample_build, tmp_path, monkeypatch):
    warehouse, _ = sample_build.copy_to(tmp_path / "same")
    monkeypatch.setenv("TREASURY_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TREASURY_SERVING", str(warehouse))
    from dagster_project.definitions import defs

    result = (
        defs()
        .resolve_job_def("refresh_all")
        .execute_in_process(raise_on_error=False, asset_selection=[dg.AssetKey(["publish", "serving_file"])])
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "TREASURY_SERVING and TREASURY_WAREHOUSE are the same file" in str(failure.step_failure_data.error)


def test_dbt_dies_with_its_parent(tmp_path):
    """kill -9 of the process running dbt takes dbt with it (treasury-dbt asks Linux for PR_SET_PDEATHSIG)."""
    from dagster_project.lib.dbt import DBT_CHILD

    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; child = subprocess.Popen(sys.argv[1:]); print(child.pid, flush=True); child.wait()",
            DBT_CHILD,
            "parse",
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(tmp_path / "target"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TREASURY_WAREHOUSE": str(tmp_path / "w.duckdb")},
    )
    child = int(parent.stdout.readline())
    time.sleep(1.0)
    assert _alive(child)  # dbt is running
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child), "dbt outlived its parent"


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie has exited; the command name in /proc/PID/stat may hold spaces)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().split(") ")[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def test_a_dagster_home_with_spaces_quotes_and_unicode_keeps_run_history(tmp_path):
    """The instance `treasury dev` uses: the project's dagster.yaml lands in any DAGSTER_HOME, and its run
    storage (SQLite) works there."""
    from dagster_project.runner.build import ensure_dagster_home

    home = ensure_dagster_home(tmp_path / "it's a dågster home")
    assert "enabled: false" in (home / "dagster.yaml").read_text()

    @dg.op
    def ping() -> int:
        return 1

    @dg.job
    def smoke():
        ping()

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert smoke.execute_in_process(instance=instance).success
        assert len(instance.get_runs()) == 1
