"""A history of builds on one DuckLake with a PostgreSQL catalog (a real PostgreSQL 15 cluster, tests/pg.py), and
Dagster's runs kept on the same server (dagster-postgres): as of 2025-04-11; then as of the tests' as-of date with a
reader process querying a mart every half second all through it; then one killed with -9 in dbt; then one that
publishes though a CFTC page is poisoned (CFTC's marts held back at the last snapshot). The same marts as the file,
row for row; readers never fail; a killed build publishes nothing; time travel reads the first build as it was; the
Parquet export round-trips; the UI lists the runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest

from ingestion.common.lake import Lake
from tests.conftest import AS_OF
from tests.lake.test_lake import PROJECT_ROOT, TREASURY, _build, _env, differences

FIRST_AS_OF = date(2025, 4, 11)
LATER_AS_OF = date(2025, 7, 3)


# --- the lake ----------------------------------------------------------------------------------------


READER = textwrap.dedent(
    """
    import json, sys, time
    from ingestion.common.lake import Lake
    lake = Lake.parse(sys.argv[1], sys.argv[2])
    stop_file, out = sys.argv[3], open(sys.argv[4], "a", buffering=1)
    import os
    con = lake.connect()
    n = 0
    while not os.path.exists(stop_file):
        started = time.monotonic()
        try:
            if n % 5 == 4:  # every fifth query on a new connection, as a BI tool reconnecting
                con.close()
                con = lake.connect()
            rows, last = con.execute(
                "select count(*), max(week_ending) from marts.mart_treasury_stress_weekly"
            ).fetchone()
            out.write(json.dumps({"ok": True, "rows": rows, "last": str(last),
                                  "seconds": time.monotonic() - started}) + "\\n")
        except Exception as exc:
            out.write(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}) + "\\n")
        n += 1
        time.sleep(max(0.0, 0.5 - (time.monotonic() - started)))
    """
)


def _children(pid: int) -> list[tuple[int, str]]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(") ")
            if int(fields[1].split()[1]) == pid:
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                out.append((int(stat.parent.name), cmdline))
        except (OSError, IndexError, ValueError):
            continue
    return out


def _dagster_yaml_on_postgres(home: Path, conninfo: str) -> None:
    """The project's instance settings, with the run, event and schedule storage on PostgreSQL (dagster-postgres)."""
    from dagster_project.runner.build import DAGSTER_YAML

    pairs = dict(item.split("=", 1) for item in conninfo.split())
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(
        DAGSTER_YAML.read_text()
        + textwrap.dedent(
            f"""
            storage:
              postgres:
                postgres_db:
                  hostname: {pairs["host"]}
                  port: {pairs["port"]}
                  username: {pairs["user"]}
                  password: ""
                  db_name: {pairs["dbname"]}
            """
        )
    )


@pytest.fixture(scope="module")
def lake_history(postgres, tmp_path_factory):
    """Four builds in turn on one PostgreSQL-catalog lake, Dagster's runs on the same server:
    A as of 2025-04-11; B as of AS_OF with a reader running; C killed -9 in dbt; D as of 2025-07-03 with a poisoned
    CFTC page (it publishes, holding CFTC's marts back)."""
    tmp = tmp_path_factory.mktemp("pg_lake")
    conninfo = postgres.create_database("lake_history")
    warehouse = f"ducklake:postgres:{conninfo}"
    home = tmp / "dagster_home"
    _dagster_yaml_on_postgres(home, postgres.create_database("dagster"))
    env = _env(tmp, warehouse, data_path=str(tmp / "lake_data"), home=home)
    lake = Lake.parse(warehouse, str(tmp / "lake_data"))
    history: dict = {"lake": lake, "env": env, "tmp": tmp, "conninfo": conninfo}

    history["A"] = _build(env, FIRST_AS_OF)
    from dagster_project.lib.snapshots import published_builds

    history["after_A"] = published_builds(lake)

    stop, log = tmp / "reader.stop", tmp / "reader.jsonl"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, warehouse, str(tmp / "lake_data"), str(stop), str(log)], cwd=PROJECT_ROOT
    )
    try:
        time.sleep(2)
        started = time.monotonic()
        history["B"] = _build(env, AS_OF)
        history["B_seconds"] = time.monotonic() - started
        time.sleep(2)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    history["reads"] = [json.loads(line) for line in log.read_text().splitlines()]
    history["after_B"] = published_builds(lake)
    history["serving_B"] = tmp / "serving_B.duckdb"
    history["serving_B"].write_bytes((tmp / "serving.duckdb").read_bytes())

    killed = subprocess.Popen(
        [*TREASURY, "build", "--sample", "--as-of", LATER_AS_OF.isoformat()],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while not any("treasury-dbt" in cmd or "/dbt " in cmd for _, cmd in _children(killed.pid)):
        assert killed.poll() is None and time.monotonic() < deadline, "the build ended before dbt started"
        time.sleep(0.1)
    time.sleep(3)  # well into dbt's writes
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    history["killed_pid"] = killed.pid
    history["after_C"] = published_builds(lake)

    # D: the next build publishes, though its CFTC page is poisoned: CFTC's marts are held back at B's snapshot.
    from emulator.server import base_urls, serve
    from tests.faulty_api import emulated
    from tests.ingestion.test_fault_matrix import Tamper, _future_report

    tamper = Tamper(emulated(as_of=LATER_AS_OF))
    with serve(tamper) as root:
        tamper.once("/resource/", _future_report)
        hosts = {f"SOURCES__{source.upper()}__BASE_URL": url for source, url in base_urls(root).items()}
        history["D"] = subprocess.run(
            [*TREASURY, "build", "--as-of", LATER_AS_OF.isoformat()],
            env={**env, **hosts},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    history["after_D"] = published_builds(lake)
    return history


@pytest.mark.slow
def test_a_sample_build_on_a_postgres_catalog_lake_publishes_the_same_marts_as_the_file(sample_build, lake_history):
    """Build B (as of AS_OF, on top of A's lake) publishes what the file backend's sample build publishes."""
    assert differences(sample_build.serving, lake_history["serving_B"]) == []


@pytest.mark.slow
def test_a_reader_queries_all_through_a_build_without_an_error(lake_history):
    reads = lake_history["reads"]
    errors = [r["error"] for r in reads if not r["ok"]]
    assert errors == []
    # One query every half second for the whole build (and a little before and after it).
    assert len(reads) >= lake_history["B_seconds"] / 0.5 * 0.8
    # It read A's published board first and B's at the end: the committed state, never a half-written one.
    first, last = reads[0], reads[-1]
    assert first["last"] <= FIRST_AS_OF.isoformat() and last["last"] > FIRST_AS_OF.isoformat()
    assert {r["rows"] for r in reads} == {first["rows"], last["rows"]}  # A's board, then B's: nothing in between


@pytest.mark.slow
def test_every_published_build_is_a_snapshot_and_a_killed_build_publishes_nothing(lake_history):
    a, b = lake_history["after_B"]
    assert (a.as_of, b.as_of) == (FIRST_AS_OF, AS_OF) and a.snapshot_id < b.snapshot_id
    assert a.held_back == b.held_back == 0
    assert lake_history["after_C"] == [a, b]  # the build killed in dbt recorded nothing
    *_, d = lake_history["after_D"]
    assert len(lake_history["after_D"]) == 3 and d.as_of == LATER_AS_OF and d.snapshot_id > b.snapshot_id
    assert "published with 4 marts held back in " in lake_history["D"].stdout.splitlines()[-1], lake_history["D"].stdout
    listed = subprocess.run(
        [*TREASURY, "snapshots"], env=lake_history["env"], capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    for build in lake_history["after_D"]:
        assert f"{build.snapshot_id:>8}  {build.as_of.isoformat()}" in listed.stdout


@pytest.mark.slow
def test_time_travel_reads_the_first_build_as_it_was(lake_history):
    """Snapshot A, read after three later builds: the week ending 2025-04-11 is flagged and nothing is later than
    its as-of date; the same mart now reaches past it."""
    lake, a = lake_history["lake"], lake_history["after_A"][-1]
    query = """select max(week_ending), bool_or(is_stress_week) filter (where week_ending = date '2025-04-11')
               from marts.mart_treasury_stress_weekly"""
    with lake.connect(snapshot=a.snapshot_id) as con:
        assert con.execute(query).fetchone() == (FIRST_AS_OF, True)
    with lake.connect() as con:
        then = con.execute(
            query.replace(
                "marts.mart_treasury_stress_weekly",
                f"marts.mart_treasury_stress_weekly at (version => {a.snapshot_id})",
            )
        ).fetchone()
        now = con.execute(query).fetchone()
    assert then == (FIRST_AS_OF, True)
    assert now[0] > LATER_AS_OF.replace(day=1) and now[1] is True


@pytest.mark.slow
def test_the_parquet_export_round_trips(lake_history, tmp_path):
    import pyarrow.parquet as pq

    lake, b = lake_history["lake"], lake_history["after_B"][-1]
    out = tmp_path / "export"
    result = subprocess.run(
        [*TREASURY, "export", "--format", "parquet", str(out), "--snapshot", str(b.snapshot_id)],
        env=lake_history["env"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["snapshot_id"] == b.snapshot_id and manifest["as_of"] == AS_OF.isoformat()
    assert len(manifest["tables"]) == 18
    with lake.connect(snapshot=b.snapshot_id) as con:
        for entry in manifest["tables"]:
            name = entry["table"]
            table = pq.read_table(out / entry["file"])  # no DuckDB: pyarrow alone
            assert table.num_rows == entry["rows"] == con.execute(f"select count(*) from {name}").fetchone()[0]
            assert [c["name"] for c in entry["columns"]] == table.column_names
            # Every row, both ways (DuckDB reading the file against the lake at that snapshot).
            for x, y in (
                (name, f"read_parquet('{out / entry['file']}')"),
                (f"read_parquet('{out / entry['file']}')", name),
            ):
                assert con.execute(f"select count(*) from (from {x} except all from {y})").fetchone()[0] == 0, name
    fct = next(e for e in manifest["tables"] if e["table"] == "marts.fct_auctions")
    assert any(c["name"] == "bid_to_cover_recomputed" and c["description"] for c in fct["columns"])


@pytest.mark.slow
def test_dagster_runs_kept_on_postgres_show_in_the_ui(lake_history):
    """The builds' runs were recorded in the PostgreSQL run storage; the UI started on that instance lists them
    (the killed one as failed: its process is gone)."""
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = lake_history["env"]
    log = (lake_history["tmp"] / "webserver.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_webserver",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-m",
            "dagster_project.definitions",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    query = "{ runsOrError(limit: 50) { ... on Runs { results { runId status tags { key value } } } } }"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (lake_history["tmp"] / "webserver.log").read_text()[-3000:]
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql",
                    data=json.dumps({"query": query}).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=30) as response:
                    runs = json.loads(response.read())["data"]["runsOrError"]["results"]
                break
            except OSError:
                assert time.monotonic() < deadline, "the webserver did not answer"
                time.sleep(1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    by_pid: dict[str, list[str]] = {}
    for run in runs:
        tags = {t["key"]: t["value"] for t in run["tags"]}
        by_pid.setdefault(tags.get("treasury/pid", "?"), []).append(run["status"])
    # Four builds of three runs each (the killed one got no further than its transform run; D's ingest and
    # transform runs failed on CFTC, and its publish run succeeded).
    assert len(by_pid) == 4
    assert by_pid[str(lake_history["killed_pid"])] == ["FAILURE", "SUCCESS"]
    assert sum(statuses == ["SUCCESS"] * 3 for statuses in by_pid.values()) == 2
    assert ["SUCCESS", "FAILURE", "FAILURE"] in by_pid.values()


@pytest.mark.slow
def test_a_held_back_mart_stays_at_its_last_published_snapshot(lake_history):
    """Build D's poisoned CFTC page held CFTC's four marts back: the lake's record points them at B's snapshot, and
    the serving file's copies and the export are the lake's tables at that snapshot, row for row."""
    lake, env = lake_history["lake"], lake_history["env"]
    b, d = lake_history["after_B"][-1], lake_history["after_D"][-1]
    held = [
        "fct_basis_trade_proxy_weekly",
        "fct_futures_positioning",
        "mart_stress_alerts",
        "mart_treasury_stress_weekly",
    ]
    with lake.connect() as con:
        versions = dict(
            con.execute(
                "select table_name, version_snapshot_id from published.relations "
                "where build_snapshot_id = ? and schema_name = 'marts'",
                [d.snapshot_id],
            ).fetchall()
        )
        assert {name for name, v in versions.items() if v == b.snapshot_id} == set(held)
        assert {name for name, v in versions.items() if v == d.snapshot_id} == set(versions) - set(held)
        con.execute(f"attach '{lake_history['tmp'] / 'serving.duckdb'}' as served (read_only)")
        for name in held:
            pinned = f"marts.{name} at (version => {b.snapshot_id})"
            for x, y in ((pinned, f"served.marts.{name}"), (f"served.marts.{name}", pinned)):
                assert con.execute(f"select count(*) from (from {x} except all from {y})").fetchone()[0] == 0, name
    out = lake_history["tmp"] / "export_latest"
    exported = subprocess.run([*TREASURY, "export", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert exported.returncode == 0, exported.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["snapshot_id"] == d.snapshot_id and sorted(manifest["held_back"]) == held
