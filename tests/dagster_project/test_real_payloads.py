"""Real data is the yardstick: `treasury build` (not --sample) on the replay of ../shared/reference-data publishes,
no blocking check fails on correct government data, each warning says why, and the marts hold the published values.

Recorded payloads unless labelled: the replay (tests/replay.py) serves one CONSTRUCTED record (the TreasuryDirect
30-year bond of 2023-11-09 in FiscalData's layout, values unchanged) and a CONSTRUCTED slt_table5.txt (the
history file's 2025 block in the current table's layout); every other byte is as recorded.
"""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REFERENCE_DATA, reference
from tests.replay import (
    CONVERTED_CUSIP,
    DEBT_FILE,
    DEBT_MISPRINT_DAY,
    FINFUT_FILES,
    FRED_FILES,
    MSPD_CSV,
    PD_RAW,
    PD_SAMPLE,
    RATE_FILES,
    RP_FILE,
    replay_server,
)

# The data reach 2026-03-17 (TFF) and 2026-01-29 (auctions); TIC's December 2025 came out 2026-02-18.
AS_OF = date(2026, 3, 31)
FRED_SERIES = ["WMTSECL1", "DGS10", "DGS5"]


@dataclass(frozen=True)
class ReplayBuild:
    code: int
    summary: str
    serving: Path
    warehouse: Path


@pytest.fixture(scope="module")
def replay_build(tmp_path_factory) -> ReplayBuild:
    if not REFERENCE_DATA.exists():
        pytest.skip("../shared/reference-data is not checked out beside the repo")
    from dagster_project.runner.cli import main

    folder = tmp_path_factory.mktemp("replay_build")
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("TREASURY_WAREHOUSE", str(folder / "warehouse.duckdb"))
        mp.setenv("TREASURY_SERVING", str(folder / "serving.duckdb"))
        mp.setenv("DAGSTER_HOME", str(folder / "dagster_home"))
        mp.delenv("TREASURY_SAMPLE", raising=False)
        mp.setenv("TREASURY_AS_OF", AS_OF.isoformat())
        # FRED: the recorded series (WMTSECL1 is the replay's WALCL stand-in; IORB has no recording).
        mp.setenv("SOURCES__FED_CUSTODY__SERIES_IDS", json.dumps(FRED_SERIES))
        with replay_server(REFERENCE_DATA) as (_, urls):
            for source, url in urls.items():
                mp.setenv(f"SOURCES__{source.upper()}__BASE_URL", url)
            out = io.StringIO()
            with redirect_stdout(out):
                code = main(["build"])
    finally:
        mp.undo()
    return ReplayBuild(code, out.getvalue(), folder / "serving.duckdb", folder / "warehouse.duckdb")


def query(path: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_the_build_publishes_with_no_blocking_check_failed(replay_build):
    summary = replay_build.summary
    assert replay_build.code == 0, summary
    assert "SUCCESS" in summary and "public APIs" in summary, summary
    assert " 0 failed" in summary and "FAILED" not in summary, summary
    assert "published" in summary and "kept as it was" not in summary, summary
    assert replay_build.serving.exists()


def test_the_report_is_written_where_the_real_payloads_leave_gaps(replay_build):
    """The recorded curve ends in September 2023 and the auctions are a few months: those charts say so, the rest draw."""
    page = (replay_build.serving.parent / "report" / "index.html").read_text()
    assert "stress report: " in replay_build.summary
    curve = page.split('<section id="curve">')[1].split("</section>")[0]
    assert curve.count("No data in this period in the serving file.") == 2
    positioning = page.split('<section id="positioning">')[1].split("</section>")[0]
    assert "No data in this period" not in positioning and positioning.count("<svg") == 2
    # The replay server stands in for the public hosts: the report says once that the data did not come from them,
    # naming the host, and tags every section; it is not the emulator's sample.
    assert page.count("Not read from the public APIs: from 127.0.0.1:") == 1
    assert page.count('<span class="tag">not the public APIs') == 7 and "Sample data:" not in page


def test_every_warning_names_its_reason(replay_build):
    warnings = [line.strip() for line in replay_build.summary.splitlines() if line.strip().startswith("WARNING")]
    assert warnings, replay_build.summary  # the consolidated CFTC rows and stale sources at least
    for line in warnings:
        name, _, reason = line.removeprefix("WARNING ").partition(": ")
        assert reason.strip(), f"no reason given: {line}"
    # The CFTC's consolidated index rows miss the open-interest identity by 1-2 contracts: named, not blocking.
    [suite] = [w for w in warnings if w.startswith("WARNING cftc_tff/tff_futures_only:great_expectations")]
    assert "longs_plus_spreading) warning: 34 of 1266 rows: " in suite and "and 24 more" in suite, suite
    named = suite.split("34 of 1266 rows: ")[1].split(" and 24 more")[0].split(", ")
    assert len(named) == 10 and all(n.startswith("2024-") and n.endswith("+") for n in named), named
    [dbt_test] = [w for w in warnings if "tff_open_interest_equals_longs_plus_spreading_other_contracts" in w]
    assert "34 rows fail it" in dbt_test and "publication artefact" in dbt_test, dbt_test


def test_auction_results_reproduce_the_published_figures(replay_build):
    bills = json.loads((REFERENCE_DATA / "treasury_auctions/fiscaldata_auctions_query_bills_2026-01.json").read_text())
    mart = {
        (cusip, str(day)): row
        for cusip, day, *row in query(
            replay_build.serving,
            """select cusip, auction_date, bid_to_cover_published, bid_to_cover_recomputed, high_discount_rate_pct,
                      stop_yield_pct, indirect_share_pct, direct_share_pct, dealer_share_pct, offering_amount_usd
               from marts.fct_auctions""",
        )
    }
    assert len(mart) == 26  # 25 recorded bills and the converted 30-year bond
    for record in bills["data"]:
        published, recomputed, discount, investment, indirect, direct, dealer, offering = mart[
            (record["cusip"], record["auction_date"])
        ]
        # The marts publish DECIMAL: the published figures come back exactly, digit for digit.
        assert published == Decimal(record["bid_to_cover_ratio"])
        assert abs(recomputed - published) <= Decimal("0.005")  # the published ratio is rounded to 2 dp
        # Bills stop at the high investment rate (bond-equivalent); the discount rate is kept beside it.
        assert discount == Decimal(record["high_discnt_rate"]) and investment == Decimal(record["high_investment_rate"])
        comp = Decimal(record["comp_accepted"])
        for share, field in (
            (indirect, "indirect_bidder_accepted"),
            (direct, "direct_bidder_accepted"),
            (dealer, "primary_dealer_accepted"),
        ):
            assert abs(share - Decimal(record[field]) / comp * 100) <= Decimal("0.0005")  # % to 3 dp
        assert offering == Decimal(record["offering_amt"])


def test_the_weak_30_year_bond_of_november_2023_reconciles(replay_build):
    """TreasuryDirect's record (converted to FiscalData's layout): 4.769% high yield, bid-to-cover 2.24, indirects
    60.11%, directs 15.16%, dealers 24.73% of the $23.91bn competitive accepted."""
    [(security_class, term, high_yield, published, recomputed, indirect, direct, dealer)] = query(
        replay_build.serving,
        """select security_class, term_group, stop_yield_pct, bid_to_cover_published, bid_to_cover_recomputed,
                  round(indirect_share_pct, 2), round(direct_share_pct, 2), round(dealer_share_pct, 2)
           from marts.fct_auctions where cusip = ?""",
        [CONVERTED_CUSIP],
    )
    assert (security_class, term, high_yield, published) == ("Bond", "30-Year", Decimal("4.769"), Decimal("2.24"))
    assert round(recomputed, 2) == Decimal("2.24")
    assert (indirect, direct, dealer) == (Decimal("60.11"), Decimal("15.16"), Decimal("24.73"))


def test_curve_points_are_the_published_values_good_friday_2023_included(replay_build):
    text = (REFERENCE_DATA / "yield_curve/daily_treasury_par_yield_2023_jan-sep.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    published = {
        date(int(r["Date"][6:]), int(r["Date"][:2]), int(r["Date"][3:5])): (
            Decimal(r["2 Yr"]),
            Decimal(r["10 Yr"]),
            Decimal(r["30 Yr"]),
        )
        for r in rows
    }
    mart = {
        day: (y2, y10, y30)
        for day, y2, y10, y30 in query(
            replay_build.serving,
            "select curve_date, yield_2y_pct, yield_10y_pct, yield_30y_pct from marts.mart_yield_curve_daily "
            "where year(curve_date) = 2023",
        )
    }
    assert mart == published
    assert date(2023, 4, 7) in mart  # Good Friday 2023: SIFMA's early close, a business day
    [(spread,)] = query(
        replay_build.serving, "select spread_2s10s_bp from marts.mart_yield_curve_daily where curve_date = '2023-04-07'"
    )
    two, ten, _ = published[date(2023, 4, 7)]
    assert spread == 100 * (ten - two)  # exact in DECIMAL bp


def test_tic_grand_totals_are_the_published_totals(replay_build):
    published = {}
    for line in csv.reader(io.StringIO((REFERENCE_DATA / "tic_mfh/mfhhis01.txt").read_text()), delimiter="\t"):
        if line and line[0].strip() == "Grand Total" and len(published) < 1:
            published["2025-12"] = float(line[1])  # the newest block's first column: December 2025
    mart = dict(
        query(
            replay_build.serving,
            "select strftime(month_end, '%Y-%m'), holdings_usd_bn from marts.fct_foreign_holdings "
            "where country = 'Grand Total' and month_end = '2025-12-31'",
        )
    )
    assert mart == published
    assert query(
        replay_build.serving,
        "select count(*), count(*) filter (where abs(share_of_foreign_total_pct - 100) > 1e-9) "
        "from marts.fct_foreign_holdings where country = 'Grand Total'",
    ) == [(310, 0)]  # March 2000 to December 2025


def test_tff_nets_are_the_published_positions(replay_build):
    """Leveraged funds' net in the 10-year note, every week of the three recorded files."""
    published = {}
    for name in FINFUT_FILES:
        reader = csv.DictReader(io.StringIO((REFERENCE_DATA / name).read_text()))
        for row in reader:
            if row["CFTC_Contract_Market_Code"].strip() == "043602":
                long, short = int(row["Lev_Money_Positions_Long_All"]), int(row["Lev_Money_Positions_Short_All"])
                published[date.fromisoformat(row["Report_Date_as_YYYY-MM-DD"].strip())] = long - short
    mart = dict(
        query(
            replay_build.serving,
            "select report_date, net_contracts from marts.fct_futures_positioning "
            "where contract_code = '043602' and trader_group = 'leveraged_funds'",
        )
    )
    assert mart == published and len(mart) == 13 + 24 + 11


def test_primary_dealer_totals_are_the_published_totals(replay_build):
    """PDPOSGST-TOT as published, week by week, beside bills + coupons (which it exceeds by $2.7-11.4bn)."""
    series = {
        s["keyid"]: s["body"]["pd"]["timeseries"]
        for s in json.loads((REFERENCE_DATA / PD_SAMPLE).read_text())["series"]
    }
    published = {date.fromisoformat(r["asofdate"]): Decimal(r["value"]) / 1000 for r in series["PDPOSGST-TOT"]}
    parts: dict[date, Decimal] = {}
    for keyid, rows in series.items():
        if keyid == "PDPOSGS-B" or keyid.startswith("PDPOSGSC-"):
            for r in rows:
                day = date.fromisoformat(r["asofdate"])
                parts[day] = parts.get(day, Decimal(0)) + Decimal(r["value"]) / 1000
    mart = {
        day: (total, parts_bn, gap)
        for day, total, parts_bn, gap in query(
            replay_build.serving,
            "select week_ending_wednesday, value_usd_bn, bills_and_coupons_usd_bn, total_minus_parts_usd_bn "
            "from marts.fct_primary_dealer_positions where keyid = 'PDPOSGST-TOT'",
        )
    }
    assert {day: total for day, (total, _, _) in mart.items()} == published and len(published) == 12
    for day, (_, parts_bn, gap) in mart.items():
        assert parts_bn == parts[day] and gap == published[day] - parts[day]
    # From 2022-01-05, when every bucket is recorded, the total exceeds its parts by $2.7-11.4bn (before, the >11-year
    # bucket PDPOSGSC-G11 has no recording, so the parts fall short by more).
    gaps = sorted(published[d] - parts[d] for d in published if d >= date(2022, 1, 5))
    assert (len(gaps), gaps[0], gaps[-1]) == (7, Decimal("2.677"), Decimal("11.36"))
    # "*" is NULL, never 0: securities lent is suppressed in 6 of the 12 weeks.
    assert query(
        replay_build.serving,
        "select count(*), count(value_usd_bn) from marts.fct_primary_dealer_positions where keyid = 'PDSOOS-UTSETTOT'",
    ) == [(12, 6)]
    # The pre-April-2013 buckets are their own series, as published.
    assert query(
        replay_build.serving,
        "select min(week_ending_wednesday)::varchar, max(week_ending_wednesday)::varchar, series_break "
        "from marts.fct_primary_dealer_positions where keyid = 'PDPUSGTBNOP' group by series_break",
    ) == [("2013-02-06", "2013-03-27", "SBP2013")]


def test_the_raw_primary_dealer_body_loads_every_record(tmp_path):
    """The byte-exact `get/PDPOSMBSFGS-C.json` (an MBS series: any keyid loads) through the plain dlt source."""
    from ingestion.pipelines import make_pipeline
    from ingestion.primary_dealers import primary_dealers

    raw = json.loads(reference(PD_RAW).read_text())["pd"]["timeseries"]  # skipped without ../shared, as the rest
    with replay_server(REFERENCE_DATA) as (_, urls):
        pipeline = make_pipeline("primary_dealers", tmp_path / "w.duckdb")
        source = primary_dealers(
            base_url=urls["primary_dealers"], keyids=["PDPOSMBSFGS-C"], series_breaks={}, as_of=AS_OF
        )
        pipeline.run(source).raise_on_failed_jobs()
    loaded = query(
        tmp_path / "w.duckdb", "select asofdate::varchar, value from raw_primary_dealers.dealer_statistics order by 1"
    )
    assert loaded == [(r["asofdate"], Decimal(r["value"])) for r in raw] and len(loaded) == 587


def test_reference_rates_and_operations_are_the_published_figures(replay_build):
    recorded = {}
    for name in RATE_FILES:
        for r in json.loads((REFERENCE_DATA / name).read_bytes(), parse_float=Decimal)["refRates"]:
            if r["type"] != "SOFRAI":
                recorded[(r["type"], date.fromisoformat(r["effectiveDate"]))] = (
                    r["percentRate"],
                    r["percentPercentile1"],
                    r["percentPercentile99"],
                    Decimal(r["volumeInBillions"]),
                )
    mart = {
        (rate_type, day): (rate, p1, p99, volume)
        for rate_type, day, rate, p1, p99, volume in query(
            replay_build.serving,
            "select rate_type, rate_date, rate_pct, percentile_1_pct, percentile_99_pct, volume_usd_bn "
            "from marts.fct_funding_rates_daily",
        )
    }
    assert mart == recorded and len(mart) == 124
    # Good Friday 2023: an EFFR, no SOFR (the secured rates follow the bond market's calendar).
    assert ("EFFR", date(2023, 4, 7)) in mart and ("SOFR", date(2023, 4, 7)) not in mart
    # 99th - 1st percentile, exactly: SOFR on 2024-06-06 was 5.44 - 5.29.
    assert query(
        replay_build.serving,
        "select percentile_99_minus_1_bp from marts.fct_funding_rates_daily where rate_type = 'SOFR' "
        "and rate_date = '2024-06-06'",
    ) == [(Decimal("15.00"),)]
    operations = json.loads((REFERENCE_DATA / RP_FILE).read_bytes(), parse_float=Decimal)["repo"]["operations"]
    rrp = {}
    for o in operations:
        if o["operationType"] == "Reverse Repo" and o["term"] == "Overnight":
            rrp[date.fromisoformat(o["operationDate"])] = (
                rrp.get(date.fromisoformat(o["operationDate"]), 0) + o["totalAmtAccepted"]
            )
    daily = dict(
        query(
            replay_build.serving, "select operation_date, on_rrp_take_up_usd from marts.fct_fed_repo_operations_daily"
        )
    )
    assert {d: v for d, v in daily.items() if d in rrp} == {d: Decimal(v) for d, v in rrp.items()}
    assert daily[date(2023, 4, 21)] == Decimal("2290023000000.00")  # $2.29 trillion on the last recorded day
    assert query(
        replay_build.warehouse,
        "select (select count(*) from raw_funding_rates.repo_operations), "
        "(select count(*) from raw_funding_rates.repo_operation_details), "
        "(select count(*) from raw_funding_rates.repo_operation_propositions)",
    ) == [(467, 935, 784)]


def test_fred_series_load_every_row_in_both_header_eras(replay_build):
    expected = {}
    for series in FRED_SERIES:
        name = FRED_FILES["WALCL" if series == "WMTSECL1" else series]
        rows = (REFERENCE_DATA / name).read_text().splitlines()[1:]
        expected[series] = (len(rows), sum(1 for r in rows if r.split(",")[1] in (".", "")))
    loaded = {
        series: (rows, missing)
        for series, rows, missing in query(
            replay_build.warehouse,
            "select series_id, count(*), count(*) - count(value) from raw_fed_custody.observations group by 1",
        )
    }
    assert loaded == expected == {"WMTSECL1": (1150, 0), "DGS10": (16332, 696), "DGS5": (1306, 54)}
    # The weekly custody mart (on the WALCL stand-in) carries the level and its changes in $bn.
    assert query(
        replay_build.serving,
        "select custody_usd_bn, change_1w_usd_bn from marts.fct_foreign_official_custody_weekly "
        "where week_ending_wednesday = '2002-12-25'",
    ) == [(Decimal("732.059"), Decimal("12.517"))]


def test_debt_to_the_penny_and_mspd_reproduce_the_published_figures(replay_build):
    penny = json.loads((REFERENCE_DATA / DEBT_FILE).read_text())["data"]
    mart = {
        str(day): (public, intragov, total, gap)
        for day, public, intragov, total, gap in query(
            replay_build.serving,
            "select record_date, debt_held_by_public_usd, intragovernmental_holdings_usd, "
            "total_public_debt_outstanding_usd, identity_gap_usd from marts.fct_debt_outstanding_daily",
        )
    }
    assert len(mart) == len(penny) + 1 == 62
    # The CONSTRUCTED misprint day (tests/replay.py): published, its $10bn gap carried by the mart, the day named in
    # the suite's warning (a publication artefact), and nothing held back for it.
    assert mart.pop(DEBT_MISPRINT_DAY["record_date"]) == (
        Decimal("29523300148538.85"),
        Decimal("7314864649375.46"),
        Decimal("36828164797914.31"),
        Decimal("10000000000.00"),
    )
    [warning] = [
        line
        for line in replay_build.summary.splitlines()
        if "WARNING treasury_debt/debt_to_the_penny:great_expectations" in line
    ]
    assert "expect_column_values_to_be_between(identity_gap_usd) warning: 1 of 62 rows: 2025-08-04" in warning, warning
    assert "held back" not in replay_build.summary.lower(), replay_build.summary
    for r in penny:
        public, intragov, total, gap = mart[r["record_date"]]
        assert (public, intragov, total) == tuple(
            Decimal(r[k]) for k in ("debt_held_public_amt", "intragov_hold_amt", "tot_pub_debt_out_amt")
        )
        assert gap == 0  # public + intragovernmental = total, to the cent, every day
    website = list(csv.reader(io.StringIO((REFERENCE_DATA / MSPD_CSV).read_text(encoding="utf-8-sig"))))
    marketable = {row[0]: Decimal(row[5]) for row in website[1:] if row[1] == "Total Marketable"}
    monthly = dict(
        query(
            replay_build.serving,
            "select month_end::varchar, marketable_debt_usd_bn from marts.fct_marketable_debt_monthly",
        )
    )
    assert len(monthly) == 302  # January 2001 to February 2026 (March was not out on 2026-03-31)
    assert all(value == round(marketable[month] / 1000, 3) for month, value in monthly.items())
    # The foreign share for December 2025: TIC's grand total over MSPD's Total Marketable, both as published.
    [(share, tic_month, foreign)] = query(
        replay_build.serving,
        "select foreign_share_of_marketable_pct, tic_month_end::varchar, foreign_holdings_usd_bn "
        "from marts.fct_marketable_debt_monthly where month_end = '2025-12-31'",
    )
    assert tic_month == "2025-12-31"
    assert share == round(Decimal(str(foreign)) * 1000 / marketable["2025-12-31"] * 100, 3)


def test_one_broken_source_holds_back_only_its_marts_on_the_real_payloads(replay_build, tmp_path, monkeypatch):
    """The replay again with the debt host down (a closed port): every other mart from the real payloads is published
    fresh, the two debt marts keep the replay build's version, and _build_status says why."""
    import shutil

    import dagster_project.defs.ingestion.assets as ingestion_assets
    from dagster_project.runner.cli import main

    monkeypatch.setattr(ingestion_assets, "STEP_RETRY_SECONDS", 0)
    folder = tmp_path / "replay_again"
    shutil.copytree(replay_build.serving.parent, folder, ignore=shutil.ignore_patterns("logs", "report"))
    serving = folder / "serving.duckdb"
    before = query(serving, "select * from marts.fct_debt_outstanding_daily order by all")
    monkeypatch.setenv("TREASURY_WAREHOUSE", str(folder / "warehouse.duckdb"))
    monkeypatch.setenv("TREASURY_SERVING", str(serving))
    monkeypatch.setenv("DAGSTER_HOME", str(folder / "dagster_home"))
    monkeypatch.setenv("TREASURY_AS_OF", AS_OF.isoformat())
    monkeypatch.setenv("SOURCES__FED_CUSTODY__SERIES_IDS", json.dumps(FRED_SERIES))
    with replay_server(REFERENCE_DATA) as (_, urls):
        for source, url in urls.items():
            monkeypatch.setenv(f"SOURCES__{source.upper()}__BASE_URL", url)
        monkeypatch.setenv("SOURCES__TREASURY_DEBT__BASE_URL", "http://127.0.0.1:9/services/api/fiscal_service")
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(["build"])
    summary = out.getvalue()
    assert code == 1 and "published with 2 marts held back" in summary.splitlines()[-1], summary
    status = dict(query(serving, "select table_name, status from marts._build_status where schema_name = 'marts'"))
    held = {name for name, state in status.items() if state == "held back"}
    assert held == {"fct_debt_outstanding_daily", "fct_marketable_debt_monthly"}, status
    assert query(serving, "select * from marts.fct_debt_outstanding_daily order by all") == before
    # The rest came from the real payloads again: the recorded bid-to-covers are still there, fresh.
    assert status["fct_auctions"] == "fresh"
    assert query(serving, "select count(*) from marts.fct_auctions") == [(26,)]
