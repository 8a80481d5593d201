"""The lakehouse backend against real components: DuckLake on a SQLite catalog and on a real PostgreSQL 15 server
(a throwaway cluster, tests/pg.py), with the extensions from the lock and nothing downloaded.

- A sample build on either catalog publishes the same marts, row for row, as the DuckDB file.
- On the PostgreSQL lake, a history of builds: as of 2025-04-11, then as of the tests' as-of date with a reader
  process querying a mart every half second all through it, then one killed with -9 in dbt, then one that publishes.
  Time travel reads the first as it was; the Parquet export round-trips; Dagster's runs of those builds, kept on the
  same PostgreSQL server (dagster-postgres), show in the UI's run list.
- Two ingests of different sources at once on the PostgreSQL catalog both commit; a second load of the same
  source stops at once, naming the first.
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

import duckdb
import pytest

from ingestion.common.lake import EXTENSION_DIR, Lake, LakeConfigError
from tests.conftest import AS_OF
from tests.pg import remove, start_server

TREASURY = [sys.executable, "-m", "dagster_project.runner.cli"]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIRST_AS_OF = date(2025, 4, 11)
LATER_AS_OF = date(2025, 7, 3)


# --- settings, no server ------------------------------------------------------------------------------------------


def test_the_setting_names_a_file_or_a_lake(tmp_path, monkeypatch):
    from ingestion import settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TREASURY_LAKE_DATA_PATH", raising=False)
    assert settings.warehouse("data/w.duckdb") == tmp_path / "data" / "w.duckdb"
    lake = settings.warehouse("ducklake:lake/catalog.sqlite")
    assert (lake.kind, lake.catalog, lake.data_path) == (
        "sqlite",
        str(tmp_path / "lake" / "catalog.sqlite"),
        str(tmp_path / "lake" / "catalog.sqlite.files") + "/",
    )
    assert settings.warehouse("ducklake:/x/c.ducklake").kind == "duckdb"
    monkeypatch.setenv("TREASURY_LAKE_DATA_PATH", "s3://bucket/prefix")
    pg = settings.warehouse("ducklake:postgres:dbname=treasury host=127.0.0.1 port=5433 user=treasury password=s3cret")
    assert (pg.kind, pg.data_path, pg.on_s3) == ("postgres", "s3://bucket/prefix/", True)
    assert "s3cret" not in str(pg)  # a password never reaches a log line
    assert "METADATA_SCHEMA 'treasury'" in pg.attach_sql()
    monkeypatch.delenv("TREASURY_LAKE_DATA_PATH")
    with pytest.raises(LakeConfigError, match="TREASURY_LAKE_DATA_PATH"):
        settings.warehouse("ducklake:postgres:dbname=treasury")
    with pytest.raises(LakeConfigError, match=r"\.sqlite or \.ducklake"):
        settings.warehouse("ducklake:catalog.txt")


def test_a_malformed_lake_setting_is_one_line_naming_it(tmp_path):
    result = subprocess.run(
        [*TREASURY, "build", "--sample", "--warehouse", "ducklake:postgres:dbname=x"],
        env={**os.environ, "DAGSTER_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("treasury: a lake with a PostgreSQL catalog needs TREASURY_LAKE_DATA_PATH")
    assert "Traceback" not in result.stderr


def test_the_extensions_come_from_the_lock_and_nothing_is_downloaded(tmp_path):
    """In a fresh process with an empty HOME (so no ~/.duckdb) and no route out, a lake attaches: the extensions are
    the packaged ones, installed into the environment's folder."""
    script = textwrap.dedent(
        f"""
        import json, socket
        def refuse(*args, **kwargs):
            raise OSError("no network in this test")
        socket.socket.connect = refuse
        from ingestion.common.lake import Lake
        lake = Lake.parse("ducklake:{tmp_path}/catalog.sqlite", None)
        with lake.connect(read_only=False) as con:
            con.execute("create table main.t as select 42 as answer")
            rows = con.execute("select extension_name, install_path, installed_from from duckdb_extensions() "
                               "where loaded and extension_name in ('ducklake', 'sqlite_scanner')").fetchall()
            print(json.dumps([con.execute("select answer from main.t").fetchone()[0], rows]))
        """
    )
    env = {**os.environ, "HOME": str(tmp_path / "home"), "NO_PROXY": "", "HTTP_PROXY": "http://127.0.0.1:9"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    answer, loaded = json.loads(result.stdout)
    assert answer == 42
    assert {name for name, _, _ in loaded} == {"ducklake", "sqlite_scanner"}
    for _, install_path, installed_from in loaded:
        assert install_path.startswith(str(EXTENSION_DIR)) and "duckdb_extension_" in installed_from
    assert not (tmp_path / "home" / ".duckdb").exists()


# --- helpers -----------------------------------------------------------------------------------------------------


def _env(tmp: Path, warehouse: str, *, data_path: str | None = None, home: Path | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "TREASURY_WAREHOUSE": warehouse,
        "TREASURY_SERVING": str(tmp / "serving.duckdb"),
        "DAGSTER_HOME": str(home or tmp / "dagster_home"),
    }
    env.pop("TREASURY_AS_OF", None)
    if data_path:
        env["TREASURY_LAKE_DATA_PATH"] = data_path
    return env


def _build(env: dict[str, str], as_of: date, timeout: int = 900) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*TREASURY, "build", "--sample", "--as-of", as_of.isoformat()],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    return result


def differences(serving_a: Path, serving_b: Path) -> list[str]:
    """The published tables that differ between two serving files (rows compared both ways as multisets; doubles
    to 9 decimals; the run ids and publish time of `_build_status` left out). Empty when the same."""
    found = []
    with duckdb.connect() as con:
        con.execute(f"attach '{serving_a}' as a (read_only)")
        con.execute(f"attach '{serving_b}' as b (read_only)")
        listed = "select schema_name, table_name from duckdb_tables() where database_name = ?"
        tables_a, tables_b = set(con.execute(listed, ["a"]).fetchall()), set(con.execute(listed, ["b"]).fetchall())
        found += [f"only in {serving_a}: {t}" for t in sorted(tables_a - tables_b)]
        found += [f"only in {serving_b}: {t}" for t in sorted(tables_b - tables_a)]
        for schema, table in sorted(tables_a & tables_b):
            columns = con.execute(
                "select column_name, data_type from duckdb_columns() where database_name = 'a' and schema_name = ? "
                "and table_name = ? order by column_index",
                [schema, table],
            ).fetchall()
            skip = {"published_at", "published_by_run_id", "built_by_run_id"} if table == "_build_status" else set()
            exprs = ", ".join(
                f'round("{c}", 9)' if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t in columns if c not in skip
            )
            for x, y in (("a", "b"), ("b", "a")):
                extra = con.execute(
                    f'select count(*) from (select {exprs} from {x}.{schema}."{table}" '
                    f'except all select {exprs} from {y}.{schema}."{table}")'
                ).fetchone()[0]
                if extra:
                    found.append(f"{schema}.{table}: {extra} rows of {x} not in {y}")
    return found


# --- a SQLite-catalog lake ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_sample_build_on_a_sqlite_catalog_lake_publishes_the_same_marts_as_the_file(
    sample_build, tmp_path, monkeypatch
):
    """The same marts as the file; then a build whose CFTC page is poisoned holds back CFTC's four marts at the first
    build's snapshot (in the lake's record, the serving file and the export) and publishes the rest."""
    warehouse = f"ducklake:{tmp_path}/lake/catalog.sqlite"
    env = _env(tmp_path, warehouse)
    result = _build(env, AS_OF)
    assert "SUCCESS" in result.stdout
    assert differences(sample_build.serving, tmp_path / "serving.duckdb") == []
    # The data are Parquet files in the data folder; the catalog is the SQLite file.
    assert list((tmp_path / "lake" / "catalog.sqlite.files" / "marts").rglob("*.parquet"))
    lake = Lake.parse(warehouse, None)
    from dagster_project.lib.snapshots import published_builds

    [first] = published_builds(lake)

    from emulator.server import base_urls, serve
    from tests.dagster_project.test_build_faults import build
    from tests.faulty_api import emulated
    from tests.ingestion.test_fault_matrix import Tamper, _future_report

    for name in ("TREASURY_WAREHOUSE", "TREASURY_SERVING", "DAGSTER_HOME"):
        monkeypatch.setenv(name, env[name])
    tamper = Tamper(emulated(as_of=AS_OF))
    with serve(tamper) as root:
        tamper.once("/resource/", _future_report)
        code, summary = build(monkeypatch, base_urls(root))
    assert code == 1 and "published with 4 marts held back in " in summary.splitlines()[-1], summary
    first_, second = published_builds(lake)
    assert first_ == first and second.snapshot_id > first.snapshot_id
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
                [second.snapshot_id],
            ).fetchall()
        )
        assert {name for name, v in versions.items() if v == first.snapshot_id} == set(held)
        assert {name for name, v in versions.items() if v == second.snapshot_id} == set(versions) - set(held)
        con.execute(f"attach '{tmp_path / 'serving.duckdb'}' as served (read_only)")
        for name in held:  # the serving file's copy is the lake's table at its published snapshot, row for row
            pinned = f"marts.{name} at (version => {first.snapshot_id})"
            for x, y in ((pinned, f"served.marts.{name}"), (f"served.marts.{name}", pinned)):
                assert con.execute(f"select count(*) from (from {x} except all from {y})").fetchone()[0] == 0, name
    exported = subprocess.run(
        [*TREASURY, "export", "--format", "parquet", str(tmp_path / "export")], env=env, capture_output=True, text=True
    )
    assert exported.returncode == 0, exported.stderr
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["snapshot_id"] == second.snapshot_id and sorted(manifest["held_back"]) == held


# --- a PostgreSQL-catalog lake ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres():
    server = start_server()
    try:
        yield server
    finally:
        remove(server)


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
    A as of 2025-04-11; B as of AS_OF with a reader running; C killed -9 in dbt; D as of 2025-07-03."""
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

    history["D"] = _build(env, LATER_AS_OF)
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
    # Four builds of three runs each (the killed one got no further than its transform run).
    assert len(by_pid) == 4
    assert by_pid[str(lake_history["killed_pid"])] == ["FAILURE", "SUCCESS"]
    assert sum(statuses == ["SUCCESS"] * 3 for statuses in by_pid.values()) == 3


@pytest.mark.slow
def test_two_ingests_of_different_sources_commit_side_by_side_on_postgres(postgres, tmp_path):
    conninfo = postgres.create_database("two_writers")
    env = _env(tmp_path, f"ducklake:postgres:{conninfo}", data_path=str(tmp_path / "data"))
    env["TREASURY_AS_OF"] = AS_OF.isoformat()

    def ingest(*sources: str) -> subprocess.Popen:
        args = [arg for source in sources for arg in ("--source", source)]
        return subprocess.Popen(
            [*TREASURY, "ingest", "--sample", *args], env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    # The lake exists before the writers race (dlt creates its schemas once).
    first = ingest("par_yield_curve")
    assert first.wait(timeout=300) == 0, first.stderr.read()[-2000:]
    started = time.monotonic()
    cftc, soma = ingest("cftc_tff"), ingest("fed_soma", "treasury_auctions")
    # While both run, a second load of a source one of them holds stops at once, naming the holder.
    time.sleep(1.0)
    same = subprocess.run(
        [*TREASURY, "ingest", "--sample", "--source", "cftc_tff"], env=env, capture_output=True, text=True, timeout=120
    )
    assert cftc.wait(timeout=600) == 0, cftc.stderr.read()[-3000:]
    assert soma.wait(timeout=600) == 0, soma.stderr.read()[-3000:]
    elapsed = time.monotonic() - started
    assert same.returncode == 1 and "another run is writing source:cftc_tff" in same.stderr, same.stderr
    lake = Lake.parse(f"ducklake:postgres:{conninfo}", str(tmp_path / "data"))
    with lake.connect() as con:
        counts = {
            table: con.execute(f"select count(*) from {table}").fetchone()[0]
            for table in (
                "raw_cftc_tff.tff_futures_only",
                "raw_fed_soma.treasury_holdings",
                "raw_treasury_auctions.auctions_query",
            )
        }
        commits = con.execute(
            "select count(*) from treasury.snapshots() where snapshot_time > now() - interval 20 minute"
        ).fetchone()[0]
    assert all(n > 1000 for n in counts.values()), counts
    assert commits > 3
    print(f"two writers: both committed in {elapsed:.1f}s; rows {counts}; {commits} snapshots")
