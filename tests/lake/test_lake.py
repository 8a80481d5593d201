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
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingestion.common.lake import EXTENSION_DIR, Lake, LakeConfigError
from ingestion.common.lock import _advisory_key, source_scope
from tests.conftest import AS_OF

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
    # dlt's ducklake destination cannot quote a path: refused up front, not deep inside the first load
    with pytest.raises(LakeConfigError, match="single quote"):
        settings.warehouse("ducklake:it's a lake/catalog.sqlite")


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


@pytest.fixture
def s3_server():
    """moto's S3-compatible server on loopback (the only one installable here, from PyPI)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.mark.slow
def test_a_sample_build_on_a_sqlite_catalog_lake_with_its_data_on_s3_publishes_the_same_marts_as_the_file(
    sample_build, s3_server, tmp_path, monkeypatch
):
    """A SQLite catalog on the local disk, the Parquet data in a bucket: the same marts as the DuckDB file, every data
    file an object of the bucket, none on the disk. (The PostgreSQL lake's history keeps its data in a folder.)"""
    import boto3

    credentials = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_REGION": "us-east-1"}
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket="desk-lake")
    warehouse = f"ducklake:{tmp_path}/lake/catalog.sqlite"
    env = {
        **_env(tmp_path, warehouse, data_path="s3://desk-lake/treasury"),
        **credentials,
        "AWS_ENDPOINT_URL": s3_server,
    }
    result = _build(env, AS_OF)
    assert "SUCCESS" in result.stdout
    assert differences(sample_build.serving, tmp_path / "serving.duckdb") == []
    keys = {
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="desk-lake")
        for o in page.get("Contents", [])
    }
    assert any(k.startswith("treasury/raw_cftc_tff/tff_futures_only/") for k in keys)
    assert not list(tmp_path.rglob("*.parquet"))  # the catalog is local; the data are all in the bucket
    for name, value in {**credentials, "AWS_ENDPOINT_URL": s3_server}.items():
        monkeypatch.setenv(name, value)
    lake = Lake.parse(warehouse, "s3://desk-lake/treasury")
    with lake.connect() as con:  # a reader with the same settings reads the bucket through the catalog
        assert con.execute("select count(*) from published.builds").fetchone()[0] == 1
        assert con.execute("select count(*) from marts.mart_treasury_stress_weekly").fetchone()[0] > 1000
        # The mart's data files are objects of the bucket (under the name dbt built it as: DuckLake keeps a file's
        # path when dbt renames its temporary table).
        files = [
            f
            for (f,) in con.execute(
                "select data_file from ducklake_list_files('treasury', 'mart_treasury_stress_weekly', schema => 'marts')"
            ).fetchall()
        ]
    assert files and all(f.startswith("s3://desk-lake/treasury/marts/") for f in files)
    assert {f.removeprefix("s3://desk-lake/") for f in files} <= keys


# --- a PostgreSQL-catalog lake (its history of builds: test_lake_history.py) ---------------------------------------


def _wait_for_advisory_lock(conninfo: str, scope: str, holder: subprocess.Popen, seconds: float = 300) -> None:
    """Until the advisory lock of `scope` is granted to some session (pg_locks keeps a bigint key as two halves)."""
    import psycopg2

    key = _advisory_key(scope) & 0xFFFFFFFFFFFFFFFF
    deadline = time.monotonic() + seconds
    with psycopg2.connect(conninfo) as con, con.cursor() as cur:
        while time.monotonic() < deadline and holder.poll() is None:
            cur.execute(
                "select count(*) from pg_locks where locktype = 'advisory' and granted and classid = %s and objid = %s "
                "and objsubid = 1",
                [key >> 32, key & 0xFFFFFFFF],
            )
            if cur.fetchone()[0]:
                return
            time.sleep(0.1)
    raise AssertionError(f"no session took the lock of {scope} (the load ended with {holder.poll()})")


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
    # While both run, a second load of a source one of them holds stops at once, naming the holder. It starts once
    # the CFTC load holds its lock (a fixed pause lost that race on a loaded machine: imports take seconds).
    _wait_for_advisory_lock(conninfo, source_scope("cftc_tff"), cftc)
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
