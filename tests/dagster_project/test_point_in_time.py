"""Point in time: a build as of 2025-05-02 contains nothing dated or released after 2025-05-02, even when the server
(and the warehouse) hold later data."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from datetime import date, timedelta

import duckdb
import pytest

from emulator.server import base_urls, serve
from ingestion.pipelines import run_ingest
from tests.faulty_api import emulated

AS_OF = date(2025, 5, 2)  # a Friday: that week's CFTC report (Tuesday 29 April) came out at 15:30
LATEST_CFTC_REPORT = date(2025, 4, 29)
LATEST_TIC_MONTH = date(2025, 2, 28)  # February came out on 18 April; March is due on 18 May


def _latest(con, table: str, column: str):
    return con.execute(f"select max({column}) from {table}").fetchone()[0]


def assert_raw_tables_point_in_time(con) -> None:
    assert _latest(con, "raw_treasury_auctions.auctions_query", "auction_date") <= AS_OF
    # The calendar holds auctions announced by then (held later, by design), never a row published later.
    assert _latest(con, "raw_treasury_auctions.upcoming_auctions", "record_date") <= AS_OF
    assert _latest(con, "raw_treasury_auctions.upcoming_auctions", "announcemt_date") <= AS_OF
    assert _latest(con, "raw_par_yield_curve.daily_par_yields", "curve_date") == AS_OF
    assert _latest(con, "raw_cftc_tff.tff_futures_only", "report_date_as_yyyy_mm_dd") == LATEST_CFTC_REPORT
    assert _latest(con, "raw_tic_holdings.major_foreign_holders", "month_end") == LATEST_TIC_MONTH


def test_every_request_is_capped_at_the_as_of_date(tmp_path):
    """The emulator serves data to 2025-06-30 (like a live API queried for a past date); the load stops at the as-of."""
    warehouse = tmp_path / "warehouse.duckdb"
    emulator = emulated(as_of=date(2025, 6, 30))
    with serve(emulator) as root:
        summary = run_ingest(warehouse=warehouse, as_of=AS_OF, base_urls=base_urls(root))
    assert summary.ok, summary.render()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert_raw_tables_point_in_time(con)
    auctions = [r.params["filter"] for r in emulator.requests_to("auctions_query")]
    assert auctions and all(f.endswith(f"auction_date:lte:{AS_OF}") for f in auctions)
    upcoming = [r.params["filter"] for r in emulator.requests_to("upcoming_auctions")]
    assert upcoming and all(f.endswith(f"record_date:lte:{AS_OF}") for f in upcoming)
    socrata = [r.params["$where"] for r in emulator.requests_to("/resource/")]
    assert socrata and all(w.endswith(f"<= '{LATEST_CFTC_REPORT}T00:00:00'") for w in socrata)
    assert [r.path.rsplit("/", 2)[-2] for r in emulator.requests_to("daily-treasury-rates.csv")][-1] == "2025"


@pytest.mark.slow  # a whole extra build each
@pytest.mark.parametrize(
    ("as_of", "curve", "cftc"),
    [
        (AS_OF.isoformat(), AS_OF, LATEST_CFTC_REPORT),
        # At 10:23 that Friday the day's curve (18:00) and the CFTC's report (15:30) are not out yet.
        (f"{AS_OF}T10:23", AS_OF - timedelta(days=1), LATEST_CFTC_REPORT - timedelta(days=7)),
    ],
    ids=["end-of-day", "10:23"],
)
def test_a_build_as_of_a_past_date_on_a_later_warehouse_publishes_nothing_after_it(
    sample_build, tmp_path, monkeypatch, as_of, curve, cftc
):
    """`treasury build --as-of 2025-05-02` on a warehouse already loaded to 2025-06-30: the marts and the serving file
    hold nothing dated or released after 2025-05-02 (the staging models filter on the release calendars); as of
    10:23 that day, nothing published later that day either."""
    from dagster_project.runner.cli import main

    warehouse, serving = sample_build.copy_to(tmp_path / "later")
    monkeypatch.setenv("TREASURY_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TREASURY_SERVING", str(serving))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert _latest(con, "raw_par_yield_curve.daily_par_yields", "curve_date") == date(2025, 6, 30)
    with serve(emulated(as_of=date(2025, 6, 30))) as root:
        for source, url in base_urls(root).items():
            monkeypatch.setenv(f"SOURCES__{source.upper()}__BASE_URL", url)
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(["build", "--as-of", as_of])
    assert code == 0, out.getvalue()
    assert "published" in out.getvalue()
    label = "2025-05-02 10:23 New York" if "T" in as_of else "2025-05-02"
    assert f"as of {label}): SUCCESS" in out.getvalue()
    with duckdb.connect(str(serving), read_only=True) as con:
        assert _latest(con, "marts.fct_auctions", "auction_date") <= AS_OF
        assert _latest(con, "marts.mart_yield_curve_daily", "curve_date") == curve
        assert _latest(con, "marts.fct_par_yields", "curve_date") == curve
        assert _latest(con, "marts.fct_futures_positioning", "report_date") == cftc
        assert _latest(con, "marts.fct_foreign_holdings", "month_end") == LATEST_TIC_MONTH
        assert _latest(con, "marts.fct_foreign_holdings", "expected_release_date") <= AS_OF
        assert _latest(con, "marts.mart_treasury_stress_weekly", "week_ending") == AS_OF
        assert _latest(con, "marts.mart_treasury_stress_weekly", "foreign_latest_month_known") == LATEST_TIC_MONTH
        assert _latest(con, "staging.stg_treasury_auctions__upcoming_auctions", "record_date") <= AS_OF
        assert _latest(con, "staging.stg_cftc_tff__positions", "report_date") == cftc
