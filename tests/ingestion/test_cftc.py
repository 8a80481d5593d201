"""CFTC Traders in Financial Futures: parsing, the Socrata emulator, loads, incremental runs and vintages."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from emulator import socrata
from emulator.cftc_tff import report_dates, tff_table
from emulator.server import Emulator, base_urls, serve
from ingestion.cftc_tff.fields import REPORT_DATE, TFF_FIELDS, TFF_REQUIRED, TREASURY_CONTRACTS
from ingestion.cftc_tff.releases import latest_report_released as latest_cftc_report_released
from ingestion.common.errors import SourceDataError
from ingestion.common.records import DriftReport, records_to_table
from ingestion.pipelines import run_ingest
from tests.conftest import AS_OF, FIXTURES, reference

LONG_SIDE = [
    "dealer_positions_long_all",
    "asset_mgr_positions_long",
    "lev_money_positions_long",
    "other_rept_positions_long",
]
SHORT_SIDE = [
    "dealer_positions_short_all",
    "asset_mgr_positions_short",
    "lev_money_positions_short",
    "other_rept_positions_short",
]
SPREADS = [
    "dealer_positions_spread_all",
    "asset_mgr_positions_spread",
    "lev_money_positions_spread",
    "other_rept_positions_spread",
]


def parse(records, drift=None):
    return records_to_table(
        records,
        TFF_FIELDS,
        source="cftc_tff.tff_futures_only",
        where="page 1 (test)",
        key_fields=("id", REPORT_DATE, "cftc_contract_market_code"),
        required=TFF_REQUIRED,
        drift=drift,
        row_hash_column="row_hash",
    )


def fixture_records():
    return json.loads((FIXTURES / "socrata_tff_page.json").read_text())


# --- parsing ----------------------------------------------------------------------------------------


def test_tff_record_is_typed_and_omitted_fields_are_null():
    drift = DriftReport()
    row = parse(fixture_records(), drift).to_pylist()[0]
    assert row[REPORT_DATE] == date(2025, 4, 8)
    assert row["cftc_contract_market_code"] == "043602"  # text: leading zero kept
    assert row["cftc_market_code"] == "CBT "  # padding kept as published
    assert row["lev_money_positions_short"] == 1803502 and row["change_in_lev_money_short"] == -228409
    assert row["pct_of_oi_lev_money_short"] == Decimal("35.1")
    # Socrata leaves null fields out of the object: they load as NULL.
    assert row["traders_other_rept_short_all"] is None and row["traders_other_rept_spread"] is None
    assert drift.missing_fields == {"traders_other_rept_short_all", "traders_other_rept_spread"}
    assert len(row["row_hash"]) == 40


def test_row_hash_changes_only_when_a_published_value_changes():
    records = fixture_records()
    same = parse(copy.deepcopy(records))["row_hash"][0].as_py()
    assert parse(records)["row_hash"][0].as_py() == same
    records[0]["lev_money_positions_short"] = "1803503"
    assert parse(records)["row_hash"][0].as_py() != same


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (REPORT_DATE, "2025-04-08T15:30:00.000", "is not a valid date_ts"),
        ("open_interest_all", 5138183, "is not a valid int"),  # a JSON number, not the string Socrata sends
        ("lev_money_positions_short", "1.5e6x", "is not a valid int"),
        ("cftc_contract_market_code", None, "required field 'cftc_contract_market_code' is missing"),
    ],
)
def test_bad_tff_values_name_the_field_and_record(field, value, expected):
    records = fixture_records()
    if value is None:
        del records[0][field]
    else:
        records[0][field] = value
    with pytest.raises(SourceDataError) as err:
        parse(records)
    assert expected in str(err.value) and "250408043602F" in str(err.value)


def test_reference_socrata_record():
    records = json.loads(reference("cftc_cot/socrata_gpe5-46if_tff_record_AUD_2025-08-05.json").read_text())
    drift = DriftReport()
    row = parse(records, drift).to_pylist()[0]
    assert not drift.new_fields  # every live field is known
    assert drift.missing_fields == {
        "traders_dealer_short_all",
        "traders_dealer_spread_all",
        "traders_other_rept_short_all",
        "traders_other_rept_spread",
    }
    assert (row[REPORT_DATE], row["cftc_contract_market_code"], row["open_interest_all"]) == (
        date(2025, 8, 5),
        "232741",
        163900,
    )
    longs = sum(row[f] for f in LONG_SIDE + SPREADS)
    assert (
        longs == row["tot_rept_positions_long_all"]
        and longs + row["nonrept_positions_long_all"] == row["open_interest_all"]
    )


# --- the emulator -------------------------------------------------------------------------------------


TABLE = tff_table(AS_OF)


def test_synthetic_history_identities_hold_for_every_row():
    d = {
        k: np.array(TABLE[k].to_pylist())
        for k in [
            "open_interest_all",
            "tot_rept_positions_long_all",
            "tot_rept_positions_short",
            "nonrept_positions_long_all",
            "nonrept_positions_short_all",
            *LONG_SIDE,
            *SHORT_SIDE,
            *SPREADS,
        ]
    }
    spreads = sum(d[f] for f in SPREADS)
    assert (sum(d[f] for f in LONG_SIDE) + spreads == d["tot_rept_positions_long_all"]).all()
    assert (sum(d[f] for f in SHORT_SIDE) + spreads == d["tot_rept_positions_short"]).all()
    assert (d["tot_rept_positions_long_all"] + d["nonrept_positions_long_all"] == d["open_interest_all"]).all()
    assert (d["tot_rept_positions_short"] + d["nonrept_positions_short_all"] == d["open_interest_all"]).all()
    assert (d["nonrept_positions_long_all"] >= 0).all() and (d["nonrept_positions_short_all"] >= 0).all()


def test_synthetic_history_shape():
    codes = set(TABLE["cftc_contract_market_code"].to_pylist())
    assert len(codes) >= 100 and set(TREASURY_CONTRACTS) <= codes and "13874A" in codes
    dates = sorted(set(TABLE[REPORT_DATE].to_pylist()))
    assert dates[0] == "2006-06-13T00:00:00.000"
    releases = report_dates(AS_OF)
    assert dates[-1][:10] == releases[-1][0].isoformat() and releases[-1][1] <= AS_OF
    assert sum(date.fromisoformat(d[:10]).weekday() == 1 for d in dates) / len(dates) > 0.97  # Tuesdays, bar holidays
    ids = TABLE["id"].to_pylist()
    assert len(set(ids)) == len(ids) and ids[0].endswith("F")
    names = set(
        pc.filter(
            TABLE["market_and_exchange_names"], pc.equal(TABLE["cftc_contract_market_code"], "042601")
        ).to_pylist()
    )
    assert names == {"2-YEAR U.S. TREASURY NOTES - CHICAGO BOARD OF TRADE", "UST 2Y NOTE - CHICAGO BOARD OF TRADE"}


def test_a_larger_sample_adds_synthetic_contracts_and_keeps_the_sample(monkeypatch):
    """TREASURY_SAMPLE_SCALE=k serves k times the contracts; the contracts of scale 1 are served unchanged."""
    from emulator.server import Emulator

    monkeypatch.setenv("TREASURY_SAMPLE_SCALE", "3")
    assert Emulator().scale == 3
    scaled = tff_table(AS_OF, False, 3)
    codes = scaled["cftc_contract_market_code"].to_pylist()
    one = set(TABLE["cftc_contract_market_code"].to_pylist())
    added = set(codes) - one
    assert len(set(codes)) == 3 * len(one) and one < set(codes)
    names = set(
        pc.filter(
            scaled["contract_market_name"], pc.is_in(scaled["cftc_contract_market_code"], pa.array(list(added)))
        ).to_pylist()
    )
    assert all(name.startswith("SYNTHETIC ") for name in names)
    key = lambda t: t.sort_by([("report_date_as_yyyy_mm_dd", "ascending"), ("cftc_contract_market_code", "ascending")])  # noqa: E731
    same = scaled.filter(pc.is_in(scaled["cftc_contract_market_code"], pa.array(list(one))))
    assert key(same).equals(key(TABLE))
    for wrong in ("0", "9", "two"):
        monkeypatch.setenv("TREASURY_SAMPLE_SCALE", wrong)
        with pytest.raises(ValueError, match="TREASURY_SAMPLE_SCALE"):
            Emulator()


def test_history_does_not_change_when_the_as_of_date_moves():
    later = tff_table(AS_OF + timedelta(days=120))
    earlier_rows = TABLE.num_rows
    assert later.num_rows > earlier_rows
    key = lambda t: t.sort_by([("report_date_as_yyyy_mm_dd", "ascending"), ("cftc_contract_market_code", "ascending")])  # noqa: E731
    assert key(later.filter(pc.less_equal(later[REPORT_DATE], TABLE[REPORT_DATE].to_pylist()[-1]))).equals(key(TABLE))


def test_april_2025_leveraged_funds_treasury_shorts_rose_as_published():
    """The CFTC's TFF: leveraged-fund shorts rose in April 2025 (ZN about 1.99m -> 2.07m, ZF 3.78m -> 4.10m)."""

    def lev_short(day, codes=tuple(TREASURY_CONTRACTS)):
        mask = pc.and_(
            pc.equal(TABLE[REPORT_DATE], f"{day}T00:00:00.000"),
            pc.is_in(TABLE["cftc_contract_market_code"], value_set=pa.array(list(codes))),
        )
        return sum(pc.filter(TABLE["lev_money_positions_short"], mask).to_pylist())

    assert (lev_short("2025-04-01", ["043602"]), lev_short("2025-04-29", ["043602"])) == (1_990_000, 2_070_000)
    assert (lev_short("2025-04-01", ["044601"]), lev_short("2025-04-29", ["044601"])) == (3_780_000, 4_100_000)
    assert lev_short("2025-04-29") > lev_short("2025-04-01")  # all six Treasury futures together: up, no unwind


def test_soql_where_order_paging_select():
    where = f"cftc_contract_market_code in('042601','043602') AND {REPORT_DATE} >= '2025-04-01T00:00:00'"
    rows, headers = socrata.query(TABLE, {"$where": where, "$order": f"{REPORT_DATE},id", "$limit": "5000"})
    assert rows and all(
        r["cftc_contract_market_code"] in ("042601", "043602") and r[REPORT_DATE] >= "2025-04-01" for r in rows
    )
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows) or [r[REPORT_DATE] for r in rows] == sorted(
        r[REPORT_DATE] for r in rows
    )
    assert all(isinstance(v, str) for r in rows for v in r.values())  # numbers as JSON strings
    assert json.loads(headers["X-SODA2-Fields"])[:3] == ["id", "market_and_exchange_names", REPORT_DATE]
    assert len(socrata.query(TABLE, {})[0]) == 1000  # the default $limit
    page_2 = socrata.query(TABLE, {"$where": where, "$order": f"{REPORT_DATE},id", "$limit": "3", "$offset": "3"})[0]
    assert [r["id"] for r in page_2] == [r["id"] for r in rows[3:6]]
    assert list(socrata.query(TABLE, {"$select": "id,open_interest_all", "$limit": "1"})[0][0]) == [
        "id",
        "open_interest_all",
    ]
    assert socrata.query(TABLE, {"$where": f"{REPORT_DATE} between '2025-04-01' and '2025-04-02'", "$limit": "500"})[0]


@pytest.mark.parametrize(
    "params",
    [
        {"$where": "a = '1' OR b = '2'"},
        {"$group": "commodity"},
        {"$where": "nope = '1'"},
        {"$where": "upper(id) = 'X'"},
        {"$limit": "50001"},
        {"$select": "count(*)"},
    ],
)
def test_soql_outside_the_subset_is_a_400(params):
    with pytest.raises(socrata.SoQLError):
        socrata.query(TABLE, params)


# --- loads ------------------------------------------------------------------------------------------------


def query(warehouse, sql):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def ingest(warehouse, urls, as_of=AS_OF):
    summary = run_ingest(["cftc_tff"], warehouse=warehouse, as_of=as_of, base_urls=urls)
    assert summary.ok, summary.render()
    return summary


def test_full_load_incremental_rerun_and_paging(warehouse, served, monkeypatch):
    emulator, urls = served
    monkeypatch.setenv("SOURCES__CFTC_TFF__PAGE_SIZE", "25000")
    ingest(warehouse, urls)
    n = TABLE.num_rows
    assert query(
        warehouse,
        "select count(*), count(distinct (report_date_as_yyyy_mm_dd, cftc_contract_market_code)) from raw_cftc_tff.tff_futures_only",
    ) == [(n, n)]
    assert query(warehouse, "select count(*) from raw_cftc_tff.tff_futures_only_vintages") == [(n,)]
    types = dict(
        query(
            warehouse,
            "select column_name, data_type from information_schema.columns where table_schema='raw_cftc_tff' and table_name='tff_futures_only'",
        )
    )
    assert (
        types[REPORT_DATE] == "DATE"
        and types["open_interest_all"] == "BIGINT"
        and types["pct_of_oi_lev_money_short"] == "DECIMAL(38,9)"
    )
    assert types["cftc_contract_market_code"] == "VARCHAR"
    offsets = [int(r.params["$offset"]) for r in emulator.requests_to("gpe5-46if")]
    assert offsets == list(range(0, n, 25000))  # the short last page ends paging: no empty request
    # A rerun with the same as-of date re-reads only the look-back window and adds nothing.
    latest = query(warehouse, f"select max({REPORT_DATE}) from raw_cftc_tff.tff_futures_only")[0][0]
    emulator.requests.clear()
    ingest(warehouse, urls)
    (request,) = emulator.requests_to("gpe5-46if")
    assert request.params["$where"] == (
        f"{REPORT_DATE} >= '{(latest - timedelta(days=28)).isoformat()}T00:00:00' "
        f"AND {REPORT_DATE} <= '{latest_cftc_report_released(AS_OF).isoformat()}T00:00:00'"
    )
    assert query(warehouse, "select count(*) from raw_cftc_tff.tff_futures_only_vintages") == [(n,)]


def test_a_corrected_week_updates_current_values_and_keeps_the_old_vintage(loaded):
    warehouse = loaded
    sql = f"select {REPORT_DATE}, lev_money_positions_short from raw_cftc_tff.tff_futures_only where cftc_contract_market_code = '043602' order by 1 desc limit 3"
    original = query(warehouse, sql)
    with serve(Emulator(as_of=AS_OF, revised=True)) as root:
        ingest(warehouse, base_urls(root))
    revised = query(warehouse, sql)
    corrected_day, corrected_value = revised[2]
    assert revised[:2] == original[:2] and corrected_value > original[2][1]  # only the corrected week changed
    versions = query(
        warehouse,
        f"""
        select lev_money_positions_short, superseded_at is null as current
        from raw_cftc_tff.tff_futures_only_vintages
        where cftc_contract_market_code = '043602' and {REPORT_DATE} = '{corrected_day}'
        order by first_seen_at""",
    )
    assert versions == [(original[2][1], False), (corrected_value, True)]
    assert query(
        warehouse, "select count(*) from raw_cftc_tff.tff_futures_only_vintages where superseded_at is not null"
    ) == [(1,)]
    assert query(warehouse, "select count(*) from raw_cftc_tff.tff_futures_only") == [(TABLE.num_rows,)]


def test_moving_as_of_adds_the_new_weeks(loaded):
    warehouse = loaded
    later = AS_OF + timedelta(days=21)
    with serve(Emulator(as_of=later)) as root:
        ingest(warehouse, base_urls(root), as_of=later)
    assert query(warehouse, "select count(*) from raw_cftc_tff.tff_futures_only") == [(tff_table(later).num_rows,)]
