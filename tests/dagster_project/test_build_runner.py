"""`treasury build` as a user sees it: a line per step and the summary (no colour codes, under 40 lines), the run
recorded in DAGSTER_HOME with every asset materialized, a second build with nothing new that reuses the check
results and runs no dbt and no publish, leaving the serving file as it was, and a build one day later that rebuilds
only what depends on the sources with new data; after each, every check's latest result in the instance is real."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from datetime import date

import dagster as dg
import pytest

from emulator.server import base_urls, serve
from ingestion.registry import SUITES
from tests.builds import point_sources_at
from tests.conftest import ACTIVE_ALERTS_ON_AS_OF, use_sample_env
from tests.dagster_project.test_build_faults import digest
from tests.faulty_api import emulated


def _build(argv: list[str]) -> tuple[int, str]:
    """Exit status and everything the command printed, stdout then stderr (a user sees both)."""
    from dagster_project.runner.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.slow  # three whole builds
def test_a_build_is_quiet_is_recorded_and_a_no_change_build_skips_what_it_has(sample_build, tmp_path, monkeypatch):
    warehouse, serving = sample_build.copy_to(tmp_path / "build")
    use_sample_env(monkeypatch, warehouse, serving)
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    code, first = _build(["build"])
    assert code == 0, first
    lines = first.splitlines()
    # About 25 lines, plus one a source and one a mart (every mart is listed).
    assert len(lines) <= 48 and "\x1b[" not in first, first
    assert re.search(r"^  ingest cftc_tff +2 assets, [\d,]+ rows .* [\d.]+s$", first, re.M), first
    # As of 2025-06-30 three alert rules are active: their WARN checks are the 3 of 143 that do not pass, blocking nothing.
    assert re.search(
        r"^  dbt build \(seeds, models, tests\) +42 assets, [\d,]+ rows; 140/143 checks passed, 3 warned", first, re.M
    ), first
    warned = sorted(re.findall(r"^    WARNING marts/mart_stress_alerts:(\w+): ", first, re.M))
    assert warned == sorted(ACTIVE_ALERTS_ON_AS_OF), first
    assert re.search(r"^  dbt unit tests +26/26 checks passed", first, re.M), first
    assert re.search(r"^  publish serving file +1 asset", first, re.M), first
    assert "START" not in first and "Running dbt" not in first  # dbt's and Dagster's own lines are in the log
    log = re.search(r"log \(Dagster, dbt and dlt lines\): (.+)$", first, re.M)[1]
    assert "Running dbt command" in open(log, encoding="utf-8").read()
    published = digest(serving)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        # One build, three runs (ingest, transform, publish) under one build tag.
        runs = instance.get_runs()[::-1]
        assert [r.tags["treasury/stage"] for r in runs] == ["ingest", "transform", "publish"]
        assert len({r.tags["treasury/build"] for r in runs}) == 1
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        run = runs[0]
        from dagster_project.definitions import defs

        keys = defs().resolve_asset_graph().get_all_asset_keys()
        never = [k.to_user_string() for k in keys if instance.get_latest_materialization_event(k) is None]
        assert never == []  # `treasury dev` shows every asset materialized

    code, second = _build(["build"])
    assert code == 0, second
    assert len(second.splitlines()) <= 48 and "emitted no result" not in second, second  # Dagster's warnings: log
    assert "current (no new data since it was published: dbt and publish skipped)" in second, second
    assert re.search(r"^  dbt build \(seeds, models, tests\) +skipped \(marts unchanged \(same inputs", second, re.M), (
        second
    )
    assert re.search(r"^  publish serving file +skipped", second, re.M), second
    assert digest(serving) == published
    with dg.DagsterInstance.from_config(str(home)) as instance:
        # The no-change build is its ingest run alone: no transform run planned checks it would not run.
        second_runs = instance.get_runs()[:1]
        assert [r.tags["treasury/stage"] for r in second_runs] == ["ingest"]
        evaluations = [
            e.dagster_event.event_specific_data
            for e in instance.all_logs(second_runs[0].run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
        ]
        reused = [e for e in evaluations if "reused_from_run" in e.metadata]
        assert len(reused) == len(SUITES) and all(e.passed for e in evaluations)  # same table, same answer
        assert {e.metadata["reused_from_run"].value for e in reused} == {run.run_id}
        assert_every_check_has_a_real_result(instance)

    # One business day later: only what depends on the sources with new data is rebuilt; the rest, and their
    # checks, keep the results of the first build.
    next_day = date(2025, 7, 1)
    with serve(emulated(as_of=next_day)) as root:
        point_sources_at(monkeypatch, base_urls(root))
        code, third = _build(["build", "--as-of", next_day.isoformat()])
    assert code == 0, third
    with dg.DagsterInstance.from_config(str(home)) as instance:
        transform = next(r for r in instance.get_runs() if r.tags["treasury/stage"] == "transform")
        rebuilt = set(transform.tags["treasury/rebuilds"].split(","))
        assert "par_yield_curve" in rebuilt and "cftc_tff" not in rebuilt and "tic_holdings" not in rebuilt, rebuilt
        assert re.search(r"^  rebuilding what depends on .*par_yield_curve \(new or revised data\)", third, re.M), third
        positioning = dg.AssetKey(["marts", "fct_futures_positioning"])
        curve = dg.AssetKey(["marts", "mart_yield_curve_daily"])
        assert instance.get_latest_materialization_event(positioning).run_id == runs[1].run_id  # the first build's
        assert instance.get_latest_materialization_event(curve).run_id == transform.run_id
        assert_every_check_has_a_real_result(instance)


def assert_every_check_has_a_real_result(instance: dg.DagsterInstance) -> None:
    """The latest execution of every asset check is a real result (passed or failed), never planned or skipped."""
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    from dagster_project.definitions import defs

    keys = list(defs().resolve_asset_graph().asset_check_keys)
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    missing = [k.to_user_string() for k in keys if k not in latest]
    assert missing == []
    done = (AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED)
    not_real = {k.to_user_string(): r.status.value for k, r in latest.items() if r.status not in done}
    assert not_real == {}
