"""kill -9 and two runs at once, with real processes: nothing lost, no orphan left writing, the next run recovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

from emulator.server import base_urls, serve
from tests.conftest import AS_OF
from tests.dagster_project.test_build_faults import _alive, digest
from tests.faulty_api import emulated
from tests.ingestion.test_fault_matrix import assert_one_current_vintage_per_key

pytestmark = pytest.mark.slow  # real processes and whole builds: `make test-fast` skips them

TREASURY = [sys.executable, "-m", "dagster_project.runner.cli"]


def _env(warehouse: Path, serving: Path, urls: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "TREASURY_WAREHOUSE": str(warehouse), "TREASURY_SERVING": str(serving)}
    env["TREASURY_AS_OF"] = AS_OF.isoformat()
    for source, url in (urls or {}).items():
        env[f"SOURCES__{source.upper()}__BASE_URL"] = url
    return env


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _children(pid: int) -> list[tuple[int, str]]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(") ")
            ppid = int(fields[1].split()[1])
            if ppid == pid:
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                out.append((int(stat.parent.name), cmdline))
        except (OSError, IndexError, ValueError):
            continue
    return out


def test_two_runs_at_once_the_second_exits_at_once_naming_the_first(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    emulator = emulated(as_of=AS_OF)
    emulator.add_fault("csv/2010/", status=200, delay=20, body=None)  # hold the first run mid-ingest
    with serve(emulator) as root:
        env = _env(warehouse, serving, base_urls(root))
        first = subprocess.Popen([*TREASURY, "ingest", "--source", "par_yield_curve"], env=env, stderr=subprocess.PIPE)
        lock = tmp_path / "warehouse.duckdb.lock"
        _wait_for(lambda: lock.exists() and lock.read_text().startswith("pid"), 60, "the first run's lock")
        started = time.monotonic()
        second = subprocess.run([*TREASURY, "build"], env=env, capture_output=True, text=True, timeout=120)
        assert time.monotonic() - started < 30  # at once, not after the first run
        first.kill()
        first.wait()
    assert second.returncode == 1
    assert f"treasury: another run is writing {warehouse} (pid {first.pid}, started" in second.stderr, second.stderr
    assert not serving.exists()


def test_kill_9_during_the_cftc_extract_loses_nothing_and_the_next_run_loads(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    emulator = emulated(as_of=AS_OF)
    with serve(emulator) as root:
        env = _env(warehouse, serving, base_urls(root))
        subprocess.run([*TREASURY, "ingest", "--source", "cftc_tff"], env=env, check=True, capture_output=True)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            before = con.execute(
                "select count(*), max(report_date_as_yyyy_mm_dd) from raw_cftc_tff.tff_futures_only"
            ).fetchone()
        emulator.add_fault("/resource/", status=200, delay=30, body=None)
        emulator.requests.clear()
        run = subprocess.Popen([*TREASURY, "ingest", "--source", "cftc_tff"], env=env, stderr=subprocess.DEVNULL)
        _wait_for(lambda: emulator.requests_to("/resource/"), 60, "the CFTC request")
        run.send_signal(signal.SIGKILL)
        run.wait()
        emulator.faults.clear()
        again = subprocess.run([*TREASURY, "ingest", "--source", "cftc_tff"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert (
            con.execute("select count(*), max(report_date_as_yyyy_mm_dd) from raw_cftc_tff.tff_futures_only").fetchone()
            == before
        )
        assert con.execute(
            """select count(*) from (select report_date_as_yyyy_mm_dd, cftc_contract_market_code
               from raw_cftc_tff.tff_futures_only_vintages where superseded_at is null group by all having count(*) > 1)"""
        ).fetchone() == (0,)
    assert "tff_futures_only" in again.stdout


def test_kill_9_during_dbt_then_during_publish_and_the_next_build_publishes(sample_build, tmp_path):
    """Two builds killed in turn (one build follows the other, as after a crash: each starts where the last left
    off): the first in dbt (its dbt child dies with it), the second while it writes the new serving file (readers keep
    the last good copy, whole). The third publishes, and the run history says what happened to each."""
    warehouse, serving = sample_build.copy_to(tmp_path / "killed")
    published = digest(serving)
    temporary = serving.with_name(serving.name + ".tmp")
    with serve(emulated(as_of=AS_OF)) as root:
        env = _env(warehouse, serving, base_urls(root))
        in_dbt = subprocess.Popen([*TREASURY, "build"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dbt: list[int] = []

        def dbt_running() -> bool:
            dbt[:] = [pid for pid, cmd in _children(in_dbt.pid) if "treasury-dbt" in cmd or "/dbt " in cmd]
            return bool(dbt)

        _wait_for(dbt_running, 240, "dbt to start")
        time.sleep(1.0)
        in_dbt.send_signal(signal.SIGKILL)
        in_dbt.wait()
        _wait_for(lambda: not any(_alive(pid) for pid in dbt), 10, "dbt to die with its parent")
        assert digest(serving) == published  # nothing half-published

        in_publish = subprocess.Popen(
            [*TREASURY, "build"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for(temporary.exists, 600, "the publish step to start writing")
        in_publish.send_signal(signal.SIGKILL)
        in_publish.wait()
        assert digest(serving) == published  # readers still see the last good copy, whole

        again = subprocess.run([*TREASURY, "build"], env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "published" in again.stdout and digest(serving) != published and not temporary.exists()
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select count(*) from marts.mart_treasury_stress_weekly").fetchone()[0] > 1000
    # Every run is in the instance `treasury dev` shows: a killed run marked failed (its process is gone) with the
    # concurrency slots it held freed, so the next build ran instead of waiting for ever.
    import dagster as dg

    failure, success = dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS
    with dg.DagsterInstance.from_config(os.environ["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs()  # newest first

        def stages(pid: int) -> list[tuple[str, dg.DagsterRunStatus]]:
            return [(r.tags["treasury/stage"], r.status) for r in runs if r.tags["treasury/pid"] == str(pid)]

        # The build killed in dbt finished its ingest run; the one killed in publish, its ingest and transform runs.
        assert stages(in_dbt.pid) == [("transform", failure), ("ingest", success)]
        assert stages(in_publish.pid) == [("publish", failure), ("transform", success), ("ingest", success)]
        killed = {str(in_dbt.pid), str(in_publish.pid)}
        assert [r.status for r in runs if r.tags["treasury/pid"] not in killed] == [success] * 3
        info = instance.event_log_storage.get_concurrency_info("duckdb_writer")
        assert info.claimed_slots == [] and info.pending_step_count == 0


def test_kill_9_during_the_cftc_load_and_the_next_run_has_every_row_once(tmp_path):
    """Killed while dlt writes the load package into the warehouse: the next run starts from the last completed
    load, fetches again, and leaves one row and one current vintage per key."""
    import glob

    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    with serve(emulated(as_of=AS_OF)) as root:
        env = _env(warehouse, serving, base_urls(root))
        run = subprocess.Popen([*TREASURY, "ingest", "--source", "cftc_tff"], env=env, stderr=subprocess.DEVNULL)
        # dlt's working folder of that process (named by its pid: other processes may be loading CFTC too).
        pattern = f"{tempfile.gettempdir()}/treasury-dlt-{run.pid}-*/*/treasury_cftc_tff/load/normalized/*"

        def loading() -> bool:
            return bool(glob.glob(pattern)) and run.poll() is None

        _wait_for(loading, 120, "the CFTC load to start")
        run.send_signal(signal.SIGKILL)
        run.wait()
        again = subprocess.run([*TREASURY, "ingest", "--source", "cftc_tff"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert_one_current_vintage_per_key(
            con, "raw_cftc_tff.tff_futures_only", ("report_date_as_yyyy_mm_dd", "cftc_contract_market_code")
        )
