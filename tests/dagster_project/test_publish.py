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

from tests.conftest import ACTIVE_ALERTS_ON_AS_OF, use_sample_env


def test_the_full_sample_run_passes_every_check_and_publishes(sample_build):
    evaluations = sample_build.check_evaluations
    # Everything passes but the alert rules active on the as-of date (WARN, never blocking).
    warned = {e.check_name for e in evaluations if not e.passed}
    assert warned == ACTIVE_ALERTS_ON_AS_OF
    assert all(e.severity == dg.AssetCheckSeverity.WARN for e in evaluations if not e.passed)
    names = {(e.asset_key.to_user_string(), e.check_name) for e in evaluations}
    # 143 dbt data tests, 26 dbt unit tests, 17 Great Expectations suites, 9 freshness checks (one per source)
    assert len(names) == 195
    assert ("marts/fct_auctions", "test_fct_auctions_demand_metrics") in names  # unit tests are checks too
    assert ("cftc_tff/tff_futures_only", "great_expectations") in names  # the raw-table suites ran
    assert ("par_yield_curve/daily_par_yields", "fresh_per_release_calendar") in names
    with duckdb.connect(str(sample_build.serving), read_only=True) as con:
        tables = {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}
        assert {"marts.mart_treasury_stress_weekly", "marts.fct_auctions", "staging.stg_cftc_tff__positions"} <= tables
        assert con.execute(
            "select count(*) from marts.fct_auctions where auction_date = '2025-04-08' and term_group = '3-Year'"
        ).fetchone() == (1,)
        active = con.execute(
            "select rule, subject, event_date::varchar from marts.mart_stress_alerts "
            "where public_at_et::date between date '2025-06-24' and date '2025-06-30' order by event_date, rule"
        ).fetchall()
        assert active == [
            ("weak_auction_bid_to_cover", "Note 2-Year (91282C8H7)", "2025-06-25"),
            ("weak_auction_dealer_takedown", "Note 5-Year (91282C8J3)", "2025-06-26"),
            ("weak_auction_indirect_demand", "Note 5-Year (91282C8J3)", "2025-06-26"),
        ]
    assert not sample_build.serving.with_name("serving.duckdb.tmp").exists()
    # What the UI shows on each asset: row counts, the data's latest date, the sample label.
    raw = sample_build.materializations["par_yield_curve/daily_par_yields"]
    assert raw["latest_data_date"] == "2025-06-30" and raw["data_label"].startswith("SAMPLE")
    assert raw["dagster/row_count"] == raw["rows_in_table"] > 8000 and raw["rows_before_load"] == 0
    with duckdb.connect(str(sample_build.serving), read_only=True) as con:
        for mart in ("fct_auctions", "mart_treasury_stress_weekly"):
            (rows,) = con.execute(f"select count(*) from marts.{mart}").fetchone()
            assert sample_build.materializations[f"marts/{mart}"]["dagster/row_count"] == rows
            assert sample_build.materializations["publish/serving_file"][f"rows.marts.{mart}"] == rows


@pytest.fixture
def env(sample_build, monkeypatch, tmp_path):
    """A copy of the good build for this test to change; (definitions, warehouse, serving)."""
    warehouse, serving = sample_build.copy_to(tmp_path / "build")
    use_sample_env(monkeypatch, warehouse, serving)
    from dagster_project.definitions import defs

    return defs(), warehouse, serving


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


READERS = {
    "duckdb": textwrap.dedent(
        """
        import sys, duckdb
        con = duckdb.connect(sys.argv[1], read_only=True)
        read = lambda: con.execute("select count(*) from marts.fct_auctions").fetchone()[0]
        """
    ),
    # How Superset and Metabase-style SQLAlchemy clients connect: duckdb-engine, read-only.
    "sqlalchemy": textwrap.dedent(
        """
        import sys, sqlalchemy
        engine = sqlalchemy.create_engine(f"duckdb:///{sys.argv[1]}", connect_args={"read_only": True})
        con = engine.connect()
        read = lambda: con.execute(sqlalchemy.text("select count(*) from marts.fct_auctions")).scalar_one()
        """
    ),
}
HOLD_AND_READ_AGAIN = textwrap.dedent(
    """
    print(read(), flush=True)
    sys.stdin.readline()  # hold the connection open until told to read again
    print(read(), flush=True)
    """
)


def test_readers_keep_their_copy_while_a_new_build_publishes(env):
    definitions, warehouse, serving = env
    readers = {
        name: subprocess.Popen(
            [sys.executable, "-c", code + HOLD_AND_READ_AGAIN, str(serving)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, code in READERS.items()
    }
    before = {name: int(reader.stdout.readline()) for name, reader in readers.items()}
    # Change the warehouse so the next publish differs, then publish again while the readers hold the old file.
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "delete from marts.fct_auctions where auction_date = (select max(auction_date) from marts.fct_auctions)"
        )
    assert dg.materialize(
        [definitions.get_assets_def(["publish", "serving_file"])], resources=definitions.resources
    ).success
    for name, reader in readers.items():
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert int(reader.stdout.readline()) == before[name], name  # the open connection still reads the old copy
        reader.wait(timeout=30)
    for name, code in READERS.items():
        fresh = subprocess.run(
            [sys.executable, "-c", code + "print(read())", str(serving)], capture_output=True, text=True, check=True
        )
        assert int(fresh.stdout) < before[name], name  # a new connection sees the new copy


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


def test_a_broken_identity_in_a_raw_table_fails_its_suite_and_the_source_job_publishes_nothing(env):
    definitions, warehouse, serving = env
    served = digest(serving)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into marts.mart_treasury_stress_weekly (week_ending) values ('1900-01-05')")
        # An old week (outside the 28-day look-back, so the reload keeps it) whose open interest no longer adds up.
        con.execute(
            """
            update raw_cftc_tff.tff_futures_only set open_interest_all = open_interest_all + 1000
            where report_date_as_yyyy_mm_dd = '2015-06-02' and cftc_contract_market_code = '043602'
            """
        )
    result = definitions.resolve_job_def("refresh_cftc_tff").execute_in_process(raise_on_error=False)
    assert not result.success
    failed = {
        (e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations() if not e.passed
    }
    suite = failed[("cftc_tff/tff_futures_only", "great_expectations")]
    assert suite.metadata["expectations_failed"].value == 2  # longs + spreading, and shorts + spreading
    failure = suite.metadata[
        "failed: treasury_identity.expect_column_pair_values_to_be_equal(open_interest_all,longs_plus_spreading)"
    ]
    assert failure.value["rows_failed"] == 1
    assert failure.value["examples"][0]["report_date"] == "2015-06-02"
    assert failure.value["examples"][0]["cftc_contract_market_code"] == "043602"
    materialized = {e.asset_key.to_user_string() for e in result.all_events if e.is_step_materialization}
    assert "cftc_tff/tff_futures_only" in materialized  # the load itself ran
    assert not any(key.startswith(("staging/", "marts/", "publish/")) for key in materialized)
    assert digest(serving) == served
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) from marts.mart_treasury_stress_weekly where week_ending = '1900-01-05'"
        ).fetchone() == (1,)


def test_the_sample_build_sends_nothing_anywhere_and_logs_no_telemetry(sample_build):
    """The README's promise: only the data hosts are contacted. In sample mode that is the emulator on loopback,
    so the build made no other connection (in-process, or through the proxy its child processes were given), ran no
    `dbt --version` (which asks the package index), and wrote no Dagster telemetry events."""
    assert sample_build.outbound == []
    events = sample_build.home / ".dagster" / "logs" / "event.log"
    assert not events.exists() or events.read_text() == ""
