"""The ninth source, the Fed's SOMA holdings: its parser on the real NY Fed bodies of ../shared/reference-data, its
errors, a dlt load from the emulator (schema, rows, point in time, the look-back), and its marts in the session's
sample build reconciling with what the NY Fed publishes."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest

from emulator.fed_soma import as_of_dates
from emulator.server import Emulator, base_urls, serve
from ingestion.common.errors import SourceDataError
from ingestion.fed_soma import parse_as_of_dates, parse_holdings
from ingestion.pipelines import run_ingest
from tests.conftest import AS_OF, REFERENCE_DATA
from tests.replay import SOMA_AGENCY, SOMA_DATES, replay_server

real = pytest.mark.skipif(not REFERENCE_DATA.exists(), reason="../shared/reference-data is not checked out")


@real
def test_the_recorded_as_of_list_parses_oldest_first_with_the_holiday_tuesday():
    days = parse_as_of_dates(json.loads((REFERENCE_DATA / SOMA_DATES).read_text()), where="list")
    assert len(days) == 1094 and days[0] == date(2003, 7, 9) and days[-1] == date(2024, 6, 18)
    assert days == sorted(days)
    # Juneteenth 2024 fell on the Wednesday: that week is as of the Tuesday.
    assert days[-1].weekday() == 1 and sum(d.weekday() == 2 for d in days) > 1000


@real
def test_the_recorded_holdings_body_parses_with_its_strings_typed_and_blanks_null():
    body = json.loads((REFERENCE_DATA / SOMA_AGENCY).read_text())
    table = parse_holdings(body, as_of_date=date(2019, 1, 2), where="agency")
    rows = table.to_pylist()
    assert len(rows) == 7 and sum(r["par_value"] for r in rows) == Decimal("2409000000")
    first = rows[0]
    assert first["cusip"] == "3137EACA5" and first["issuer"] == "FHLMC" and first["coupon"] == Decimal("3.75")
    assert first["maturity_date"] == date(2019, 3, 27) and first["par_value"] == Decimal("62000000")
    # "" is not applicable: NULL, never 0.
    assert first["spread"] is None and first["inflation_compensation"] is None and first["percent_outstanding"] is None
    assert first["change_from_prior_week"] == Decimal("0") and {r["security_type"] for r in rows} == {"Agency Debts"}


def test_a_record_of_another_date_a_missing_key_or_a_broken_body_is_named():
    record = {"asOfDate": "2025-06-25", "cusip": "912828YV6", "parValue": "1000", "securityType": "NotesBonds"}
    with pytest.raises(SourceDataError, match=r"fed_soma.treasury_holdings.*asked for 2025-06-18, records dated"):
        parse_holdings({"soma": {"holdings": [record]}}, as_of_date=date(2025, 6, 18), where="u")
    with pytest.raises(SourceDataError, match="body has no 'soma.holdings' list"):
        parse_holdings({"soma": {}}, as_of_date=None, where="u")
    with pytest.raises(SourceDataError, match=r"cusip"):
        parse_holdings({"soma": {"holdings": [{**record, "cusip": ""}]}}, as_of_date=None, where="u")
    with pytest.raises(SourceDataError, match=r"as-of date 1 is '06/18/2025', not YYYY-MM-DD"):
        parse_as_of_dates({"soma": {"asOfDates": ["2025-06-25", "06/18/2025"]}}, where="u")
    with pytest.raises(SourceDataError, match=r"par_value"):  # a unit in the number
        parse_holdings({"soma": {"holdings": [{**record, "parValue": "1,000"}]}}, as_of_date=None, where="u")


def _load(warehouse, urls, as_of):
    summary = run_ingest(["fed_soma"], warehouse=warehouse, as_of=as_of, base_urls=urls)
    assert summary.ok, summary.render()
    return summary


def test_a_load_from_the_emulator_is_typed_keyed_and_point_in_time(warehouse, monkeypatch):
    monkeypatch.setenv("SOURCES__FED_SOMA__START_DATE", "2025-01-01")
    as_of = date(2025, 6, 25)  # a Wednesday: that day's holdings come out on the Thursday, after the as-of date
    with serve(Emulator(as_of=as_of)) as root:
        _load(warehouse, base_urls(root), as_of)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        types = dict(con.execute("describe raw_fed_soma.treasury_holdings").fetchall()[i][:2] for i in range(12))
        weeks = con.execute(
            "select min(as_of_date), max(as_of_date), count(distinct as_of_date), count(*) "
            "from raw_fed_soma.treasury_holdings"
        ).fetchone()
        dated = con.execute("select max(as_of_date), count(*) from raw_fed_soma.as_of_dates").fetchone()
        total = con.execute(
            "select sum(par_value) from raw_fed_soma.treasury_holdings where as_of_date = '2025-06-18'"
        ).fetchone()[0]
    assert types["par_value"] == "DECIMAL(38,9)" and types["as_of_date"] == "DATE" and types["cusip"] == "VARCHAR"
    # 1 January 2025 was a holiday: that week is as of Tuesday 31 December, before the start date.
    assert weeks[:3] == (date(2025, 1, 8), date(2025, 6, 18), 24) and weeks[3] > 24 * 300
    assert dated == (date(2025, 6, 18), len(as_of_dates(as_of)))
    assert Decimal(3.3e12) < total < Decimal(3.8e12)  # the synthetic Fed holds about $3.5 trillion


def test_the_next_day_loads_the_new_week_and_reads_the_look_back_again(warehouse, monkeypatch):
    monkeypatch.setenv("SOURCES__FED_SOMA__START_DATE", "2025-05-01")
    with serve(Emulator(as_of=date(2025, 6, 26))) as root:
        _load(warehouse, base_urls(root), date(2025, 6, 25))
    asked = []

    class Logged(Emulator):
        def __call__(self, environ, start_response):
            asked.append(environ["PATH_INFO"])
            return super().__call__(environ, start_response)

    with serve(Logged(as_of=date(2025, 6, 26))) as root:
        summary = _load(warehouse, base_urls(root), date(2025, 6, 26))
    weeks = sorted(p.rsplit("/", 1)[-1].removesuffix(".json") for p in asked if "/tsy/" in p)
    # Loaded through 18 June; the look-back (14 days) reads 4, 11 and 18 June again, and the new 25 June.
    assert weeks == ["2025-06-04", "2025-06-11", "2025-06-18", "2025-06-25"], weeks
    holdings = next(t for t in summary.results[0].tables if t.table == "treasury_holdings")
    assert 4 * 300 < holdings.rows_loaded < holdings.rows_in_table  # four weeks merged over eight
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) = count(distinct (as_of_date, cusip)) from raw_fed_soma.treasury_holdings"
        ).fetchone() == (True,)


@real
def test_the_real_dates_load_with_no_treasury_recording_as_an_empty_table(warehouse, monkeypatch):
    monkeypatch.setenv("SOURCES__FED_SOMA__START_DATE", "2024-05-01")
    with replay_server(REFERENCE_DATA) as (replay, urls):
        _load(warehouse, urls, date(2024, 6, 30))
    asked = [p for p, _ in replay.requests if "/tsy/" in p]
    assert len(asked) == 8 and asked[-1].endswith("/2024-06-18.json")  # May and June 2024, the Tuesday included
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*), max(as_of_date) from raw_fed_soma.as_of_dates").fetchone() == (
            1094,
            date(2024, 6, 18),
        )
        assert con.execute("select count(*) from raw_fed_soma.treasury_holdings").fetchone() == (0,)


def test_the_fed_share_of_each_auction_reconciles_with_the_published_percent_outstanding(sample_build):
    """The NY Fed publishes each holding's share of its issue; the mart computes it from the auctions' amounts. Where
    no reopening settled between an auction and the first SOMA week after it, the two agree to the published
    rounding (4 decimals of a fraction: 0.005 percentage points)."""
    with duckdb.connect(str(sample_build.serving), read_only=True) as con:
        rows = con.execute(
            """
            select a.cusip, a.auction_date, fed_share_first_week_pct, published_share_first_week_pct
            from marts.fct_auction_soma_holdings as a
            where published_share_first_week_pct is not null and not exists (
                select 1 from marts.fct_auctions as b
                where b.cusip = a.cusip and b.maturity_date = a.maturity_date and b.auction_date > a.auction_date
                    and b.issue_date <= a.first_soma_as_of_date
            )
            """
        ).fetchall()
        weekly = con.execute(
            """
            select as_of_date, total_par_value_usd_bn, runoff_4w_usd_bn from marts.fct_soma_holdings_weekly
            where security_type = 'Bills' order by as_of_date
            """
        ).fetchall()
    assert len(rows) > 1000
    # Both published as DECIMAL(18,3) percent: the rounding of either to 0.001 adds to the NY Fed's.
    worst = max(rows, key=lambda r: abs(r[2] - r[3]))
    assert abs(worst[2] - worst[3]) <= Decimal("0.006"), worst
    # The runoff cap cut of April 2025 ($25bn to $5bn a month): four weeks of runoff before and after.
    by_week = {day: (total, runoff) for day, total, runoff in weekly}
    assert 18 < by_week[date(2025, 3, 26)][1] < 28 and 2 < by_week[date(2025, 5, 28)][1] < 6
    # Monday 30 June: Wednesday 25 June's holdings came out on the Thursday, the last week in the build.
    assert max(by_week) == date(2025, 6, 25) == AS_OF - timedelta(days=5)
