"""The API emulator answers like the public APIs and its synthetic history is realistic and stable."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests

from emulator import fiscaldata
from emulator import par_yield_curve as yields
from emulator import treasury_auctions as auctions
from emulator.par_yield_curve import YIELD_CSV_PREFIX
from emulator.treasury_auctions import AUCTIONS_PATH, auction_records, upcoming_records
from ingestion.calendar import is_business_day
from ingestion.common.cusip import cusip_check_digit
from ingestion.treasury_auctions.fields import AUCTIONS_QUERY_FIELDS
from tests.conftest import AS_OF

RECORDS = auction_records(AS_OF)


def q(params):
    return fiscaldata.query(RECORDS, AUCTIONS_QUERY_FIELDS, params)


# --- FiscalData query semantics -----------------------------------------------------------------


def test_filters_are_anded_and_compare_by_type():
    answer = q(
        {"filter": "auction_date:gte:2025-04-01,auction_date:lte:2025-04-30,security_type:eq:Bond", "page[size]": "100"}
    )
    rows = answer["data"]
    assert rows and all(
        "2025-04-01" <= r["auction_date"] <= "2025-04-30" and r["security_type"] == "Bond" for r in rows
    )
    big = q({"filter": "offering_amt:gt:70000000000", "page[size]": "10000"})["data"]
    # Numeric comparison: as strings, "8000000000" > "70000000000".
    assert big and all(float(r["offering_amt"]) > 7e10 for r in big)
    inside = q({"filter": "security_term:in:(3-Year,10-Year),auction_date:gte:2025-04-08,auction_date:lte:2025-04-09"})[
        "data"
    ]
    assert sorted(r["security_term"] for r in inside) == [
        "3-Year"
    ]  # the 10-year that day is a reopening ("9-Year 10-Month")


def test_sort_multiple_keys_and_descending():
    rows = q({"filter": "auction_date:gte:2025-06-01", "sort": "-auction_date,cusip", "page[size]": "10000"})["data"]
    keys = [(r["auction_date"], r["cusip"]) for r in rows]
    assert keys == sorted(keys, key=lambda k: (tuple(-ord(c) for c in k[0]), k[1]))


def test_paging_meta_and_links_match_the_live_api():
    total = q({"filter": "auction_date:gte:2025-01-01", "page[size]": "10000"})["meta"]["total-count"]
    first = q({"filter": "auction_date:gte:2025-01-01", "sort": "auction_date,cusip", "page[size]": "50"})
    pages = -(-total // 50)
    assert first["meta"]["count"] == 50 and first["meta"]["total-pages"] == pages
    assert first["links"]["prev"] is None and first["links"]["next"] == "&page%5Bnumber%5D=2&page%5Bsize%5D=50"
    last = q(
        {
            "filter": "auction_date:gte:2025-01-01",
            "sort": "auction_date,cusip",
            "page[size]": "50",
            "page[number]": str(pages),
        }
    )
    assert last["links"]["next"] is None and last["meta"]["count"] == total - 50 * (pages - 1)
    everything = []
    for n in range(1, pages + 1):
        everything += q(
            {
                "filter": "auction_date:gte:2025-01-01",
                "sort": "auction_date,cusip",
                "page[size]": "50",
                "page[number]": str(n),
            }
        )["data"]
    assert len({(r["cusip"], r["auction_date"]) for r in everything}) == total
    beyond = q({"filter": "auction_date:gte:2025-01-01", "page[size]": "50", "page[number]": str(pages + 1)})
    assert beyond["data"] == [] and beyond["meta"]["total-count"] == total


def test_fields_projection_and_api_types():
    answer = q({"fields": "cusip,auction_date,high_yield", "page[size]": "1"})
    assert list(answer["data"][0]) == ["cusip", "auction_date", "high_yield"]
    assert answer["meta"]["dataTypes"] == {"cusip": "STRING", "auction_date": "DATE", "high_yield": "NUMBER"}


@pytest.mark.parametrize(
    "params",
    [
        {"filter": "nope:eq:1"},
        {"filter": "auction_date:like:2025"},
        {"sort": "nope"},
        {"fields": "cusip,nope"},
        {"page[size]": "10001"},
        {"page[number]": "0"},
    ],
)
def test_bad_queries_are_rejected(params):
    with pytest.raises(fiscaldata.QueryError):
        q(params)


def test_http_answers_and_request_log(served):
    emulator, urls = served
    root = urls["treasury_auctions"].removesuffix("/services/api/fiscal_service")
    ok = requests.get(
        root + AUCTIONS_PATH, params={"filter": "auction_date:eq:2025-04-08", "page[size]": "100"}, timeout=30
    )
    assert ok.status_code == 200 and ok.json()["meta"]["total-count"] >= 2
    bad = requests.get(root + AUCTIONS_PATH, params={"filter": "bogus:eq:1"}, timeout=30)
    assert bad.status_code == 400 and "bogus" in bad.json()["message"]
    assert requests.get(root + "/nowhere", timeout=30).status_code == 404
    assert [(r.status, r.params.get("filter")) for r in emulator.requests] == [
        (200, "auction_date:eq:2025-04-08"),
        (400, "bogus:eq:1"),
        (404, None),
    ]


# --- the synthetic auction history ----------------------------------------------------------------


def test_history_covers_1979_to_as_of_with_every_security_kind():
    held = [r for r in RECORDS if r["auction_date"] <= AS_OF.isoformat()]
    assert held[0]["auction_date"] < "1979-01-10"
    kinds = {
        (r["security_type"], r["inflation_index_security"], r["floating_rate"], r["cash_management_bill_cmb"])
        for r in held
    }
    assert ("Bill", "No", "No", "Yes") in kinds  # CMB
    assert ("Note", "Yes", "No", "No") in kinds  # TIPS
    assert ("Note", "No", "Yes", "No") in kinds  # FRN
    assert ("Bond", "No", "No", "No") in kinds
    terms = {r["security_term"] for r in held if r["auction_date"] >= "2025-03-01"}
    assert {
        "4-Week",
        "6-Week",
        "8-Week",
        "13-Week",
        "17-Week",
        "26-Week",
        "52-Week",
        "2-Year",
        "3-Year",
        "5-Year",
        "7-Year",
        "10-Year",
        "20-Year",
        "30-Year",
    } <= terms | {"10-Year", "30-Year", "20-Year"}
    assert any(
        r["reopening"] == "Yes" and r["security_type"] == "Note" and r["security_term"] == "9-Year 10-Month"
        for r in held
    )
    assert 9000 < len(held) < 14000


def test_every_held_auction_satisfies_the_published_identities():
    checked = 0
    for r in RECORDS:
        if r["comp_accepted"] == "null":
            continue
        n = {
            k: int(float(r[k]))
            for k in (
                "comp_accepted",
                "noncomp_accepted",
                "fima_noncomp_accepted",
                "soma_accepted",
                "total_accepted",
                "comp_tendered",
            )
        }
        public = n["comp_accepted"] + n["noncomp_accepted"] + n["fima_noncomp_accepted"]
        assert public + n["soma_accepted"] == n["total_accepted"], r["cusip"]
        assert public == int(r["offering_amt"])
        assert round((n["comp_tendered"] + n["noncomp_accepted"] + n["fima_noncomp_accepted"]) / public, 2) == float(
            r["bid_to_cover_ratio"]
        )
        if r["auction_date"] >= auctions.BIDDER_DETAIL_FROM.isoformat():
            shares = [
                int(float(r[k]))
                for k in ("primary_dealer_accepted", "direct_bidder_accepted", "indirect_bidder_accepted")
            ]
            assert sum(shares) == n["comp_accepted"] and min(shares) >= 0
        else:
            assert r["primary_dealer_accepted"] == "null"
        checked += 1
    assert checked > 9000


def test_keys_unique_and_cusips_valid():
    assert len({(r["cusip"], r["auction_date"]) for r in RECORDS}) == len(RECORDS)
    assert all(len(r["cusip"]) == 9 and cusip_check_digit(r["cusip"][:8]) == r["cusip"][8] for r in RECORDS)
    assert cusip_check_digit("912797SL") == "2"  # a real CUSIP from the FiscalData sample: 912797SL2
    assert cusip_check_digit("912810TV") == "0"  # 912810TV0, the 30-year bond of November 2023


def test_bills_of_one_maturity_share_a_cusip_and_reopen():
    by_security = {}
    for r in RECORDS:
        if r["security_type"] == "Bill":
            by_security.setdefault((r["cusip"], r["maturity_date"]), []).append(r)
    reopened = [rows for rows in by_security.values() if len(rows) > 1]
    assert len(reopened) > 1000
    for rows in reopened:
        assert [r["reopening"] for r in rows] == ["No"] + ["Yes"] * (len(rows) - 1)
        assert {r["original_security_term"] for r in rows} == {rows[0]["security_term"]}


def test_a_cusip_is_reused_only_after_its_security_matured():
    lives = {}
    for r in RECORDS:
        lives.setdefault((r["cusip"], r["maturity_date"]), [r["issue_date"], r["maturity_date"]])
    by_cusip = {}
    for (cusip, _), (issued, matures) in lives.items():
        by_cusip.setdefault(cusip, []).append((issued, matures))
    for spans in by_cusip.values():
        spans.sort()
        assert all(prev_end <= nxt_start for (_, prev_end), (nxt_start, _) in zip(spans, spans[1:]))


def test_april_2025_scenario():
    coupons = {(r["auction_date"], r["original_security_term"]): r for r in RECORDS if r["security_type"] != "Bill"}
    three = coupons[("2025-04-08", "3-Year")]
    assert int(three["offering_amt"]) == 58_000_000_000
    assert round(int(three["direct_bidder_accepted"]) / int(three["comp_accepted"]) * 100, 1) == 6.2
    ten = coupons[("2025-04-09", "10-Year")]
    assert int(ten["offering_amt"]) == 39_000_000_000 and ten["reopening"] == "Yes"
    assert ("2025-04-10", "30-Year") in coupons
    curve = yields.build_curve(AS_OF)
    tenor = {label: j for j, (label, _) in enumerate(yields.TENORS)}
    close = lambda d, label: round(float(curve.yields[curve.index_of(d), tenor[label]]), 2)  # noqa: E731
    assert close(date(2025, 4, 9), "10 Yr") == 4.46
    assert close(date(2025, 4, 8), "30 Yr") < 5.0 <= close(date(2025, 4, 9), "30 Yr")
    assert close(date(2025, 4, 11), "30 Yr") >= 4.9
    # The 3-year stopped well above the prior close at its maturity: a weak auction.
    prior = curve.yield_at(date(2025, 4, 7), 3.0)
    assert float(three["high_yield"]) - prior > 0.025


def test_announced_auctions_have_no_results_until_held():
    pending = [r for r in RECORDS if r["auction_date"] > AS_OF.isoformat()]
    assert pending and all(
        r["comp_accepted"] == "null" and r["high_yield"] == "null" and r["bid_to_cover_ratio"] == "null"
        for r in pending
    )
    assert all(r["announcemt_date"] <= AS_OF.isoformat() for r in pending)
    later = {(r["cusip"], r["auction_date"]): r for r in auction_records(AS_OF + timedelta(days=30))}
    for r in pending:
        filled = later[(r["cusip"], r["auction_date"])]
        assert filled["comp_accepted"] != "null" and filled["record_date"] > r["record_date"]


def test_history_does_not_change_when_the_as_of_date_moves():
    later = {(r["cusip"], r["auction_date"]): r for r in auction_records(AS_OF + timedelta(days=90))}
    for r in RECORDS:
        if r["auction_date"] <= AS_OF.isoformat():
            assert later[(r["cusip"], r["auction_date"])] == r
    a, b = yields.build_curve(AS_OF), yields.build_curve(AS_OF + timedelta(days=200))
    assert (a.yields == b.yields[: len(a.dates)]).all()


def test_upcoming_auctions_match_announcements():
    rows = upcoming_records(AS_OF)
    assert rows[0]["record_date"] >= "2024-03-08"
    assert {"Bill", "CMB", "Note", "Bond", "TIPS Note", "FRN Note"} <= {r["security_type"] for r in rows}
    assert any(r["auction_date"] > AS_OF.isoformat() for r in rows)


# --- the synthetic yield curve CSV -----------------------------------------------------------------


def _csv(served_pair, year):
    emulator, urls = served_pair
    root = urls["par_yield_curve"].removesuffix("/resource-center/data-chart-center/interest-rates")
    response = requests.get(
        f"{root}{YIELD_CSV_PREFIX}{year}/all",
        params={"type": "daily_treasury_yield_curve", "field_tdr_date_value": year},
        timeout=30,
    )
    assert response.status_code == 200
    return response.text


def test_yield_csv_layout_and_tenor_eras(served):
    text = _csv(served, 2025)
    assert text.startswith('Date,"1 Mo","1.5 Month","2 Mo","3 Mo","4 Mo","6 Mo","1 Yr","2 Yr"')
    assert not text.endswith("\n")
    rows = list(csv.reader(io.StringIO(text)))
    dates = [date(int(r[0][6:]), int(r[0][:2]), int(r[0][3:5])) for r in rows[1:]]
    assert dates == sorted(dates, reverse=True) and dates[0] == AS_OF
    assert all(is_business_day(d) for d in dates)
    first_1_5 = min(d for d, r in zip(dates, rows[1:]) if r[2])
    assert first_1_5 == date(2025, 2, 18)
    assert _csv(served, 1990).splitlines()[0] == 'Date,"3 Mo","6 Mo","1 Yr","2 Yr","3 Yr","5 Yr","7 Yr","10 Yr","30 Yr"'
    assert '"30 Yr"' not in _csv(served, 2004).splitlines()[0]
    header_2002 = _csv(served, 2002).splitlines()
    assert '"30 Yr"' in header_2002[0] and header_2002[1].endswith(",")  # present, blank after 2002-02-15


# --- the NY Fed, FRED and debt endpoints ----------------------------------------------------------


def test_nyfed_endpoints_speak_the_recorded_wire_formats(served):
    _, urls = served
    pd = requests.get(urls["primary_dealers"] + "/get/PDPOSGST-TOT.json", timeout=30).text
    assert pd.startswith('{"pd": { "timeseries": [ { "asofdate": "2013-04-03", "keyid": "PDPOSGST-TOT", "value": "')
    assert '" } , { "asofdate": "2013-04-10"' in pd  # " , " between records, as the raw body has
    # Several keyids in one URL: one list, by date then keyid in alphabetical order.
    both = requests.get(urls["primary_dealers"] + "/get/PDPOSGST-TOT_PDPOSGS-B.json", timeout=30).json()
    assert [r["keyid"] for r in both["pd"]["timeseries"][:2]] == ["PDPOSGS-B", "PDPOSGST-TOT"]
    assert (
        requests.get(urls["primary_dealers"] + "/get/NOSUCHKEY.json", timeout=30).text
        == '{"pd": { "timeseries": [ ] } }'
    )
    old = requests.get(urls["primary_dealers"] + "/get/SBP2013/timeseries/PDPUSGTBNOP.json", timeout=30).json()
    assert old["pd"]["timeseries"][-1]["asofdate"] == "2013-03-27"
    listed = requests.get(urls["primary_dealers"] + "/list/timeseries.json", timeout=30).json()["pd"]["timeseries"]
    assert "PDPOSGST-TOT" in {e["keyid"] for e in listed} and "PDPOSGSC-G11" not in {e["keyid"] for e in listed}
    sofr = requests.get(
        urls["funding_rates"] + "/rates/secured/sofr/search.json",
        params={"startDate": "2025-04-07", "endDate": "2025-04-09"},
        timeout=30,
    ).text
    assert sofr.startswith('{ "refRates": [ { "effectiveDate": "2025-04-09", "type": "SOFR" ,"percentRate": 4.')
    effr = requests.get(
        urls["funding_rates"] + "/rates/unsecured/effr/search.json",
        params={"startDate": "2025-04-09", "endDate": "2025-04-09"},
        timeout=30,
    ).json()
    assert (effr["refRates"][0]["targetRateFrom"], effr["refRates"][0]["targetRateTo"]) == (4.25, 4.5)
    # Good Friday 2025 (18 April): EFFR, no SOFR.
    friday = {"startDate": "2025-04-18", "endDate": "2025-04-18"}
    assert requests.get(
        urls["funding_rates"] + "/rates/secured/sofr/search.json", params=friday, timeout=30
    ).json() == {"refRates": []}
    assert (
        len(
            requests.get(urls["funding_rates"] + "/rates/unsecured/effr/search.json", params=friday, timeout=30).json()[
                "refRates"
            ]
        )
        == 1
    )
    ops = requests.get(
        urls["funding_rates"] + "/rp/all/all/results/search.json",
        params={"startDate": "2025-06-30", "endDate": "2025-06-30"},
        timeout=30,
    ).json()["repo"]["operations"]
    srf = [o for o in ops if o["operationType"] == "Repo"]
    assert [o["totalAmtAccepted"] for o in srf] == [11_100_000_000]  # the recorded quarter-end take-up


def test_fred_and_debt_endpoints(served):
    _, urls = served
    csv_text = requests.get(
        urls["fed_custody"] + "/fredgraph.csv",
        params={"id": "WMTSECL1", "cosd": "2025-03-26", "coed": "2025-04-11"},
        timeout=30,
    ).text
    assert csv_text.splitlines()[0] == "observation_date,WMTSECL1" and csv_text.endswith("\n")
    assert [line[:10] for line in csv_text.splitlines()[1:]] == ["2025-03-26", "2025-04-02", "2025-04-09"]
    iorb = requests.get(
        urls["fed_custody"] + "/fredgraph.csv",
        params={"id": "IORB", "cosd": "2025-04-12", "coed": "2025-04-13"},
        timeout=30,
    ).text
    assert iorb.splitlines()[1:] == ["2025-04-12,4.40", "2025-04-13,4.40"]  # every calendar day
    assert requests.get(urls["fed_custody"] + "/fredgraph.csv", params={"id": "NOPE"}, timeout=30).status_code == 404
    penny = requests.get(
        urls["treasury_debt"] + "/v2/accounting/od/debt_to_penny",
        params={"filter": "record_date:gte:2025-04-07,record_date:lte:2025-04-11", "sort": "record_date"},
        timeout=30,
    ).json()["data"]
    assert [r["record_date"] for r in penny] == ["2025-04-07", "2025-04-08", "2025-04-09", "2025-04-10", "2025-04-11"]
    for r in penny:
        assert Decimal(r["debt_held_public_amt"]) + Decimal(r["intragov_hold_amt"]) == Decimal(
            r["tot_pub_debt_out_amt"]
        )
    mspd = requests.get(
        urls["treasury_debt"] + "/v1/debt/mspd/mspd_table_1",
        params={"filter": "record_date:eq:2025-02-28", "sort": "src_line_nbr"},
        timeout=30,
    ).json()["data"]
    types = [r["security_type_desc"] for r in mspd]
    assert types.count("Total Marketable") == 1 and types[-1] == "Total Public Debt Outstanding"


def test_the_new_sources_history_does_not_change_when_the_as_of_date_moves():
    from emulator import fed_custody as fred
    from emulator import funding_rates as funding
    from emulator import primary_dealers as dealers
    from emulator import treasury_debt as debt

    early, late = date(2025, 6, 30), date(2025, 8, 29)
    a, b = dealers.statistics(early), dealers.statistics(late)
    assert all(b[k][: len(v)] == v for k, v in a.items())
    a, b = funding.reference_rates(early), funding.reference_rates(late)
    assert all(b[k][: len(v)] == v for k, v in a.items())
    csv_early = fred.render_csv(["WMTSECL1", "IORB"], early).decode().splitlines()
    assert fred.render_csv(["WMTSECL1", "IORB"], late).decode().splitlines()[: len(csv_early)] == csv_early
    for table in (debt.debt_to_the_penny, debt.mspd_table_1):
        assert table(late)[: len(table(early))] == table(early)
    # Operations keep their figures; only the propositions, published weeks later, are added.
    later_ops = {o["operationId"]: o for o in funding.repo_operations(late)}
    for operation in funding.repo_operations(early):
        newer = later_ops[operation["operationId"]]
        assert {k: v for k, v in newer.items() if k != "propositions"} == {
            k: v for k, v in operation.items() if k != "propositions"
        }


def test_released_caches_serve_the_same_data_again():
    """A sample build drops the emulator's data sets after its loads (emulator.server.release_caches); asked again,
    the emulator rebuilds them identically."""
    from emulator import socrata
    from emulator.cftc_tff import tff_table
    from emulator.server import release_caches

    before = auction_records(AS_OF)
    table = tff_table(AS_OF)
    params = {"$where": "report_date_as_yyyy_mm_dd >= '2025-01-01T00:00:00'", "$order": "id", "$limit": "5"}
    page = socrata.query(table, params)[0]
    release_caches()
    assert auction_records.cache_info().currsize == 0 and tff_table.cache_info().currsize == 0
    assert not socrata._CACHE
    assert auction_records(AS_OF) == before and auction_records(AS_OF) is not before
    assert socrata.query(tff_table(AS_OF), params)[0] == page
