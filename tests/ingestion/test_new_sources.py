"""Parsers of the NY Fed, FRED and FiscalData debt sources on the real payloads of ../shared/reference-data, their
errors on bad ones, and a dlt load of each into a temporary DuckDB from the emulator (schema and rows)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from emulator.server import Emulator, base_urls, serve
from ingestion.common.errors import SourceDataError
from ingestion.fed_custody import parse_fredgraph
from ingestion.funding_rates import parse_operations, parse_rates, snake
from ingestion.pipelines import run_ingest
from ingestion.primary_dealers import parse_timeseries
from tests.conftest import REFERENCE_DATA
from tests.replay import FRED_FILES, PD_EXTENSION, PD_RAW, PD_SAMPLE, RATE_FILES, RP_FILE

pytestmark = pytest.mark.skipif(not REFERENCE_DATA.exists(), reason="../shared/reference-data is not checked out")


def _json(name: str):
    return json.loads((REFERENCE_DATA / name).read_bytes(), parse_float=Decimal)


# --- primary dealers -----------------------------------------------------------------------------------------------
def test_the_raw_dealer_body_parses_every_week_as_a_decimal():
    body = json.loads((REFERENCE_DATA / PD_RAW).read_text())
    table = parse_timeseries(body, keyid="PDPOSMBSFGS-C", series_break="current", where="raw")
    rows = table.to_pylist()
    assert len(rows) == 587 and rows[0] == {
        "asofdate": date(2013, 4, 3),
        "keyid": "PDPOSMBSFGS-C",
        "value": Decimal("9152"),
        "series_break": "current",
    }
    assert rows[-1]["asofdate"] == date(2024, 6, 26) and all(r["asofdate"].weekday() == 2 for r in rows)


def test_a_suppressed_value_is_null_never_zero_and_negatives_keep_their_sign():
    series = {s["keyid"]: s["body"] for s in _json(PD_SAMPLE)["series"]}
    lent = parse_timeseries(series["PDSOOS-UTSETTOT"], keyid="PDSOOS-UTSETTOT", series_break="current", where="x")
    assert lent.num_rows == 12 and lent["value"].null_count == 6
    bills = parse_timeseries(series["PDPOSGS-B"], keyid="PDPOSGS-B", series_break="current", where="x").to_pylist()
    assert {r["asofdate"]: r["value"] for r in bills}[date(2021, 12, 15)] == Decimal("-3975")


def test_the_older_period_keeps_its_own_keyids():
    [bills] = [s for s in _json(PD_EXTENSION)["series"] if s["keyid"] == "PDPUSGTBNOP"]
    table = parse_timeseries(bills["body"], keyid="PDPUSGTBNOP", series_break="SBP2013", where=bills["url"])
    assert set(table["series_break"].to_pylist()) == {"SBP2013"} and max(table["asofdate"].to_pylist()) == date(
        2013, 3, 27
    )


def test_a_record_of_another_keyid_or_a_broken_body_is_named():
    with pytest.raises(
        SourceDataError, match=r"record \(asofdate='2021-12-01'\) has keyid 'PDPOSGS-B', asked for 'PDPOSGST-TOT'"
    ):
        parse_timeseries(
            {"pd": {"timeseries": [{"asofdate": "2021-12-01", "keyid": "PDPOSGS-B", "value": "1"}]}},
            keyid="PDPOSGST-TOT",
            series_break="current",
            where="u",
        )
    with pytest.raises(SourceDataError, match="body has no 'pd.timeseries' list"):
        parse_timeseries({"pd": {}}, keyid="K", series_break="current", where="u")
    with pytest.raises(
        SourceDataError,
        match=r"field 'value' = '12,5' is not a valid decimal in record \(keyid='K', asofdate='2024-01-03'\)",
    ):
        parse_timeseries(
            {"pd": {"timeseries": [{"asofdate": "2024-01-03", "keyid": "K", "value": "12,5"}]}},
            keyid="K",
            series_break="current",
            where="u",
        )
    empty = parse_timeseries(json.loads('{"pd": { "timeseries": [ ] } }'), keyid="K", series_break="current", where="u")
    assert empty.num_rows == 0


# --- reference rates and operations --------------------------------------------------------------------------------
def test_rates_keep_their_published_decimals_and_effr_its_target_range():
    effr = parse_rates(_json(RATE_FILES[2]), where="effr").to_pylist()
    assert len(effr) == 108 and effr[0]["effective_date"] == date(2023, 6, 6)
    assert (effr[0]["percent_rate"], effr[0]["target_rate_from"], effr[0]["target_rate_to"]) == (
        Decimal("5.08"),
        Decimal("5.00"),
        Decimal("5.25"),
    )
    latest = parse_rates(_json(RATE_FILES[3]), where="latest")  # SOFRAI is another record: left out
    assert sorted(latest["type"].to_pylist()) == ["BGCR", "EFFR", "OBFR", "SOFR", "TGCR"]
    sofr = parse_rates(_json(RATE_FILES[0]), where="sofr").to_pylist()
    assert [(r["effective_date"], r["percent_percentile99"]) for r in sofr][0] == (date(2024, 6, 6), Decimal("5.44"))
    assert snake("termCalenderDays") == "term_calender_days" and snake("percentPercentile99") == "percent_percentile99"


def test_operations_split_into_operations_details_and_late_propositions():
    operations, details, propositions = parse_operations(_json(RP_FILE), where="rp")
    assert (operations.num_rows, details.num_rows, propositions.num_rows) == (467, 935, 784)
    by_id = {r["operation_id"]: r for r in operations.to_pylist()}
    sve = by_id["RP 111722 99"]  # a small value exercise: zero totals beside non-zero details, as published
    assert sve["total_amt_accepted"] == 0
    assert sum(d["amt_accepted"] for d in details.to_pylist() if d["operation_id"] == "RP 111722 99") == 94000000
    assert "1 Day " in {r["settlement_type"] for r in by_id.values()}  # the trailing space is kept in the raw table
    with_props = {p["operation_id"] for p in propositions.to_pylist()}
    late = [
        r for r in by_id.values() if r["operation_type"] == "Reverse Repo" and r["operation_date"] >= date(2023, 3, 1)
    ]
    assert len(late) == 37 and not any(r["operation_id"] in with_props for r in late)


def test_a_rates_body_without_its_list_is_named():
    with pytest.raises(SourceDataError, match="body has no 'refRates' list"):
        parse_rates({"rates": []}, where="u")
    with pytest.raises(SourceDataError, match="body has no 'repo.operations' list"):
        parse_operations({"repo": {}}, where="u")


# --- FRED ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("series", "rows", "missing", "first"),
    [
        ("DGS10", 16332, 696, (date(1962, 1, 2), Decimal("4.06"))),  # DATE header, "." for missing
        ("DGS5", 1306, 54, (date(2019, 12, 26), Decimal("1.72"))),  # observation_date header, empty for missing
        ("WALCL", 1150, 0, (date(2002, 12, 18), Decimal("719542"))),
    ],
)
def test_fredgraph_both_header_eras_and_both_missing_markers(series, rows, missing, first):
    table = parse_fredgraph((REFERENCE_DATA / FRED_FILES[series]).read_text(), [series], where=series)
    assert (table.num_rows, table["value"].null_count) == (rows, missing)
    assert (table["observation_date"][0].as_py(), table["value"][0].as_py()) == first


def test_fredgraph_keeps_twenty_decimals_and_names_a_missing_series():
    name = "fred_graph_csv/fredgraph_multi_DFF_DGS10_DGS3MO_DGS5_monthly_avg_1979-08_to_2022-05.csv"
    text = (REFERENCE_DATA / name).read_text()
    table = parse_fredgraph(text, ["DFF"], where="multi")
    assert table["value"][0].as_py() == Decimal("10.9361290322580645")
    with pytest.raises(SourceDataError, match=r"series WMTSECL1 not in the header"):
        parse_fredgraph(text, ["WMTSECL1"], where="multi")
    with pytest.raises(SourceDataError, match=r"DGS10 on 2024-01-02: 'n/a' is not a number"):
        parse_fredgraph("DATE,DGS10\n2024-01-02,n/a\n", ["DGS10"], where="bad")


# --- the dlt loads, from the emulator ------------------------------------------------------------------------------
def test_the_four_sources_load_into_duckdb_with_their_keys_and_types(tmp_path):
    as_of = date(2025, 4, 11)
    with serve(Emulator(as_of=as_of)) as root:
        summary = run_ingest(
            ["primary_dealers", "funding_rates", "fed_custody", "treasury_debt"],
            warehouse=tmp_path / "w.duckdb",
            as_of=as_of,
            base_urls=base_urls(root),
        )
    assert summary.ok, summary.render()
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        kinds = dict(
            con.execute(
                "select table_schema || '.' || table_name || '.' || column_name, data_type from information_schema.columns "
                "where table_schema like 'raw_%' and table_schema not like '%_staging' and column_name in ('value', 'asofdate', 'percent_rate', "
                "'total_amt_accepted', 'tot_pub_debt_out_amt', 'total_mil_amt')"
            ).fetchall()
        )
        assert kinds == {
            "raw_primary_dealers.dealer_statistics.asofdate": "DATE",
            "raw_primary_dealers.dealer_statistics.value": "DECIMAL(38,9)",
            "raw_funding_rates.reference_rates.percent_rate": "DECIMAL(38,9)",
            "raw_funding_rates.repo_operations.total_amt_accepted": "DECIMAL(38,9)",
            "raw_fed_custody.observations.value": "DECIMAL(38,20)",
            "raw_treasury_debt.debt_to_the_penny.tot_pub_debt_out_amt": "DECIMAL(38,9)",
            "raw_treasury_debt.mspd_table_1.total_mil_amt": "DECIMAL(38,12)",
        }
        # Point in time: nothing published after 11 April 2025.
        assert con.execute("select max(asofdate) from raw_primary_dealers.dealer_statistics").fetchone() == (
            date(2025, 4, 2),
        )
        assert con.execute("select max(effective_date) from raw_funding_rates.reference_rates").fetchone() == (
            date(2025, 4, 10),
        )
        assert con.execute(
            "select max(observation_date) from raw_fed_custody.observations where series_id = 'WMTSECL1'"
        ).fetchone() == (date(2025, 4, 9),)
        assert con.execute("select max(record_date) from raw_treasury_debt.debt_to_the_penny").fetchone() == (
            date(2025, 4, 10),
        )
        assert con.execute("select max(record_date) from raw_treasury_debt.mspd_table_1").fetchone() == (
            date(2025, 3, 31),
        )
        # Debt to the Penny's identity holds to the cent; each key is unique.
        assert con.execute(
            "select count(*) from raw_treasury_debt.debt_to_the_penny "
            "where debt_held_public_amt + intragov_hold_amt <> tot_pub_debt_out_amt"
        ).fetchone() == (0,)
        assert con.execute(
            "select count(*) - count(distinct (keyid, asofdate)) from raw_primary_dealers.dealer_statistics"
        ).fetchone() == (0,)
