"""A full sample run through the Dagster job passes every check and publishes; publishing is safe for readers, and a
failed build never replaces the serving file."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap

import dagster as dg
import duckdb
import pytest


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One good sample run through the Dagster job; yields (definitions, warehouse, serving)."""
    tmp = tmp_path_factory.mktemp("publish")
    mp = pytest.MonkeyPatch()
    mp.setenv("TREASURY_WAREHOUSE", str(tmp / "warehouse.duckdb"))
    mp.setenv("TREASURY_SERVING", str(tmp / "serving.duckdb"))
    mp.setenv("TREASURY_SAMPLE", "1")
    mp.setenv("TREASURY_AS_OF", "2025-06-30")
    from dagster_project.definitions import defs

    definitions = defs()
    result = definitions.resolve_job_def("refresh_all").execute_in_process()
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) >= 50 and all(check.passed for check in checks)
    served = tmp / "serving.duckdb"
    with duckdb.connect(str(served), read_only=True) as con:
        tables = {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}
        assert {"marts.mart_treasury_stress_weekly", "marts.fct_auctions", "staging.stg_cftc_tff__positions"} <= tables
        assert con.execute(
            "select count(*) from marts.fct_auctions where auction_date = '2025-04-08' and term_group = '3-Year'"
        ).fetchone() == (1,)
    assert not (tmp / "serving.duckdb.tmp").exists()
    yield definitions, tmp / "warehouse.duckdb", served
    mp.undo()


@pytest.fixture
def env(built, monkeypatch):
    """Point this test's environment (reset per test by conftest) back at the module's warehouse and serving file."""
    definitions, warehouse, serving = built
    monkeypatch.setenv("TREASURY_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TREASURY_SERVING", str(serving))
    monkeypatch.setenv("TREASURY_SAMPLE", "1")
    monkeypatch.setenv("TREASURY_AS_OF", "2025-06-30")
    return built


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    query = "select count(*) from marts.fct_auctions"
    print(con.execute(query).fetchone()[0], flush=True)
    sys.stdin.readline()  # hold the connection open until told to read again
    print(con.execute(query).fetchone()[0], flush=True)
    """
)


def test_a_reader_keeps_its_copy_while_a_new_build_publishes(env):
    definitions, warehouse, serving = env
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(serving)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    before = int(reader.stdout.readline())
    # Change the warehouse so the next publish differs, then publish again while the reader holds the old file.
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "delete from marts.fct_auctions where auction_date = (select max(auction_date) from marts.fct_auctions)"
        )
    assert dg.materialize([definitions.get_assets_def(["publish", "serving_file"])]).success
    reader.stdin.write("\n")
    reader.stdin.flush()
    still = int(reader.stdout.readline())
    reader.wait(timeout=30)
    assert still == before  # the open connection still reads the old copy
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; print(duckdb.connect(sys.argv[1], read_only=True).execute('select count(*) from marts.fct_auctions').fetchone()[0])",
            str(serving),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(fresh.stdout) < before  # a new connection sees the new copy


def test_a_planted_bad_row_fails_its_check_blocks_the_marts_and_keeps_the_serving_file(env):
    definitions, warehouse, serving = env
    served = digest(serving)
    with duckdb.connect(str(warehouse)) as con:
        # A sentinel row survives only if dbt does not rebuild the stress mart.
        con.execute("insert into marts.mart_treasury_stress_weekly (week_ending) values ('1900-01-05')")
        # An impossible 10-year yield on the latest curve day: the staging range check must catch it.
        con.execute(
            "update raw_par_yield_curve.daily_par_yields set bc_10year = 99 where curve_date = (select max(curve_date) from raw_par_yield_curve.daily_par_yields)"
        )
    models = definitions.get_assets_def(["marts", "fct_auctions"])  # the dbt multi-asset: every model and seed
    result = dg.materialize(
        [models, definitions.get_assets_def(["publish", "serving_file"])],
        resources=definitions.resources,
        raise_on_error=False,
    )
    assert not result.success
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert any("yield_10y_pct" in name for name in failed), failed
    assert digest(serving) == served  # the serving file was not replaced
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) from marts.mart_treasury_stress_weekly where week_ending = '1900-01-05'"
        ).fetchone() == (1,)
