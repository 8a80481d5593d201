"""A first load that returns no rows still creates every raw table with its declared columns and types, and the
checks on it warn "no rows loaded yet" instead of failing on a missing table (issue 20)."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from datetime import date, datetime

import duckdb
import pytest

from dagster_project.defs.quality.checks import _no_rows_yet
from emulator.server import base_urls, serve
from ingestion.pipelines import run_ingest
from ingestion.registry import NAMES, SOURCES, SUITES
from ingestion.settings import NEW_YORK
from tests.faulty_api import emulated

# Before any source's history begins: every API answers its own empty form (FiscalData `"data": []`, Socrata `[]`,
# NY Fed empty lists, FRED a header, TIC files without the month), and the curve is not even requested (1990+).
BEFORE_EVERYTHING = date(1978, 12, 29)


def test_every_raw_table_exists_with_its_columns_after_an_empty_first_load(warehouse):
    emulator = emulated(as_of=date(2025, 6, 30))
    with serve(emulator) as root:
        summary = run_ingest(None, warehouse=warehouse, as_of=BEFORE_EVERYTHING, base_urls=base_urls(root))
    assert summary.ok, summary.render()
    assert all(t.rows_loaded == 0 for r in summary.results for t in r.tables), summary.render()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = dict(
            con.execute(
                "select table_schema || '.' || table_name, list(column_name || ' ' || data_type) "
                "from information_schema.columns where table_schema like 'raw\\_%' escape '\\' "
                "and table_schema not like '%\\_staging' escape '\\' group by all"
            ).fetchall()
        )
        for source, table in SUITES:
            name = f"raw_{source}.{table}"
            assert name in columns, f"{name} was not created"
            assert con.execute(f"select count(*) from {name}").fetchone() == (0,)
            # The suite's date column is there, typed: staging views and checks can read the empty table.
            date_column = SUITES[(source, table)].date_column
            assert f"{date_column} DATE" in columns[name], (name, columns[name])
        # Declared columns with their types, not only the key: a few the marts read.
        assert "high_yield DECIMAL(38,9)" in columns["raw_treasury_auctions.auctions_query"]
        assert "bc_10year DECIMAL(38,9)" in columns["raw_par_yield_curve.daily_par_yields"]
        assert "tot_pub_debt_out_amt DECIMAL(38,9)" in columns["raw_treasury_debt.debt_to_the_penny"]
        assert "row_hash VARCHAR" in columns["raw_cftc_tff.tff_futures_only_vintages"]
        # The check says "no rows loaded yet"; so does freshness, on an empty table and on one that does not exist.
        for source, table in SUITES:
            message = _no_rows_yet(con, f"raw_{source}", table)
            assert message is not None and message.startswith("no rows loaded yet"), (source, table, message)
        assert "does not exist" in _no_rows_yet(con, "raw_treasury_debt", "no_such_table")
        now = datetime(2025, 6, 30, 12, tzinfo=NEW_YORK)
        for source in NAMES:
            verdict = SOURCES[source].assess(con, now)
            if source == "treasury_auctions":  # judged per announced auction: none announced, none missing
                assert verdict.fresh and verdict.latest_loaded is None, verdict
                continue
            assert not verdict.fresh and verdict.latest_loaded is None, verdict
            if not verdict.missing:
                assert "no rows loaded yet" in verdict.description, verdict.description


def test_a_second_empty_load_leaves_the_tables_as_they_are(warehouse):
    emulator = emulated(as_of=date(2025, 6, 30))
    with serve(emulator) as root:
        for _ in range(2):
            summary = run_ingest(
                ["treasury_debt"], warehouse=warehouse, as_of=date(2001, 1, 15), base_urls=base_urls(root)
            )
            assert summary.ok, summary.render()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # Debt to the Penny has its history from 1993; the MSPD's first month (January 2001) is not out yet.
        assert con.execute("select count(*) from raw_treasury_debt.mspd_table_1").fetchone() == (0,)
        assert con.execute("select count(*) > 1000 from raw_treasury_debt.debt_to_the_penny").fetchone() == (True,)


class NothingYet:
    """WSGI: every source but TIC asks the emulator for a window before its history, so each API answers in its own
    empty form (FiscalData `"data": []`, Socrata `[]`, the NY Fed's empty lists, an unknown keyid's `[]`, FRED's
    header, a curve year with no rows, SOMA's list with no as-of dates). TIC's files are complete publications with no query: served as they are."""

    NO_DATE = "1900-01-01"

    def __init__(self, emulator) -> None:
        self.emulator = emulator

    def __call__(self, environ, start_response):
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        query = re.sub(r"\d{4}-\d{2}-\d{2}", self.NO_DATE, query)  # FiscalData filters, Socrata $where, NY Fed, FRED
        path = re.sub(r"daily-treasury-rates\.csv/\d{4}/", "daily-treasury-rates.csv/1900/", path)  # the curve's year
        if "/api/pd/get/" in path:
            path = re.sub(r"/get/.*\.json$", "/get/NO-SUCH-KEYID.json", path)  # an unknown keyid: 200, no rows
        if path.endswith("/api/soma/asofdates/list.json"):  # the SOMA list before its first week: no dates
            body = b'{"soma":{"asOfDates":[]}}'
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return self.emulator({**environ, "PATH_INFO": path, "QUERY_STRING": query}, start_response)


@pytest.mark.slow  # a whole build
def test_a_build_whose_first_loads_answer_no_rows_publishes_and_warns(tmp_path, monkeypatch):
    from dagster_project.runner.cli import main

    monkeypatch.setenv("TREASURY_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("TREASURY_SERVING", str(tmp_path / "serving.duckdb"))
    as_of = date(2025, 6, 30)
    with serve(NothingYet(emulated(as_of=as_of))) as root:
        for source, url in base_urls(root).items():
            monkeypatch.setenv(f"SOURCES__{source.upper()}__BASE_URL", url)
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(["build", "--as-of", as_of.isoformat()])
    summary = out.getvalue()
    assert code == 0, summary
    assert "SUCCESS" in summary.splitlines()[-1] and "CatalogException" not in summary, summary
    warned = {line.split(":")[0].split()[-1] for line in summary.splitlines() if "no rows loaded yet" in line}
    empty = {f"{source}/{table}" for source, table in SUITES if source != "tic_holdings"}
    assert warned == empty, (warned ^ empty, summary)
    with duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_auctions").fetchone() == (0,)
        assert con.execute("select count(*) > 0 from marts.fct_foreign_holdings").fetchone() == (True,)
        assert con.execute("select count(*) from marts._build_status where status <> 'fresh'").fetchone() == (0,)
    assert (tmp_path / "report" / "index.html").exists()


@pytest.mark.slow  # a whole build
def test_a_first_build_with_a_source_down_lists_its_marts_held_back_with_no_earlier_version(tmp_path, monkeypatch):
    """As of 1978 every source answers no rows, and TIC's files did not exist yet (404): the build publishes the rest;
    the marts that read TIC have no earlier version to keep, so they are named in _build_status and not published."""
    from dagster_project.runner.cli import main

    monkeypatch.setenv("TREASURY_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    serving = tmp_path / "serving.duckdb"
    monkeypatch.setenv("TREASURY_SERVING", str(serving))
    with serve(emulated(as_of=BEFORE_EVERYTHING)) as root:
        for source, url in base_urls(root).items():
            monkeypatch.setenv(f"SOURCES__{source.upper()}__BASE_URL", url)
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(["build", "--as-of", BEFORE_EVERYTHING.isoformat()])
    summary = out.getvalue()
    assert code == 1 and "published with 4 marts held back" in summary.splitlines()[-1], summary
    with duckdb.connect(str(serving), read_only=True) as con:
        held = con.execute(
            "select table_name, data_as_of, reason like 'source tic_holdings blocked (load failed%404%' "
            "from marts._build_status where schema_name = 'marts' and status = 'held back' order by 1"
        ).fetchall()
        published = {
            t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        }
    names = ["fct_foreign_holdings", "fct_marketable_debt_monthly", "mart_stress_alerts", "mart_treasury_stress_weekly"]
    assert held == [(name, None, True) for name in names], held
    assert not published & set(names) and "fct_auctions" in published
    page = (tmp_path / "report" / "index.html").read_text()
    assert "<strong>4 marts held back</strong>" in page and "No stress week on or before 1978-12-29" in page
