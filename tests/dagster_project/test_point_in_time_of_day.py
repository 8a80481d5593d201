"""Point in time within the day: a source's data of day D is used only once its publication time on D has passed
(ingestion/<source>/releases.py PUBLISHED_AT), in the staging cut-offs, in the emulator (sample mode serves what
the public host would have served then) and across the stages of one build."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import dagster as dg
import duckdb
import pytest
import requests

from dagster_project.defs.schedules import _build_settings
from dagster_project.lib.changes import source_inputs
from dagster_project.lib.warehouse import Warehouse
from emulator.server import Emulator, serve
from ingestion import settings
from ingestion.registry import SOURCES, point_in_time_cutoffs
from tests.conftest import AS_OF

NY = settings.NEW_YORK


def ny(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


def test_a_point_in_time_is_a_date_or_a_new_york_time():
    end = settings.parse_point_in_time("2025-06-30")
    assert end == datetime.combine(date(2025, 6, 30), time.max, NY)
    assert settings.format_point_in_time(end) == "2025-06-30" and settings.describe_point_in_time(end) == "2025-06-30"
    at = settings.parse_point_in_time("2025-06-30T10:23")
    assert at == ny("2025-06-30 10:23")
    assert settings.format_point_in_time(at) == "2025-06-30T10:23"
    assert settings.describe_point_in_time(at) == "2025-06-30 10:23 New York"
    # A UTC time is read in New York time (EDT in June: UTC-4); a space works as the separator too.
    assert settings.parse_point_in_time("2025-06-30T14:23:00+00:00") == at
    assert settings.parse_point_in_time("2025-06-30 10:23") == at
    assert settings.parse_as_of("2025-06-30T10:23") == date(2025, 6, 30)
    with pytest.raises(ValueError, match=r"TREASURY_AS_OF='30/06/2025' is neither a date \(YYYY-MM-DD\)"):
        settings.parse_point_in_time("30/06/2025")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_each_source_uses_a_day_only_from_its_publication_time(name):
    source = SOURCES[name]
    published = datetime.combine(AS_OF, source.published_at, NY)
    before = point_in_time_cutoffs(published - timedelta(minutes=1))[source.cutoff_var]
    assert before == (AS_OF - timedelta(days=1)).isoformat()
    assert point_in_time_cutoffs(published)[source.cutoff_var] == AS_OF.isoformat()
    # A plain date is the end of that day: everything published on it.
    assert point_in_time_cutoffs(settings.parse_point_in_time(AS_OF.isoformat()))[source.cutoff_var] == str(AS_OF)


def test_the_release_based_cut_offs_move_at_the_release_time():
    # Friday 27 June 2025: the TFF report for Tuesday 24 June is released at 15:30.
    assert point_in_time_cutoffs(ny("2025-06-27 15:29"))["cftc_released_through"] == "2025-06-17"
    assert point_in_time_cutoffs(ny("2025-06-27 15:30"))["cftc_released_through"] == "2025-06-24"
    # TIC's April 2025 came out on Wednesday 18 June at 16:00.
    assert point_in_time_cutoffs(ny("2025-06-18 15:59"))["tic_released_through"] == "2025-03-31"
    assert point_in_time_cutoffs(ny("2025-06-18 16:00"))["tic_released_through"] == "2025-04-30"
    # SOMA holdings as of Wednesday 25 June come out on Thursday 26 June at about 16:30.
    assert point_in_time_cutoffs(ny("2025-06-26 12:00"))["soma_released_through"] == "2025-06-24"
    assert point_in_time_cutoffs(ny("2025-06-26 16:30"))["soma_released_through"] == "2025-06-25"
    # The rates of Friday 27 June come out at 08:00 on Monday 30 June; Monday's repo operations by 14:00 that day.
    at_nine = point_in_time_cutoffs(ny("2025-06-30 09:00"))
    assert at_nine["funding_rates_published_through"] == "2025-06-30"
    assert at_nine["repo_operations_published_through"] == "2025-06-29"


def test_every_staging_cut_off_is_a_var_the_build_passes():
    """A staging model filtering on a var the build does not pass would let everything through, silently."""
    passed = point_in_time_cutoffs(ny("2025-06-30 10:23"))
    filtered = [i for inputs in source_inputs().values() for i in inputs if i.expression is not None]
    assert len(filtered) >= 15
    assert {i.cutoff_var for i in filtered} <= set(passed), {i.cutoff_var for i in filtered} - set(passed)
    for source, inputs in source_inputs().items():
        own = {f"{source}_published_through", *SOURCES[source].cutoffs(ny("2025-06-30 10:23"))}
        assert all(i.cutoff_var in own for i in inputs if i.expression is not None), (source, inputs)


def test_a_build_at_10_23_holds_back_what_is_published_later_that_day(sample_build):
    """The staging filters (as the manifest declares them) over the sample's raw tables: at 10:23 on Monday 30 June
    the day's curve (18:00), auctions (13:05), debt (15:00) and repo operations (14:00) are held back; the rates of
    Friday (out at 08:00 Monday) are in."""
    morning = point_in_time_cutoffs(ny("2025-06-30 10:23"))
    evening = point_in_time_cutoffs(settings.parse_point_in_time("2025-06-30"))
    held_back: dict[str, int] = {}
    with duckdb.connect(str(sample_build.warehouse), read_only=True) as con:
        for inputs in source_inputs().values():
            for i in inputs:
                if i.expression is None:
                    continue
                count = [
                    con.execute(f"select count(*) from {i.schema}.{i.table} where {i.where(c)}").fetchone()[0]
                    for c in (morning, evening)
                ]
                assert count[0] <= count[1]
                held_back[f"{i.schema}.{i.table}"] = count[1] - count[0]
    assert held_back["raw_par_yield_curve.daily_par_yields"] == 1  # the curve of 30 June
    assert held_back["raw_funding_rates.reference_rates"] == 0  # Friday's rates are out at 08:00 on Monday
    assert held_back["raw_funding_rates.repo_operations"] >= 1  # Monday's reverse repo closes at 13:15


def test_the_emulator_serves_what_was_published_by_its_time_of_day():
    def served(clock: time) -> tuple[str, str]:
        with serve(Emulator(as_of=AS_OF, clock=clock)) as root:
            curve = requests.get(
                f"{root}/resource-center/data-chart-center/interest-rates/daily-treasury-rates.csv/2025",
                params={"type": "daily_treasury_yield_curve"},
                timeout=60,
            )
            repo = requests.get(f"{root}/api/rp/all/all/results/last/1.json", timeout=60)
        curve.raise_for_status()
        repo.raise_for_status()
        latest_curve = curve.text.splitlines()[1].split(",")[0]
        latest_operation = repo.json()["repo"]["operations"][0]["operationDate"]
        return latest_curve, latest_operation

    assert served(time(10, 23)) == ("06/27/2025", "2025-06-27")
    assert served(time(18, 0)) == ("06/30/2025", "2025-06-30")
    assert served(settings.END_OF_DAY) == ("06/30/2025", "2025-06-30")


def test_every_stage_of_a_build_has_the_point_in_time_of_its_first_run(tmp_path):
    """A run with no point in time set is as of when it was created (every step, every process); the stages the
    sensor chains after it get that moment in their run configuration."""
    unset = Warehouse(path=str(tmp_path / "w.duckdb"), serving_path=str(tmp_path / "s.duckdb"))

    @dg.asset
    def moment(warehouse: Warehouse) -> str:
        return warehouse.as_of_label

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([moment], resources={"warehouse": unset}, instance=instance)
    record = instance.get_run_record_by_id(result.run_id)
    created = record.create_timestamp.astimezone(NY).replace(second=0, microsecond=0)
    assert result.output_for_node("moment") == settings.describe_point_in_time(created)

    chained = _build_settings(instance, record.dagster_run, unset)
    assert chained.as_of == settings.format_point_in_time(created)
    assert chained.cutoffs() == point_in_time_cutoffs(created)
    # A run configured with a point in time passes it on as it is.
    pinned = unset.at("2025-06-30T10:23")
    configured = dg.materialize([moment], resources={"warehouse": pinned}, instance=instance)
    assert configured.output_for_node("moment") == "2025-06-30 10:23 New York"
    run = instance.get_run_by_id(configured.run_id)
    assert _build_settings(instance, run, pinned).as_of == "2025-06-30T10:23"
