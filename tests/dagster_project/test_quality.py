"""The Great Expectations suites on the raw tables: all pass on the sample build; each planted fault fails the
expectation meant for it, with the bad record named in the examples."""

from __future__ import annotations

import duckdb
import pytest

from dagster_project.quality.engine import validate
from ingestion.registry import SUITES


@pytest.fixture
def warehouse(sample_build, tmp_path):
    path, _ = sample_build.copy_to(tmp_path / "copy")
    return path


def test_every_raw_suite_passes_on_the_sample_build(sample_build):
    with duckdb.connect(str(sample_build.warehouse), read_only=True) as con:
        outcomes = {key: validate(con, suite, previous_rows=1) for key, suite in SUITES.items()}
    assert set(outcomes) == {
        ("treasury_auctions", "auctions_query"),
        ("treasury_auctions", "upcoming_auctions"),
        ("par_yield_curve", "daily_par_yields"),
        ("cftc_tff", "tff_futures_only"),
        ("cftc_tff", "tff_futures_only_vintages"),
        ("tic_holdings", "major_foreign_holders"),
        ("tic_holdings", "major_foreign_holders_vintages"),
        ("primary_dealers", "dealer_statistics"),
        ("funding_rates", "reference_rates"),
        ("funding_rates", "repo_operations"),
        ("funding_rates", "repo_operation_details"),
        ("funding_rates", "repo_operation_propositions"),
        ("fed_custody", "observations"),
        ("treasury_debt", "debt_to_the_penny"),
        ("treasury_debt", "mspd_table_1"),
        ("fed_soma", "treasury_holdings"),
        ("fed_soma", "as_of_dates"),
    }
    for key, outcome in outcomes.items():
        assert outcome.success, (key, [f.line() for f in outcome.failed])
        assert outcome.rows > 500, key
        never_shrinks = any(o.expectation == "expect_table_row_count_to_be_between" for o in outcome.outcomes)
        assert never_shrinks == (key != ("tic_holdings", "major_foreign_holders")), key  # TIC's is a snapshot
    yields = outcomes[("par_yield_curve", "daily_par_yields")]
    ranged = {o.columns for o in yields.outcomes if o.expectation == "expect_column_values_to_be_between"}
    assert {"bc_1month", "bc_10year", "bc_30year"} <= ranged  # one range per tenor column found in the table
    assert len(outcomes[("treasury_auctions", "auctions_query")].outcomes) == 17
    assert not any(o.warnings for o in outcomes.values()), {
        k: [w.line() for w in o.warnings] for k, o in outcomes.items()
    }


PLANTED = [
    pytest.param(
        ("par_yield_curve", "daily_par_yields"),
        "update {t} set bc_10year = 44.6 where curve_date = '2025-04-09'",
        "expect_column_values_to_be_between",
        "bc_10year",
        {"curve_date": "2025-04-09", "bc_10year": 44.6},
        id="yield-in-basis-points-not-percent",
    ),
    pytest.param(
        ("treasury_auctions", "auctions_query"),
        "update {t} set cusip = '91282C854' where cusip = '91282C853' and auction_date = '2025-04-08'",
        "expect_column_values_to_be_in_set",
        "cusip_check_digit_valid",
        {"cusip": "91282C854", "auction_date": "2025-04-08"},
        id="cusip-with-a-wrong-check-digit",
    ),
    pytest.param(
        ("treasury_auctions", "auctions_query"),
        "update {t} set indirect_bidder_accepted = indirect_bidder_accepted + 1000000 "
        "where auction_date = '2025-04-08' and security_term = '3-Year'",
        "expect_column_values_to_be_between",
        "bidder_identity_gap_usd",
        {"auction_date": "2025-04-08"},
        id="bidder-amounts-not-adding-up",
    ),
    pytest.param(
        ("cftc_tff", "tff_futures_only"),
        "update {t} set lev_money_positions_short = lev_money_positions_short + 5 "
        "where report_date_as_yyyy_mm_dd = '2025-04-08' and cftc_contract_market_code = '043602'",
        "expect_column_pair_values_to_be_equal",
        "open_interest_all,shorts_plus_spreading",
        {"report_date": "2025-04-08", "cftc_contract_market_code": "043602"},
        id="open-interest-identity-broken",
    ),
    pytest.param(
        ("tic_holdings", "major_foreign_holders"),
        "update {t} set holdings_bn = holdings_bn + 25 where month_end = '2024-12-31' and country = 'Japan' "
        "and not is_comparison_series",
        "expect_column_values_to_be_between",
        "gap_beyond_rounding_bn",
        {"month_end": "2024-12-31"},
        id="countries-no-longer-sum-to-the-grand-total",
    ),
]


@pytest.mark.parametrize(("table", "plant", "expectation", "columns", "example"), PLANTED)
def test_a_planted_fault_fails_its_expectation_and_names_the_record(
    warehouse, table, plant, expectation, columns, example
):
    suite = SUITES[table]
    with duckdb.connect(str(warehouse)) as con:
        con.execute(plant.format(t=suite.qualified))
        outcome = validate(con, suite)
    assert not outcome.success
    failed = {(f.expectation, f.columns): f for f in outcome.failed}
    assert (expectation, columns) in failed, [f.line() for f in outcome.failed]
    failure = failed[(expectation, columns)]
    assert failure.rows_failed == 1
    if example:
        assert example.items() <= failure.examples[0].items()


def test_a_load_that_loses_rows_fails_the_row_count_expectation(sample_build):
    suite = SUITES[("par_yield_curve", "daily_par_yields")]
    with duckdb.connect(str(sample_build.warehouse), read_only=True) as con:
        rows = con.execute(f"select count(*) from {suite.qualified}").fetchone()[0]
        assert validate(con, suite, previous_rows=rows).success  # no loss: passes at the boundary
        outcome = validate(con, suite, previous_rows=rows + 1)
    [failure] = outcome.failed
    assert failure.expectation == "expect_table_row_count_to_be_between"
    assert failure.observed == rows


def test_non_tuesday_reports_warn_with_the_report_named_and_block_only_as_a_systematic_slip(warehouse):
    suite = SUITES[("cftc_tff", "tff_futures_only")]
    with duckdb.connect(str(warehouse)) as con:
        # One holiday-shifted week warns, naming the report, and blocks nothing...
        con.execute(
            f"update {suite.qualified} set report_date_as_yyyy_mm_dd = report_date_as_yyyy_mm_dd - 1 "
            "where report_date_as_yyyy_mm_dd = '2019-07-02' and cftc_contract_market_code = '043602'"
        )
        outcome = validate(con, suite)
        assert outcome.success
        [warning] = outcome.warnings
        assert warning.columns == "report_on_tuesday_or_holiday_shift" and warning.rows_failed == 1
        [example] = warning.examples
        assert {"report_date": "2019-07-01", "cftc_contract_market_code": "043602"}.items() <= example.items()
        # ...a whole history moved to Wednesdays (a parsing or time-zone slip) blocks.
        con.execute(
            f"update {suite.qualified} set report_date_as_yyyy_mm_dd = report_date_as_yyyy_mm_dd + 1 "
            "where report_date_as_yyyy_mm_dd >= '2015-01-01' and dayname(report_date_as_yyyy_mm_dd) = 'Tuesday'"
        )
        outcome = validate(con, suite)
    assert [f.columns for f in outcome.failed] == ["report_on_tuesday_or_holiday_shift"]


def test_a_consolidated_index_row_off_by_two_contracts_warns_and_a_treasury_row_blocks(warehouse):
    """The CFTC's consolidated index rows miss the open-interest identity by 1-2 contracts in every real file."""
    suite = SUITES[("cftc_tff", "tff_futures_only")]
    with duckdb.connect(str(warehouse)) as con:
        code = con.execute(
            f"select min(cftc_contract_market_code) from {suite.qualified} where cftc_contract_market_code not in "
            "('042601', '044601', '043602', '043607', '020601', '020604')"
        ).fetchone()[0]
        con.execute(
            f"update {suite.qualified} set open_interest_all = open_interest_all - 2 "
            f"where report_date_as_yyyy_mm_dd = '2024-06-11' and cftc_contract_market_code = '{code}'"
        )
        outcome = validate(con, suite)
        assert outcome.success, [f.line() for f in outcome.failed]
        assert {(w.view, w.columns) for w in outcome.warnings} == {
            ("other_contracts_identity", "open_interest_all,longs_plus_spreading"),
            ("other_contracts_identity", "open_interest_all,shorts_plus_spreading"),
        }
        for warning in outcome.warnings:
            [example] = warning.examples
            assert {"report_date": "2024-06-11", "cftc_contract_market_code": code}.items() <= example.items()
        con.execute(
            f"update {suite.qualified} set open_interest_all = open_interest_all - 1 "
            "where report_date_as_yyyy_mm_dd = '2024-06-11' and cftc_contract_market_code = '043602'"
        )
        outcome = validate(con, suite)
    assert {(f.view, f.columns) for f in outcome.failed} == {
        ("treasury_identity", "open_interest_all,longs_plus_spreading"),
        ("treasury_identity", "open_interest_all,shorts_plus_spreading"),
    }
