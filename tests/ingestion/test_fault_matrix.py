"""The fault matrix, at the loader: a bad answer fails the source with the record named, loses nothing already
loaded, never moves a cursor, and the next ordinary run recovers without --full-refresh.

Faults are planted by a WSGI middleware in front of the emulator (test code): it edits the JSON the emulator would
have sent, so everything else (paging, headers, the request log) stays real.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import duckdb
import pytest

from ingestion.emulator.server import Emulator, base_urls, serve
from ingestion.pipelines import run_ingest

AS_OF = date(2025, 6, 30)


class Tamper:
    """Serve `emulator`, passing the JSON body of the first answer to a path containing `path_contains` through
    `edit` (then stop tampering: the server "recovers")."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.rule: tuple[str, Callable] | None = None

    def once(self, path_contains: str, edit: Callable) -> None:
        self.rule = (path_contains, edit)

    def __call__(self, environ, start_response):
        rule = self.rule
        if rule is None or rule[0] not in environ.get("PATH_INFO", ""):
            return self.emulator(environ, start_response)
        self.rule = None
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        body = json.loads(b"".join(self.emulator(environ, capture)))
        out = json.dumps(rule[1](body)).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(out)))])
        return [out]


@pytest.fixture
def tampered():
    tamper = Tamper(Emulator(as_of=AS_OF))
    with serve(tamper) as root:
        yield tamper, base_urls(root)


def snapshot(warehouse, *tables: str) -> dict[str, list]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"select * exclude (_dlt_load_id) from {t} order by all").fetchall() for t in tables}


def ingest(warehouse, urls, source: str):
    return run_ingest([source], warehouse=warehouse, as_of=AS_OF, base_urls=urls)


def _future_report(rows: list[dict]) -> list[dict]:
    poisoned = dict(rows[-1], report_date_as_yyyy_mm_dd="2099-06-16T00:00:00.000", id="990616043602F")
    return [*rows, poisoned]


def test_a_future_dated_cftc_row_fails_the_load_and_never_moves_the_cursor(tampered, warehouse):
    tamper, urls = tampered
    assert ingest(warehouse, urls, "cftc_tff").ok
    tables = ("raw_cftc_tff.tff_futures_only", "raw_cftc_tff.tff_futures_only_vintages")
    before = snapshot(warehouse, *tables)
    tamper.once("/resource/", _future_report)
    summary = ingest(warehouse, urls, "cftc_tff")
    assert not summary.ok
    error = summary.results[0].error
    assert "report_date_as_yyyy_mm_dd after 2025-06-24" in error and "2099-06-16" in error, error
    assert snapshot(warehouse, *tables) == before  # nothing loaded, nothing lost
    # The next ordinary run asks from the same place (the cursor did not move) and succeeds.
    tamper.emulator.requests.clear()
    again = ingest(warehouse, urls, "cftc_tff")
    assert again.ok, again.render()
    (request,) = tamper.emulator.requests_to("/resource/")
    assert "'2025-05-27T00:00:00'" in request.params["$where"]  # 28 days before the latest report, 2025-06-24
    assert snapshot(warehouse, *tables) == before


def test_a_future_dated_auction_fails_the_load_and_names_it(tampered, warehouse):
    tamper, urls = tampered
    assert ingest(warehouse, urls, "treasury_auctions").ok
    before = snapshot(warehouse, "raw_treasury_auctions.auctions_query")

    def poison(body):
        body["data"].append(dict(body["data"][-1], auction_date="2099-01-05", cusip="912797ZZ9"))
        return body

    tamper.once("auctions_query", poison)
    summary = ingest(warehouse, urls, "treasury_auctions")
    assert not summary.ok
    assert "auction_date after 2025-06-30" in summary.results[0].error
    assert "cusip=912797ZZ9, auction_date=2099-01-05" in summary.results[0].error
    assert snapshot(warehouse, "raw_treasury_auctions.auctions_query") == before
    assert ingest(warehouse, urls, "treasury_auctions").ok


def test_a_key_repeated_in_one_auctions_page_fails_naming_the_key_and_both_records(tampered, warehouse):
    tamper, urls = tampered

    def duplicate(body):
        body["data"].insert(1, dict(body["data"][0], offering_amt="1"))
        return body

    tamper.once("auctions_query", duplicate)
    summary = ingest(warehouse, urls, "treasury_auctions")
    assert not summary.ok
    error = summary.results[0].error
    assert "duplicate key (cusip=" in error and "first at page 1 of" in error and "row 1, again at" in error, error
    assert "row 2" in error
    assert ingest(warehouse, urls, "treasury_auctions").ok  # recovers; one row per key
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) = count(distinct (cusip, auction_date)) from raw_treasury_auctions.auctions_query"
        ).fetchone() == (True,)


def test_a_key_repeated_in_a_cftc_fetch_never_makes_two_current_vintages(tampered, warehouse):
    tamper, urls = tampered
    tamper.once("/resource/", lambda rows: [*rows, dict(rows[0], open_interest_all="1")])
    summary = ingest(warehouse, urls, "cftc_tff")
    assert not summary.ok and "duplicate key (report_date_as_yyyy_mm_dd=" in summary.results[0].error
    assert ingest(warehouse, urls, "cftc_tff").ok
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            """select count(*) from (
                 select report_date_as_yyyy_mm_dd, cftc_contract_market_code from raw_cftc_tff.tff_futures_only_vintages
                 where superseded_at is null group by all having count(*) > 1)"""
        ).fetchone() == (0,)


def test_a_tenor_column_that_stops_arriving_fails_and_blanks_nothing(tampered, warehouse):
    """Without the `30 Yr` column the 2025 file would NULL every 30-year yield of 2025 already loaded."""
    tamper, urls = tampered
    assert ingest(warehouse, urls, "par_yield_curve").ok
    before = snapshot(warehouse, "raw_par_yield_curve.daily_par_yields")
    rows = [line.split(",") for line in tamper.emulator._yield_csv([2025]).split("\n")]
    assert rows[0][-1] == '"30 Yr"'
    tamper.emulator.add_fault("csv/2025/", status=200, body="\n".join(",".join(r[:-1]) for r in rows))
    summary = ingest(warehouse, urls, "par_yield_curve")
    assert not summary.ok
    assert "tenor column(s) missing: bc_30year, published on dates in this file" in summary.results[0].error
    assert snapshot(warehouse, "raw_par_yield_curve.daily_par_yields") == before
    assert ingest(warehouse, urls, "par_yield_curve").ok  # the file is whole again: recovers
