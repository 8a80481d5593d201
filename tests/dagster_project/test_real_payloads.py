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

from tests.conftest import REFERENCE_DATA
from tests.replay import CONVERTED_CUSIP, FINFUT_FILES, replay_server

# The data reach 2026-03-17 (TFF) and 2026-01-29 (auctions); TIC's December 2025 came out 2026-02-18.
AS_OF = date(2026, 3, 31)


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
    from dagster_project.cli import main

    folder = tmp_path_factory.mktemp("replay_build")
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("TREASURY_WAREHOUSE", str(folder / "warehouse.duckdb"))
        mp.setenv("TREASURY_SERVING", str(folder / "serving.duckdb"))
        mp.setenv("DAGSTER_HOME", str(folder / "dagster_home"))
        mp.delenv("TREASURY_SAMPLE", raising=False)
        mp.setenv("TREASURY_AS_OF", AS_OF.isoformat())
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
    # The replay server stands in for the public hosts: the report says the data did not come from them.
    assert page.count("SAMPLE DATA: not read from the public APIs (http://127.0.0.1:") == 6


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
