"""`treasury build` as a user sees it: a line per step and the summary (no colour codes, under 40 lines), the run
recorded in DAGSTER_HOME with every asset materialized, and a second build with nothing new that reuses the check
results and skips dbt and publish, leaving the serving file as it was."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout

import dagster as dg
import pytest

from ingestion.registry import SUITES
from tests.conftest import ACTIVE_ALERTS_ON_AS_OF, use_sample_env
from tests.dagster_project.test_build_faults import digest


def _build(argv: list[str]) -> tuple[int, str]:
    """Exit status and everything the command printed, stdout then stderr (a user sees both)."""
    from dagster_project.runner.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.slow  # two whole builds
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
    assert re.search(r"^  dbt build \(seeds, models, tests\) +marts unchanged \(same raw data", second, re.M), second
    assert re.search(r"^  publish serving file +skipped", second, re.M), second
    assert digest(serving) == published
    with dg.DagsterInstance.from_config(str(home)) as instance:
        # The no-change build: its ingest and transform runs (no publish run: nothing to publish).
        second_runs = instance.get_runs()[:2]
        assert [r.tags["treasury/stage"] for r in second_runs] == ["transform", "ingest"]
        evaluations = [
            e.dagster_event.event_specific_data
            for latest in second_runs
            for e in instance.all_logs(latest.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
        ]
        reused = [e for e in evaluations if "reused_from_run" in e.metadata]
        assert len(reused) == len(SUITES) and all(
            e.passed for e in evaluations
        )  # each GX suite: same table, same answer
        assert {e.metadata["reused_from_run"].value for e in reused} == {run.run_id}
