"""Empty is valid: a FiscalData page with no rows, a final Socrata page `[]`, a year with no curve rows yet and a TIC
file with no new month each load nothing new and succeed, against the emulator and against the real-payload replay."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from emulator.server import base_urls, serve
from ingestion.pipelines import run_ingest
from tests.conftest import REFERENCE_DATA
from tests.faulty_api import emulated
from tests.replay import replay_server


def _rows(warehouse, table: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


@pytest.fixture
def replay():
    if not REFERENCE_DATA.exists():
        pytest.skip("../shared/reference-data is not checked out beside the repo")
    with replay_server(REFERENCE_DATA) as served:
        yield served


def test_fiscaldata_pages_with_no_rows_load_nothing_and_succeed_on_the_emulator(warehouse):
    # Nothing was auctioned or announced before 1979: FiscalData answers {"data": [], "meta": {"total-pages": 0}}.
    with serve(emulated(as_of=date(2025, 6, 30))) as root:
        summary = run_ingest(
            ["treasury_auctions"], warehouse=warehouse, as_of=date(1978, 12, 29), base_urls=base_urls(root)
        )
    assert summary.ok, summary.render()
    assert [(t.table, t.rows_loaded) for t in summary.results[0].tables] == [
        ("auctions_query", 0),
        ("upcoming_auctions", 0),
    ]
    assert "Schema drift: none" in summary.render()


def test_fiscaldata_pages_with_no_rows_load_nothing_and_succeed_on_the_replay(replay, warehouse):
    server, urls = replay
    summary = run_ingest(["treasury_auctions"], warehouse=warehouse, as_of=date(2023, 1, 31), base_urls=urls)
    assert summary.ok, summary.render()
    assert all(t.rows_loaded == 0 for t in summary.results[0].tables)
    answered = [params for path, params in server.requests if path.endswith("auctions_query")]
    assert answered and all("auction_date:lte:2023-01-31" in p["filter"] for p in answered)


def test_a_final_socrata_page_that_is_empty_loads_as_success_on_the_emulator(loaded, monkeypatch):
    """101 contracts a week: with 101 rows a page, every page is full and the last one is `[]`."""
    warehouse = loaded  # CFTC loaded as of 2025-06-30
    emulator = emulated(as_of=date(2025, 6, 30))
    with serve(emulator) as root:
        urls = base_urls(root)
        before = _rows(warehouse, "raw_cftc_tff.tff_futures_only")
        monkeypatch.setenv("SOURCES__CFTC_TFF__PAGE_SIZE", "101")
        emulator.requests.clear()
        summary = run_ingest(["cftc_tff"], warehouse=warehouse, as_of=date(2025, 6, 30), base_urls=urls)
    assert summary.ok, summary.render()
    pages = [r for r in emulator.requests_to("/resource/")]
    assert len(pages) == 6 and all(r.params["$limit"] == "101" for r in pages)  # 5 full weeks, then []
    assert summary.results[0].tables[0].rows_loaded == 5 * 101
    assert _rows(warehouse, "raw_cftc_tff.tff_futures_only") == before


def test_a_final_socrata_page_that_is_empty_loads_as_success_on_the_replay(replay, warehouse, monkeypatch):
    """The recorded 2021 Q4 file has the six Treasury futures for 13 weeks: 78 rows, pages of 6, then []."""
    server, urls = replay
    monkeypatch.setenv("SOURCES__CFTC_TFF__PAGE_SIZE", "6")
    summary = run_ingest(["cftc_tff"], warehouse=warehouse, as_of=date(2022, 1, 31), base_urls=urls)
    assert summary.ok, summary.render()
    pages = [params for path, params in server.requests if path.startswith("/resource/")]
    assert len(pages) == 78 // 6 + 1
    assert _rows(warehouse, "raw_cftc_tff.tff_futures_only") == 78


def test_a_year_with_no_curve_rows_yet_loads_nothing_and_succeeds(warehouse):
    # 1 January 2025 is a holiday: the 2025 file is a header with no rows.
    with serve(emulated(as_of=date(2025, 1, 1))) as root:
        summary = run_ingest(
            ["par_yield_curve"], warehouse=warehouse, as_of=date(2025, 1, 1), base_urls=base_urls(root)
        )
        assert summary.ok, summary.render()
        before = _rows(warehouse, "raw_par_yield_curve.daily_par_yields")
        again = run_ingest(["par_yield_curve"], warehouse=warehouse, as_of=date(2025, 1, 1), base_urls=base_urls(root))
    assert again.ok, again.render()
    assert _rows(warehouse, "raw_par_yield_curve.daily_par_yields") == before


def test_a_year_with_no_curve_rows_yet_on_the_replay(replay, warehouse):
    _, urls = replay
    summary = run_ingest(["par_yield_curve"], warehouse=warehouse, as_of=date(2024, 1, 1), base_urls=urls)
    assert summary.ok, summary.render()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select max(curve_date)::varchar from raw_par_yield_curve.daily_par_yields").fetchone() == (
            "2023-09-01",
        )


def test_a_tic_file_with_no_new_month_loads_as_success(replay, warehouse):
    _, urls = replay
    first = run_ingest(["tic_holdings"], warehouse=warehouse, as_of=date(2026, 3, 31), base_urls=urls)
    assert first.ok, first.render()
    before = _rows(warehouse, "raw_tic_holdings.major_foreign_holders")
    again = run_ingest(["tic_holdings"], warehouse=warehouse, as_of=date(2026, 3, 31), base_urls=urls)
    assert again.ok, again.render()
    assert _rows(warehouse, "raw_tic_holdings.major_foreign_holders") == before
    assert _rows(warehouse, "raw_tic_holdings.major_foreign_holders_vintages") == before  # no new vintage


def test_a_tic_file_with_no_new_month_loads_as_success_on_the_emulator(warehouse):
    # 2 June 2025: no month came out since the previous run on 28 May (April is due on 18 June).
    with serve(emulated(as_of=date(2025, 6, 2))) as root:
        urls = base_urls(root)
        assert run_ingest(["tic_holdings"], warehouse=warehouse, as_of=date(2025, 5, 28), base_urls=urls).ok
        before = _rows(warehouse, "raw_tic_holdings.major_foreign_holders")
        again = run_ingest(["tic_holdings"], warehouse=warehouse, as_of=date(2025, 6, 2), base_urls=urls)
    assert again.ok, again.render()
    assert _rows(warehouse, "raw_tic_holdings.major_foreign_holders") == before
    assert _rows(warehouse, "raw_tic_holdings.major_foreign_holders_vintages") == before
