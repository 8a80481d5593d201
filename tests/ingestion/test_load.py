"""Real dlt loads into a temporary DuckDB from the emulator: schema, rows, spot values, incremental runs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from emulator.par_yield_curve import build_curve
from emulator.server import base_urls, serve
from emulator.treasury_auctions import auction_records, upcoming_records
from ingestion.pipelines import run_ingest
from tests.conftest import AS_OF, reference
from tests.faulty_api import emulated
from tests.replay import replay_server


def query(warehouse: Path, sql: str):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def column_types(warehouse: Path, schema: str, table: str) -> dict[str, str]:
    rows = query(
        warehouse,
        f"select column_name, data_type from information_schema.columns where table_schema='{schema}' and table_name='{table}'",
    )
    return dict(rows)


# The auction and yield-curve sources; CFTC and TIC have their own test modules.
SOURCES = ["treasury_auctions", "par_yield_curve"]


def ingest(warehouse, urls, as_of=AS_OF, **kwargs):
    kwargs.setdefault("sources", SOURCES)
    summary = run_ingest(warehouse=warehouse, as_of=as_of, base_urls=urls, **kwargs)
    assert summary.ok, summary.render()
    return summary


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The full synthetic history loaded once; shared by the read-only assertions below."""
    warehouse = tmp_path_factory.mktemp("full") / "warehouse.duckdb"
    emulator = emulated(as_of=AS_OF)
    with serve(emulator) as root:
        summary = run_ingest(SOURCES, warehouse=warehouse, as_of=AS_OF, base_urls=base_urls(root))
    assert summary.ok, summary.render()
    return warehouse, emulator, summary


def held_by(as_of: date) -> list[dict]:
    """The emulator's auctions_query rows a point-in-time load as of `as_of` asks for: auction date on or before it
    (announced auctions still to be held are in upcoming_auctions)."""
    return [r for r in auction_records(as_of) if r["auction_date"] <= as_of.isoformat()]


def test_full_history_row_counts_match_the_emulator(loaded):
    warehouse, _, summary = loaded
    n_auctions = len(held_by(AS_OF))
    assert query(
        warehouse, "select count(*), count(distinct (cusip, auction_date)) from raw_treasury_auctions.auctions_query"
    ) == [(n_auctions, n_auctions)]
    assert query(warehouse, "select count(*) from raw_treasury_auctions.upcoming_auctions") == [
        (len(upcoming_records(AS_OF)),)
    ]
    n_days = len(build_curve(AS_OF).dates)
    assert query(
        warehouse, "select count(*), min(curve_date), max(curve_date) from raw_par_yield_curve.daily_par_yields"
    ) == [(n_days, date(1990, 1, 2), AS_OF)]
    by_table = {(t.source, t.table): (t.rows_loaded, t.rows_in_table) for r in summary.results for t in r.tables}
    assert by_table[("treasury_auctions", "auctions_query")] == (n_auctions, n_auctions)
    assert by_table[("par_yield_curve", "daily_par_yields")] == (n_days, n_days)


def test_raw_schema_types(loaded):
    warehouse, _, _ = loaded
    auctions = column_types(warehouse, "raw_treasury_auctions", "auctions_query")
    assert len([c for c in auctions if not c.startswith("_dlt")]) == 114
    assert auctions["auction_date"] == "DATE" and auctions["record_date"] == "DATE"
    assert auctions["cusip"] == "VARCHAR" and auctions["security_term"] == "VARCHAR"
    assert auctions["offering_amt"] == "DECIMAL(38,9)" and auctions["high_yield"] == "DECIMAL(38,9)"
    assert auctions["reopening"] == "BOOLEAN" and auctions["inflation_index_security"] == "BOOLEAN"
    assert auctions["comp_bid_decimals"] == "BIGINT"
    assert "_dlt_load_id" in auctions
    yields = column_types(warehouse, "raw_par_yield_curve", "daily_par_yields")
    assert yields["curve_date"] == "DATE"
    assert {c for c in yields if c.startswith("bc_")} == {
        "bc_1month",
        "bc_1_5month",
        "bc_2month",
        "bc_3month",
        "bc_4month",
        "bc_6month",
        "bc_1year",
        "bc_2year",
        "bc_3year",
        "bc_5year",
        "bc_7year",
        "bc_10year",
        "bc_20year",
        "bc_30year",
    }
    assert all(yields[c] == "DECIMAL(38,9)" for c in yields if c.startswith("bc_"))


def test_spot_values(loaded):
    warehouse, _, _ = loaded
    three = query(
        warehouse,
        """
        select offering_amt, direct_bidder_accepted / comp_accepted, reopening, bid_to_cover_ratio
        from raw_treasury_auctions.auctions_query
        where auction_date = '2025-04-08' and original_security_term = '3-Year' and security_type = 'Note'""",
    )
    assert len(three) == 1
    offering, direct_share, reopening, btc = three[0]
    assert offering == Decimal("58000000000") and round(direct_share * 100, 1) == 6.2 and reopening is False
    assert btc == Decimal("2.53")
    assert query(
        warehouse,
        "select bc_10year, bc_30year from raw_par_yield_curve.daily_par_yields where curve_date = '2025-04-09'",
    ) == [(Decimal("4.46"), Decimal("5.02"))]
    # Tenors that did not exist are NULL, not zero.
    assert query(
        warehouse,
        "select bc_1month, bc_20year, bc_1_5month from raw_par_yield_curve.daily_par_yields where curve_date = '1990-01-02'",
    ) == [(None, None, None)]
    assert query(
        warehouse,
        "select count(*) from raw_par_yield_curve.daily_par_yields where curve_date between '2002-02-19' and '2006-02-08' and bc_30year is not null",
    ) == [(0,)]


def test_rerun_with_same_as_of_adds_nothing_and_fetches_only_the_lookback_window(loaded, tmp_path):
    warehouse, _, _ = loaded
    before = query(warehouse, "select count(*), max(auction_date) from raw_treasury_auctions.auctions_query")[0]
    emulator = emulated(as_of=AS_OF)
    with serve(emulator) as root:
        summary = ingest(warehouse, base_urls(root))
    after = query(warehouse, "select count(*), max(auction_date) from raw_treasury_auctions.auctions_query")[0]
    assert after == before
    (auction_request,) = emulator.requests_to("auctions_query")
    assert auction_request.params["filter"] == (
        f"auction_date:gte:{(before[1] - timedelta(days=30)).isoformat()},auction_date:lte:{AS_OF.isoformat()}"
    )
    yield_requests = emulator.requests_to("daily-treasury-rates.csv")
    assert [r.path.rsplit("/", 2)[-2] for r in yield_requests] == [str(AS_OF.year)]
    loaded_rows = {t.table: t.rows_loaded for r in summary.results for t in r.tables}
    assert 0 < loaded_rows["auctions_query"] < 200  # only the look-back window was re-read
    assert loaded_rows["daily_par_yields"] == len([d for d in build_curve(AS_OF).dates if d.year == AS_OF.year])


def test_moving_as_of_forward_adds_exactly_the_new_rows_and_fills_results(tmp_path, served):
    _, urls = served
    warehouse = tmp_path / "incremental.duckdb"
    ingest(warehouse, urls, sources=["treasury_auctions"])
    # Point in time: nothing auctioned after the as-of date, though the server lists announced auctions.
    assert query(
        warehouse, f"select count(*) from raw_treasury_auctions.auctions_query where auction_date > '{AS_OF}'"
    ) == [(0,)]
    assert any(r["auction_date"] > AS_OF.isoformat() for r in auction_records(AS_OF))
    later = AS_OF + timedelta(days=45)
    with serve(emulated(as_of=later)) as root:
        ingest(warehouse, base_urls(root), as_of=later)
    expected = {(r["cusip"], r["auction_date"]) for r in held_by(later)}
    rows = query(
        warehouse, "select cusip, strftime(auction_date, '%Y-%m-%d') from raw_treasury_auctions.auctions_query"
    )
    assert len(rows) == len(expected) and set(rows) == expected  # no duplicates, nothing missing
    # Every auction held by then carries its results.
    filled = query(
        warehouse,
        f"select count(*) from raw_treasury_auctions.auctions_query where comp_accepted is null and auction_date < '{later}'",
    )
    assert filled == [(0,)]
    assert query(warehouse, "select max(curve_date) from raw_par_yield_curve.daily_par_yields") == [
        (max(d for d in build_curve(later).dates),)
    ]


def test_full_refresh_reloads_everything(tmp_path, served):
    emulator, urls = served
    warehouse = tmp_path / "refresh.duckdb"
    ingest(warehouse, urls, sources=["par_yield_curve"])
    emulator.requests.clear()
    ingest(warehouse, urls, sources=["par_yield_curve"], full_refresh=True)
    assert len(emulator.requests_to("daily-treasury-rates.csv")) == AS_OF.year - 1990 + 1
    assert query(warehouse, "select count(*) from raw_par_yield_curve.daily_par_yields") == [
        (len(build_curve(AS_OF).dates),)
    ]


def test_small_pages_are_all_fetched(tmp_path, served, monkeypatch):
    emulator, urls = served
    monkeypatch.setenv("SOURCES__TREASURY_AUCTIONS__PAGE_SIZE", "1000")
    warehouse = tmp_path / "pages.duckdb"
    ingest(warehouse, urls, sources=["treasury_auctions"])
    pages = [int(r.params["page[number]"]) for r in emulator.requests_to("auctions_query")]
    n = len(held_by(AS_OF))
    assert pages == list(range(1, -(-n // 1000) + 1))
    assert query(warehouse, "select count(*) from raw_treasury_auctions.auctions_query") == [(n,)]


def test_base_urls_pointed_at_a_server_of_the_real_payloads(tmp_path):
    """The replay of the saved public responses: the same code loads them, value for value."""
    warehouse = tmp_path / "reference.duckdb"
    with replay_server(reference("")) as (replay, urls):
        ingest(warehouse, urls, sources=["treasury_auctions", "par_yield_curve"], as_of=date(2026, 1, 31))
    bills = replay.bills["data"]
    assert query(
        warehouse,
        "select count(*), sum(offering_amt) from raw_treasury_auctions.auctions_query where security_type = 'Bill'",
    ) == [(25, sum(Decimal(r["offering_amt"]) for r in bills))]
    assert query(
        warehouse,
        "select bid_to_cover_ratio, high_investment_rate from raw_treasury_auctions.auctions_query where cusip='912797SL2' and auction_date='2026-01-05'",
    ) == [(Decimal("2.84"), Decimal("3.622"))]
    # The calendar as published by 31 January 2026 (the recorded response also has later record dates).
    published = [r for r in replay.upcoming if r["record_date"] <= "2026-01-31"]
    assert query(warehouse, "select count(*) from raw_treasury_auctions.upcoming_auctions") == [(len(published),)]
    assert query(warehouse, "select count(*), max(curve_date) from raw_par_yield_curve.daily_par_yields") == [
        (169 + 133, date(2023, 9, 1))  # the 2023 file and the all-years excerpt's rows, per year
    ]
