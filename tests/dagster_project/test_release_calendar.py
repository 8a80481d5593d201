"""Release calendars: what is due when (freshness) and which days each source's schedule runs."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg
import duckdb
import pytest

from ingestion.cftc_tff import releases as cftc
from ingestion.common.freshness import judged_at
from ingestion.fed_custody import releases as custody
from ingestion.funding_rates import releases as funding
from ingestion.par_yield_curve import releases as curve
from ingestion.primary_dealers import releases as dealers
from ingestion.registry import SOURCES
from ingestion.settings import NEW_YORK
from ingestion.tic_holdings import releases as tic
from ingestion.treasury_debt import releases as debt
from tests.conftest import AS_OF, use_sample_env

NY = NEW_YORK


def ny(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        ("2025-06-30 17:59", "2025-06-26"),  # Friday's curve is due Monday 18:00
        ("2025-06-30 18:00", "2025-06-27"),
        ("2025-07-07 18:30", "2025-07-03"),  # 4 July is a holiday: Thursday's curve is due Monday evening
        ("2025-04-21 12:00", "2025-04-16"),  # Good Friday closed the bond market: Thursday's curve due Monday 18:00
    ],
)
def test_par_yields_are_due_by_the_next_business_day_evening(now, due):
    assert curve.curve_due(ny(now)) == date.fromisoformat(due)


@pytest.mark.parametrize(
    ("tuesday", "release"),
    [
        ("2025-06-24", "2025-06-27"),  # an ordinary week: Friday
        ("2025-11-25", "2025-12-01"),  # Thanksgiving week: the Monday after
        ("2025-09-02", "2025-09-08"),  # Labor Day Monday: the Monday after
        ("2025-04-15", "2025-04-18"),  # Good Friday is not a federal holiday: the CFTC publishes
        ("2024-12-31", "2025-01-06"),  # New Year's Day in the week (across the year end)
    ],
)
def test_cftc_releases_on_friday_unless_a_federal_holiday_falls_in_the_week(tuesday, release):
    assert cftc.release_date(date.fromisoformat(tuesday)) == date.fromisoformat(release)
    assert cftc.is_release_day(date.fromisoformat(release))


def test_cftc_reports_are_due_the_day_after_release():
    assert cftc.report_due(ny("2025-06-28 23:59")) == date(2025, 6, 17)
    assert cftc.report_due(ny("2025-06-29 00:00")) == date(2025, 6, 24)
    assert cftc.report_due(ny("2025-12-02 00:00")) == date(2025, 11, 18)  # Thanksgiving week released Monday
    assert cftc.report_due(ny("2025-12-03 00:00")) == date(2025, 11, 25)
    assert not cftc.is_release_day(date(2025, 11, 28))


def test_tic_months_are_due_a_month_after_their_expected_release():
    assert tic.expected_release(date(2025, 3, 31)) == date(2025, 5, 18)
    assert tic.month_due(ny("2025-06-18 23:00")) == date(2025, 2, 28)
    assert tic.month_due(ny("2025-06-19 00:00")) == date(2025, 3, 31)
    assert tic.is_release_window(date(2025, 7, 17)) and not tic.is_release_window(date(2025, 7, 19))


def test_the_new_sources_are_due_on_their_release_calendars():
    # Dealer statistics for Wednesday 2 April 2025 came out Thursday 10 April; due by the end of Friday 11 April.
    assert dealers.week_due(ny("2025-04-11 23:59")) == date(2025, 3, 26)
    assert dealers.week_due(ny("2025-04-12 00:00")) == date(2025, 4, 2)
    # SOFR for Thursday 17 April 2025 is due at noon on Monday 21 April (Good Friday closed the bond market).
    assert funding.sofr_due(ny("2025-04-21 11:59")) == date(2025, 4, 16)
    assert funding.sofr_due(ny("2025-04-21 12:00")) == date(2025, 4, 17)
    # Custody for Wednesday 9 April is in Thursday's H.4.1; due by the end of Friday 11 April.
    assert custody.week_due(ny("2025-04-12 00:00")) == date(2025, 4, 9)
    assert custody.week_due(ny("2025-04-11 12:00")) == date(2025, 4, 2)
    # Debt to the Penny for Friday 11 April is released Monday 14 April, due by the end of Tuesday 15 April.
    assert debt.debt_day_due(ny("2025-04-16 00:00")) == date(2025, 4, 11)
    assert debt.debt_day_due(ny("2025-04-15 23:00")) == date(2025, 4, 10)
    # The MSPD for March 2025 came out on 4 April (the fourth business day); due by the end of the fifth, 7 April.
    assert debt.mspd_month_due(ny("2025-04-08 00:00")) == date(2025, 3, 31)
    assert debt.mspd_month_due(ny("2025-04-07 12:00")) == date(2025, 2, 28)
    assert debt.is_federal_business_day(date(2025, 4, 18)) and not debt.is_federal_business_day(date(2025, 5, 26))


def test_a_past_as_of_date_is_judged_at_the_end_of_that_day():
    assert judged_at(date(2025, 6, 30), clock=ny("2026-01-01 09:00")) == ny("2025-07-01 00:00")
    assert judged_at(date(2026, 1, 1), clock=ny("2026-01-01 09:00")) == ny("2026-01-01 09:00")


def test_every_source_is_fresh_as_of_the_sample_date_and_stale_ten_weeks_later(sample_build):
    with duckdb.connect(str(sample_build.warehouse), read_only=True) as con:
        now = judged_at(AS_OF)
        verdicts = {
            s: SOURCES[s].assess(con, now)
            for s in (
                "par_yield_curve",
                "cftc_tff",
                "tic_holdings",
                "treasury_auctions",
                "primary_dealers",
                "funding_rates",
                "fed_custody",
                "treasury_debt",
            )
        }
        assert all(v.fresh for v in verdicts.values()), [v.description for v in verdicts.values()]
        later = now + timedelta(days=70)
        stale = {s: SOURCES[s].assess(con, later) for s in verdicts}
    assert not any(v.fresh for v in stale.values()), [v.description for v in stale.values()]
    assert stale["par_yield_curve"].due == date(2025, 9, 5)
    assert stale["cftc_tff"].due == date(2025, 8, 26)  # 2 September's report (Labor Day week) is not due yet
    assert stale["tic_holdings"].due == date(2025, 5, 31)
    # Auctions announced before the as-of date and held since are listed by name.
    assert stale["treasury_auctions"].missing and "auctioned 2025-07-01" in stale["treasury_auctions"].missing[0]
    assert "STALE" in stale["tic_holdings"].description
    assert stale["primary_dealers"].due == date(2025, 8, 27)
    assert stale["funding_rates"].due == date(2025, 9, 5)
    assert stale["fed_custody"].due == date(2025, 9, 3)
    assert stale["treasury_debt"].due == date(2025, 9, 4) and stale["treasury_debt"].missing == ["MSPD August 2025"]


def _evaluate(schedule: dg.ScheduleDefinition, when: str):
    from dagster_project.lib.warehouse import Warehouse

    resources = {"warehouse": Warehouse.from_environment()}
    with dg.build_schedule_context(scheduled_execution_time=ny(when), resources=resources) as context:
        return schedule.evaluate_tick(context)


def test_schedules_follow_the_release_calendars(sample_build, monkeypatch, tmp_path):
    from dagster_project.defs import schedules as s

    use_sample_env(monkeypatch, *sample_build.copy_to(tmp_path / "copy"))
    by_name = {schedule.name: schedule for schedule in s.REFRESH_SCHEDULES}
    ran = lambda schedule, when: bool(_evaluate(schedule, when).run_requests)  # noqa: E731
    assert ran(by_name["par_yields_on_business_day_evenings"], "2025-07-03 18:30")
    assert not ran(by_name["par_yields_on_business_day_evenings"], "2025-07-04 18:30")
    assert ran(by_name["cftc_on_release_evenings"], "2025-06-27 17:00")
    assert not ran(by_name["cftc_on_release_evenings"], "2025-11-28 17:00")  # the Friday after Thanksgiving: moved
    assert ran(by_name["cftc_on_release_evenings"], "2025-12-01 17:00")
    assert ran(by_name["tic_around_monthly_release"], "2025-07-17 16:30")
    assert ran(by_name["funding_rates_on_business_day_mornings"], "2025-07-07 08:30")
    assert not ran(by_name["funding_rates_on_business_day_mornings"], "2025-07-04 08:30")  # Independence Day
    assert ran(
        by_name["treasury_debt_on_federal_business_days"], "2025-04-18 16:00"
    )  # Good Friday: federal offices open
    assert not ran(by_name["treasury_debt_on_federal_business_days"], "2025-05-26 16:00")  # Memorial Day
    assert ran(by_name["primary_dealers_on_thursday_evenings"], "2025-07-10 16:45")
    assert ran(by_name["fed_custody_on_h41_evenings"], "2025-07-10 18:00")
    assert not ran(by_name["tic_around_monthly_release"], "2025-07-19 16:30")
    # Auction days come from the published calendar in the serving file.
    with duckdb.connect(str(sample_build.serving), read_only=True) as con:
        (day,) = con.execute(
            "select min(auction_date) from staging.stg_treasury_auctions__upcoming_auctions where auction_date > ?",
            [AS_OF],
        ).fetchone()
        quiet = next(
            d
            for d in (AS_OF + timedelta(days=k) for k in range(1, 30))
            if d.weekday() < 5
            and not con.execute(
                "select count(*) from staging.stg_treasury_auctions__upcoming_auctions where auction_date = ?", [d]
            ).fetchone()[0]
        )
    result = _evaluate(by_name["auctions_on_auction_day_afternoons"], f"{day} 13:30")
    assert result.run_requests and result.run_requests[0].tags["auctions"]
    assert not _evaluate(by_name["auctions_on_auction_day_afternoons"], f"{quiet} 13:30").run_requests


def test_each_source_job_refreshes_its_source_and_its_downstream_models():
    from dagster_project.definitions import defs

    definitions = defs()
    job = definitions.resolve_job_def("refresh_par_yield_curve")
    keys = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert {
        "par_yield_curve/daily_par_yields",
        "staging/stg_par_yield_curve__par_yields",
        "marts/mart_yield_curve_daily",
        "marts/fct_auctions",  # the tail is priced against the curve
        "marts/mart_treasury_stress_weekly",
    } <= keys
    # publish runs after it, in a run of its own (continue_the_build), so a failed source cannot stop it.
    assert not keys & {"publish/serving_file", "publish/stress_report"}
    assert not keys & {"cftc_tff/tff_futures_only", "marts/fct_foreign_holdings", "tic_holdings/major_foreign_holders"}
    checks = {(k.asset_key.to_user_string(), k.name) for k in job.asset_layer.asset_graph.asset_check_keys}
    assert ("par_yield_curve/daily_par_yields", "great_expectations") in checks
    assert ("cftc_tff/tff_futures_only", "great_expectations") not in checks  # another source's suite is not run
    schedules = {sched.name: sched for sched in definitions.schedules}
    assert {sched.execution_timezone for sched in schedules.values()} == {"America/New_York"}
    assert schedules["full_refresh_daily"].job_name == "ingest_all"  # then transform_all, publish (the sensor)


def test_a_stale_source_warns_without_failing_the_run(sample_build, monkeypatch, tmp_path):
    warehouse, serving = sample_build.copy_to(tmp_path / "copy")
    use_sample_env(monkeypatch, warehouse, serving)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw_par_yield_curve.daily_par_yields where curve_date >= '2025-06-20'")
    from dagster_project.definitions import defs

    result = defs().resolve_job_def("check_freshness").execute_in_process(raise_on_error=False)
    assert result.success  # a warning is not a failure
    evaluations = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    assert len(evaluations) == len(SOURCES)  # one freshness check per source
    stale = evaluations["par_yield_curve/daily_par_yields"]
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
    assert stale.metadata["latest_loaded"].value == "2025-06-18"
    assert stale.metadata["due"].value == "2025-06-27"
    assert all(e.passed for key, e in evaluations.items() if key != "par_yield_curve/daily_par_yields")


def test_freshness_of_a_configured_subset_of_fred_series_reports_the_series_it_has(tmp_path):
    """SOURCES__FED_CUSTODY__SERIES_IDS='["IORB"]': no WMTSECL1 row, and the check judges the series that is loaded
    (it once said `latest loaded None` with 1,706 rows in the table)."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema raw_fed_custody")
        con.execute(
            "create table raw_fed_custody.observations as select 'IORB' as series_id, d::date as observation_date, "
            "4.40 as value from range(date '2021-07-29', date '2025-06-30', interval 1 day) t(d)"
        )
        verdict = SOURCES["fed_custody"].assess(con, datetime(2025, 6, 30, 12, tzinfo=NEW_YORK))
    assert verdict.latest_loaded == date(2025, 6, 29) and verdict.fresh, verdict
    assert "IORB" in verdict.rule and "None" not in verdict.description, verdict
