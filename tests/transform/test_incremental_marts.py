"""The incremental marts (dbt/macros/incremental_window.sql) equal a full rebuild, row for row, after several business
days loaded one at a time through the real loaders, a CFTC revision inside the look-back among them; and each mart's
window covers what its loaders re-read."""

from __future__ import annotations

import inspect
import json
import shutil
from datetime import date

import duckdb
import pytest

from dagster_project.lib.changes import WEEK_OF_NEW_DATA_DAYS, history_rewritten, load_watermarks, window_days
from dagster_project.lib.dbt import dbt_resource, load_manifest, prepare_manifest
from emulator.server import base_urls, serve
from ingestion.registry import SOURCES, point_in_time_cutoffs
from tests.builds import point_sources_at
from tests.faulty_api import emulated


def incremental_marts() -> tuple[str, ...]:
    """The incremental models, from the manifest (parsed first on a fresh clone)."""
    prepare_manifest()
    return tuple(
        sorted(
            node["name"]
            for node in load_manifest()["nodes"].values()
            if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
        )
    )


# Tuesday to the next Monday after the sample's as-of date (2025-06-30): July 4th is a holiday, so the CFTC report of
# Tuesday 1 July comes out on Monday 7 July.
DAYS = (date(2025, 7, 1), date(2025, 7, 2), date(2025, 7, 3), date(2025, 7, 7))
FEEDS = ("cftc_tff", "par_yield_curve", "funding_rates", "fed_custody", "primary_dealers")


def _dbt(warehouse, as_of: date, *extra: str) -> None:
    """`dbt run` of the incremental marts and what they read, with the vars of a build as of `as_of`."""
    variables = {"warehouse_path": str(warehouse), **point_in_time_cutoffs(as_of)}
    select = " ".join(f"+{name}" for name in incremental_marts())
    invocation = (
        dbt_resource()
        .cli(["run", "--select", select, "--vars", json.dumps(variables), *extra], raise_on_error=False)
        .wait()
    )
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    finally:
        shutil.rmtree(invocation.target_path, ignore_errors=True)
    failed = {r["unique_id"]: r.get("message") for r in results if r["status"] != "success"}
    assert results and failed == {}


def _ingest(warehouse, day: date) -> None:
    from ingestion.cli import main

    argv = ["ingest", "--as-of", day.isoformat(), "--warehouse", str(warehouse)]
    argv += [arg for source in FEEDS for arg in ("--source", source)]
    assert main(argv) == 0


def _differences(con, table: str) -> tuple[int, int]:
    """Rows of incremental.marts.<table> not in rebuilt.marts.<table>, and the other way (doubles to 9 places)."""
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = 'rebuilt' and schema_name = 'marts' "
        "and table_name = ? order by column_index",
        [table],
    ).fetchall()
    select = ", ".join(f'round("{c}", 9)' if t == "DOUBLE" else f'"{c}"' for c, t in columns)
    one = f"select {select} from incremental.marts.{table}"
    other = f"select {select} from rebuilt.marts.{table}"
    return (
        con.execute(f"select count(*) from ({one} except all {other})").fetchone()[0],
        con.execute(f"select count(*) from ({other} except all {one})").fetchone()[0],
    )


def test_five_marts_are_incremental():
    assert incremental_marts() == (
        "fct_funding_rates_daily",
        "fct_futures_positioning",
        "fct_par_yields",
        "fct_primary_dealer_positions",
        "mart_yield_curve_daily",
    )


def test_each_window_covers_its_loaders_look_back_and_a_week_of_new_data():
    prepare_manifest()
    """What one load may revise (its look-back, from the previous latest date, which a week of new data moves) lies
    inside the window: otherwise a daily build's revision would land outside it and force a whole rebuild."""
    look_backs = {
        "cftc_tff": ("lookback_days",),
        "primary_dealers": ("lookback_days",),
        "funding_rates": ("refetch_days",),
        "fed_custody": ("lookback_days",),
    }
    windows = {source: days for source, (days, _) in window_days().items()}
    for source, parameters in look_backs.items():
        signature = inspect.signature(SOURCES[source].dlt_source)
        for parameter in parameters:
            look_back = signature.parameters[parameter].default
            assert look_back + WEEK_OF_NEW_DATA_DAYS <= windows[source], (source, parameter)
    assert set(windows) == {*look_backs, "par_yield_curve"}
    # The curve re-reads its as-of year: up to 366 days.
    assert 366 + WEEK_OF_NEW_DATA_DAYS <= windows["par_yield_curve"]


@pytest.mark.slow  # four days of loads and dbt runs, then a full rebuild
def test_incremental_marts_equal_a_full_rebuild_day_after_day(sample_build, tmp_path, monkeypatch):
    marts = incremental_marts()
    warehouse, _ = sample_build.copy_to(tmp_path / "incremental")
    monkeypatch.setenv("TREASURY_WAREHOUSE", str(warehouse))
    before = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        vintages = con.execute("select count(*) from raw_cftc_tff.tff_futures_only_vintages").fetchone()[0]
        before = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in marts}
    watermarks = load_watermarks(warehouse)
    for day in DAYS:
        # From the third day the CFTC republishes a recent week of the 10-year note, corrected (within its look-back).
        emulator = emulated(as_of=day)
        emulator.revised = day >= DAYS[2]
        with serve(emulator) as root:
            point_sources_at(monkeypatch, base_urls(root))
            _ingest(warehouse, day)
        _dbt(warehouse, day)  # incremental: each mart recomputes its window
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # The revision arrived (a second vintage of a week already loaded), and the days added rows.
        assert con.execute("select count(*) from raw_cftc_tff.tff_futures_only_vintages").fetchone()[0] > vintages
        after = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in marts}
    assert all(after[t] > before[t] for t in marts), (before, after)
    # Daily loads rewrite only rows inside the windows: no whole rebuild would be asked for.
    assert history_rewritten(warehouse, watermarks) == []

    full = tmp_path / "full.duckdb"
    shutil.copy(warehouse, full)
    _dbt(full, DAYS[-1], "--full-refresh")
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as incremental (read_only)")
        con.execute(f"attach '{full}' as rebuilt (read_only)")
        differences = {t: _differences(con, t) for t in marts}
    assert differences == {t: (0, 0) for t in marts}
