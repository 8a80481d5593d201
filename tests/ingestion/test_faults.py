"""Failure behaviour over real loopback sockets: retries, bounded waits, clear errors, nothing lost."""

from __future__ import annotations

import json
import logging

import duckdb
import pytest

from ingestion.pipelines import run_ingest
from ingestion.treasury_auctions.fields import AUCTIONS_QUERY_FIELDS
from tests.conftest import AS_OF


def count(warehouse, table):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


def run(warehouse, urls, sources):
    return run_ingest(sources, warehouse=warehouse, as_of=AS_OF, base_urls=urls)


def test_429_then_success_completes_and_honours_retry_after(warehouse, served, caplog, monkeypatch):
    emulator, urls = served
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")
    emulator.add_fault("auctions_query", status=429, times=1, retry_after="1")
    emulator.add_fault("daily-treasury-rates.csv/1995", status=503, times=2)
    with caplog.at_level(logging.WARNING, logger="treasury.ingest"):
        summary = run(warehouse, urls, ["treasury_auctions", "par_yield_curve"])
    assert summary.ok, summary.render()
    statuses = [r.status for r in emulator.requests_to("auctions_query")]
    assert statuses[:2] == [429, 200]
    assert [r.status for r in emulator.requests_to("csv/1995/")] == [503, 503, 200]
    first, second = emulator.requests_to("auctions_query")[:2]
    assert 0.9 <= second.at - first.at < 4  # the server's Retry-After (1 s) was the wait
    assert "HTTP 429 from" in caplog.text and "server asks for 1s" in caplog.text
    assert count(warehouse, "raw_par_yield_curve.daily_par_yields") > 8000


def test_retry_after_is_capped(warehouse, served, caplog):
    emulator, urls = served
    # An hour's Retry-After would stall the run; the wait is capped at RUNTIME__REQUEST_MAX_RETRY_DELAY (0.5 s).
    emulator.add_fault("upcoming_auctions", status=429, times=1, retry_after="3600")
    with caplog.at_level(logging.WARNING, logger="treasury.ingest"):
        summary = run(warehouse, urls, ["treasury_auctions"])
    assert summary.ok, summary.render()
    first, second = emulator.requests_to("upcoming_auctions")[:2]
    assert first.status == 429 and second.at - first.at < 5  # capped at 0.5 s, not an hour
    assert "server asks for 3600s" in caplog.text


def test_cut_connection_is_retried(warehouse, served):
    emulator, urls = served
    emulator.add_fault("upcoming_auctions", cut=True, times=1)
    summary = run(warehouse, urls, ["treasury_auctions"])
    assert summary.ok, summary.render()
    assert len(emulator.requests_to("upcoming_auctions")) == 2


def test_500_forever_fails_clearly_and_keeps_loaded_rows(warehouse, served):
    emulator, urls = served
    assert run(warehouse, urls, ["treasury_auctions", "par_yield_curve"]).ok
    auctions_before = count(warehouse, "raw_treasury_auctions.auctions_query")
    yields_before = count(warehouse, "raw_par_yield_curve.daily_par_yields")
    emulator.add_fault("auctions_query", status=500, times=None)
    summary = run(warehouse, urls, ["treasury_auctions", "par_yield_curve"])
    assert not summary.ok
    failed = {r.source: r.error for r in summary.results if r.error}
    assert list(failed) == ["treasury_auctions"]  # the other source still ran
    message = failed["treasury_auctions"]
    assert (
        "[treasury_auctions.auctions_query]" in message
        and "auctions_query?filter=" in message
        and "HTTP 500" in message
    )
    assert [r.status for r in emulator.requests_to("auctions_query")][-3:] == [500, 500, 500]  # 3 attempts
    assert count(warehouse, "raw_treasury_auctions.auctions_query") == auctions_before
    assert count(warehouse, "raw_par_yield_curve.daily_par_yields") == yields_before
    assert "treasury_auctions failed; tables keep what earlier runs loaded" in summary.render()


def test_a_failure_on_page_two_loads_nothing_from_page_one(warehouse, served, monkeypatch):
    emulator, urls = served
    monkeypatch.setenv("SOURCES__TREASURY_AUCTIONS__PAGE_SIZE", "5000")
    emulator.add_fault("auctions_query", status=500, times=None, query_contains="page%5Bnumber%5D=2")
    summary = run(warehouse, urls, ["treasury_auctions"])
    assert not summary.ok and "page%5Bnumber%5D=2" in summary.results[0].error
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema='raw_treasury_auctions'"
        ).fetchall()
    assert ("auctions_query",) not in tables  # a half-read source is never loaded


def _record(drop: tuple[str, ...] = (), **values: str) -> dict[str, str]:
    """A FiscalData auctions_query record with every field ("null" unless given), less `drop`."""
    record = dict.fromkeys(AUCTIONS_QUERY_FIELDS, "null")
    record.update(cusip="912797SL2", auction_date="2025-06-02", security_type="Bill", security_term="13-Week")
    record.update(values)
    return {k: v for k, v in record.items() if k not in drop}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<html>maintenance</html>", "body is not JSON"),
        ('{"error": "oops"}', "body has no 'data' list"),
        ('{"data": [], "meta": {}}', "no integer 'meta.total-pages'"),
        (
            '{"data": [{"cusip": "912797SL2", "auction_date": "null"}], "meta": {"total-pages": 1}}',
            "required field 'auction_date' is missing in record (cusip='912797SL2'",
        ),
        (
            json.dumps({"data": [_record(offering_amt="lots")], "meta": {"total-pages": 1}}),
            "field 'offering_amt' = 'lots' is not a valid decimal",
        ),
        (
            # A field FiscalData always sends stops arriving: loading would blank the loaded values.
            json.dumps({"data": [_record(drop=("bid_to_cover_ratio", "high_yield"))], "meta": {"total-pages": 1}}),
            "field(s) bid_to_cover_ratio, high_yield missing from every record of the page (schema drift upstream)",
        ),
    ],
)
def test_malformed_page_names_source_page_and_problem_and_keeps_rows(warehouse, served, body, problem):
    emulator, urls = served
    assert run(warehouse, urls, ["treasury_auctions"]).ok
    before = count(warehouse, "raw_treasury_auctions.auctions_query")
    emulator.add_fault("auctions_query", status=200, body=body, times=None)
    summary = run(warehouse, urls, ["treasury_auctions"])
    assert not summary.ok
    message = summary.results[0].error
    assert message.startswith("[treasury_auctions.auctions_query] page")
    assert "auctions_query?filter=" in message and problem in message
    assert count(warehouse, "raw_treasury_auctions.auctions_query") == before


def test_malformed_yield_csv_names_the_year_and_line(warehouse, served):
    emulator, urls = served
    emulator.add_fault("csv/2024/", status=200, body='Date,"3 Mo"\n13/45/2024,5.1', times=None)
    summary = run(warehouse, urls, ["par_yield_curve"])
    assert not summary.ok
    assert "[par_yield_curve.daily_par_yields] year 2024" in summary.results[0].error
    assert "line 2: date '13/45/2024' is not MM/DD/YYYY" in summary.results[0].error


def test_schema_drift_is_loaded_and_reported(warehouse, served):
    emulator, urls = served
    emulator.drift_fields = {"wi_yield_at_deadline": "4.250000"}
    summary = run(warehouse, urls, ["treasury_auctions"])
    assert summary.ok, summary.render()
    assert "wi_yield_at_deadline" in summary.results[0].drift.new_fields
    assert "new upstream fields loaded as text: wi_yield_at_deadline" in summary.render()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select distinct wi_yield_at_deadline from raw_treasury_auctions.auctions_query"
        ).fetchall() == [("4.250000",)]
