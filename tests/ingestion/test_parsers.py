"""Parsers on small fixtures written in the real wire formats, and on the real reference payloads."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from ingestion.common.errors import SourceDataError
from ingestion.common.records import DriftReport, records_to_table
from ingestion.par_yield_curve.parser import TENOR_COLUMNS, column_for_label, parse_csv
from ingestion.treasury_auctions.fields import AUCTIONS_QUERY_FIELDS, AUCTIONS_REQUIRED
from tests.conftest import FIXTURES, load_fixture_json, reference

KEY = ("cusip", "auction_date")


def to_table(records, drift=None):
    return records_to_table(
        records,
        AUCTIONS_QUERY_FIELDS,
        source="treasury_auctions.auctions_query",
        where="page 1 of 1 (test)",
        key_fields=KEY,
        required=AUCTIONS_REQUIRED,
        drift=drift,
    )


def test_auction_records_are_typed_and_null_strings_become_null():
    records = load_fixture_json("auctions_query_page.json")["data"]
    table = to_table(records)
    assert table.num_rows == 2
    assert table.schema.field("auction_date").type == pa.date32()
    assert table.schema.field("reopening").type == pa.bool_()
    assert table.schema.field("comp_accepted").type == pa.decimal128(38, 9)
    assert table.schema.field("allocation_pctage_decimals").type == pa.int64()
    assert table.schema.field("cusip").nullable is False
    note, bill = table.to_pylist()
    assert note["auction_date"] == date(2025, 4, 8)
    assert note["high_yield"] == Decimal("3.862")
    assert note["offering_amt"] == Decimal("58000000000")
    assert note["reopening"] is False and note["strippable"] is True
    assert note["currently_outstanding"] is None  # "null"
    assert note["int_payment_frequency"] == "Semi-Annual"
    # An announced bill: results are the string "null" until the auction is held.
    assert bill["reopening"] is True
    assert bill["high_discnt_rate"] is None and bill["comp_accepted"] is None and bill["comp_tenders_accepted"] is None
    assert bill["int_payment_frequency"] == "None"  # a real value, not a null marker
    # Empty strings (TreasuryDirect style) are null too.
    rec = copy.deepcopy(records[0])
    rec["series"] = ""
    assert to_table([rec]).column("series").to_pylist() == [None]


def test_published_identities_hold_in_fixture():
    note = to_table(load_fixture_json("auctions_query_page.json")["data"]).to_pylist()[0]
    public = note["comp_accepted"] + note["noncomp_accepted"] + note["fima_noncomp_accepted"]
    assert public + note["soma_accepted"] == note["total_accepted"]
    assert (
        note["primary_dealer_accepted"] + note["direct_bidder_accepted"] + note["indirect_bidder_accepted"]
        == note["comp_accepted"]
    )
    btc = (note["comp_tendered"] + note["noncomp_accepted"] + note["fima_noncomp_accepted"]) / public
    assert round(btc, 2) == note["bid_to_cover_ratio"]


def test_unknown_upstream_field_is_loaded_as_text_and_reported():
    records = copy.deepcopy(load_fixture_json("auctions_query_page.json")["data"])
    for r in records:
        r["wi_yield_at_close"] = "3.840000"
    drift = DriftReport()
    table = to_table(records, drift)
    assert table.column("wi_yield_at_close").to_pylist() == ["3.840000", "3.840000"]
    assert drift.new_fields == {"wi_yield_at_close"}
    assert "wi_yield_at_close" in drift.describe()


def test_field_missing_upstream_is_null_and_reported():
    records = copy.deepcopy(load_fixture_json("auctions_query_page.json")["data"])
    for r in records:
        del r["tint_cusip_2"]
    drift = DriftReport()
    table = to_table(records, drift)
    assert table.column("tint_cusip_2").null_count == 2
    assert drift.missing_fields == {"tint_cusip_2"}


@pytest.mark.parametrize("value", ["null", "", None])
def test_missing_required_field_names_source_page_field_and_record(value):
    records = copy.deepcopy(load_fixture_json("auctions_query_page.json")["data"])
    if value is None:
        del records[1]["auction_date"]
    else:
        records[1]["auction_date"] = value
    with pytest.raises(SourceDataError) as err:
        to_table(records)
    message = str(err.value)
    assert "treasury_auctions.auctions_query" in message
    assert "page 1 of 1" in message
    assert "'auction_date'" in message
    assert "912797PQ4" in message


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("comp_accepted", "12,000", "decimal"),
        ("auction_date", "04/08/2025", "date"),
        ("reopening", "Maybe", "bool"),
        ("high_yield", "1.0000000001", "decimal"),
    ],
)
def test_bad_value_names_field_value_and_record(field, value, kind):
    records = copy.deepcopy(load_fixture_json("auctions_query_page.json")["data"])
    records[0][field] = value
    with pytest.raises(SourceDataError) as err:
        to_table(records)
    message = str(err.value)
    assert f"field {field!r} = {value!r} is not a valid {kind}" in message
    assert "91282CMV0" in message


def test_tenor_labels_map_to_feed_column_names():
    assert column_for_label("1 Mo") == "bc_1month"
    assert column_for_label("1.5 Month") == "bc_1_5month"
    assert column_for_label("1.5 Mo") == "bc_1_5month"
    assert column_for_label("30 Yr") == "bc_30year"
    assert column_for_label("Date") is None
    assert set(TENOR_COLUMNS) >= {column_for_label(x) for x in ("2 Mo", "4 Mo", "20 Yr")}


def test_yield_csv_parsed_by_header_name_with_missing_tenors():
    table = parse_csv((FIXTURES / "par_yield_curve_2002.csv").read_text(), source="par_yield_curve", where="year 2002")
    rows = {r["curve_date"]: r for r in table.to_pylist()}
    assert len(rows) == 4
    assert table.column_names[0] == "curve_date" and set(TENOR_COLUMNS) <= set(table.column_names)
    assert rows[date(2002, 2, 15)]["bc_30year"] == Decimal("5.42")
    assert rows[date(2002, 2, 19)]["bc_30year"] is None  # 30-year not published from 2002-02-19
    assert rows[date(2002, 1, 2)]["bc_30year"] is None  # "N/A"
    assert rows[date(2002, 12, 31)]["bc_10year"] == Decimal("3.83")
    # Columns this year's file lacks are present and NULL.
    assert all(r["bc_2month"] is None and r["bc_4month"] is None and r["bc_1_5month"] is None for r in rows.values())


def test_yield_csv_with_the_2025_one_and_a_half_month_column():
    table = parse_csv((FIXTURES / "par_yield_curve_2025.csv").read_text(), source="par_yield_curve", where="year 2025")
    rows = {r["curve_date"]: r for r in table.to_pylist()}
    assert rows[date(2025, 4, 9)]["bc_1_5month"] == Decimal("4.30")
    assert rows[date(2025, 4, 9)]["bc_10year"] == Decimal("4.46")
    assert rows[date(2025, 2, 14)]["bc_1_5month"] is None


TENORS_2026 = [
    "1 Mo",
    "1.5 Month",
    "2 Mo",
    "3 Mo",
    "4 Mo",
    "6 Mo",
    "1 Yr",
    "2 Yr",
    "3 Yr",
    "5 Yr",
    "7 Yr",
    "10 Yr",
    "20 Yr",
    "30 Yr",
]


def _csv(labels: list[str], day: str) -> str:
    return "Date," + ",".join(f'"{label}"' for label in labels) + f"\n{day}," + ",".join("4.00" for _ in labels)


def test_unknown_tenor_column_is_loaded_and_reported():
    text = _csv([*TENORS_2026, "3.5 Mo"], "01/02/2026")
    drift = DriftReport()
    table = parse_csv(text, source="par_yield_curve", where="year 2026", drift=drift)
    assert table.column("bc_3_5month").to_pylist() == [Decimal("4.00")]
    assert any("bc_3_5month" in f for f in drift.new_fields)


@pytest.mark.parametrize(
    ("labels", "day", "missing"),
    [
        ([t for t in TENORS_2026 if t != "30 Yr"], "01/02/2026", "bc_30year"),
        ([t for t in TENORS_2026 if t not in ("30 Yr", "1.5 Month", "4 Mo")], "02/09/2006", "bc_30year"),
        ([t for t in TENORS_2026 if t != "1.5 Month"], "02/18/2025", "bc_1_5month"),
    ],
    ids=["2026-no-30y", "2006-30y-back", "2025-6-week-bill"],
)
def test_a_tenor_published_on_a_date_of_the_file_but_missing_from_it_fails(labels, day, missing):
    with pytest.raises(
        SourceDataError, match=f"tenor column\\(s\\) missing: {missing}, published on dates in this file"
    ):
        parse_csv(_csv(labels, day), source="par_yield_curve", where="year")


@pytest.mark.parametrize(
    ("labels", "day"),
    [
        ([t for t in TENORS_2026 if t not in ("30 Yr", "1.5 Month", "4 Mo", "2 Mo")], "06/02/2003"),  # no 30-year then
        ([t for t in TENORS_2026 if t not in ("1.5 Month",)], "02/14/2025"),  # the 6-week bill starts on 18 Feb
        ([t for t in TENORS_2026 if t not in ("1 Mo", "1.5 Month", "2 Mo", "4 Mo", "20 Yr")], "01/02/1990"),
    ],
    ids=["2003", "2025-before-6w", "1990"],
)
def test_a_tenor_not_yet_or_no_longer_published_may_be_absent(labels, day):
    assert parse_csv(_csv(labels, day), source="par_yield_curve", where="year").num_rows == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Date,"3 Mo"\n2026-01-02,3.60', "line 2: date '2026-01-02' is not MM/DD/YYYY"),
        ('Date,"3 Mo"\n01/02/2026,3.60,4.1', "line 2: 3 cells, header has 2"),
        ('Date,"3 Mo"\n01/02/2026,abc', "line 2 (2026-01-02): bc_3month = 'abc' is not a number"),
        ('Date,"3 Mo"\n01/02/2026,3.6\n01/02/2026,3.6', "line 3: date 2026-01-02 appears twice"),
        ("<html>Service unavailable</html>", "line 1: expected a header starting with Date"),
        ('Date,"3 Mo","Comment"\n01/02/2026,3.6,x', "column 'Comment' is not a tenor label"),
    ],
)
def test_malformed_yield_csv_names_source_year_and_line(text, expected):
    with pytest.raises(SourceDataError) as err:
        parse_csv(text, source="par_yield_curve.daily_par_yields", where="year 2026 (http://host/x)")
    assert "[par_yield_curve.daily_par_yields] year 2026 (http://host/x)" in str(err.value)
    assert expected in str(err.value)


def test_header_only_csv_is_empty_not_an_error():
    table = parse_csv('Date,"3 Mo","10 Yr"', source="par_yield_curve", where="year 2030")
    assert table.num_rows == 0


# --- the real payloads saved in shared/reference-data ----------------------------------------------


def test_reference_fiscaldata_bills_page():
    body = json.loads(reference("treasury_auctions/fiscaldata_auctions_query_bills_2026-01.json").read_text())
    drift = DriftReport()
    table = to_table(body["data"], drift)
    assert not drift, drift.describe()  # every live field is in the spec
    assert table.num_rows == 25
    keys = {(r["cusip"], r["auction_date"]) for r in table.select(list(KEY)).to_pylist()}
    assert len(keys) == 25  # (cusip, auction_date) is unique
    first = table.to_pylist()[0]
    assert (first["cusip"], first["auction_date"], first["bid_to_cover_ratio"]) == (
        "912797SL2",
        date(2026, 1, 5),
        Decimal("2.84"),
    )
    for r in table.to_pylist():
        public = r["comp_accepted"] + r["noncomp_accepted"] + r["fima_noncomp_accepted"]
        assert public + r["soma_accepted"] == r["total_accepted"]
        assert (
            r["primary_dealer_accepted"] + r["direct_bidder_accepted"] + r["indirect_bidder_accepted"]
            == r["comp_accepted"]
        )
        btc = (r["comp_tendered"] + r["noncomp_accepted"] + r["fima_noncomp_accepted"]) / public
        assert abs(btc - r["bid_to_cover_ratio"]) <= Decimal("0.005")


def test_reference_yield_csv_2023():
    table = parse_csv(
        reference("yield_curve/daily_treasury_par_yield_2023_jan-sep.csv").read_text(),
        source="par_yield_curve",
        where="2023",
    )
    rows = {r["curve_date"]: r for r in table.to_pylist()}
    assert rows[date(2023, 9, 1)]["bc_10year"] == Decimal("4.18")
    assert rows[date(2023, 9, 1)]["bc_4month"] == Decimal("5.58")
    assert min(rows) == date(2023, 1, 3) and max(rows) == date(2023, 9, 1)


def test_reference_yield_csv_all_years_excerpt():
    text = reference("yield_curve/daily_treasury_par_yield_all_years_1990-2022-03_excerpt.csv").read_text()
    table = parse_csv(text, source="par_yield_curve", where="all years")
    rows = {r["curve_date"]: r for r in table.to_pylist()}
    assert table.num_rows == 133
    jan90 = rows[date(1990, 1, 2)]
    assert jan90["bc_30year"] == Decimal("8.00") and jan90["bc_20year"] is None and jan90["bc_1month"] is None
    assert rows[date(1993, 10, 1)]["bc_20year"] == Decimal("6.12")
    assert all(r["bc_4month"] is None for r in rows.values())  # no 4 Mo column in that download
