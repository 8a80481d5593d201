"""The UI end to end: `treasury dev --sample` starts `dg dev` on a loopback port; through its GraphQL API we list
the assets, checks and schedules, launch the full job, and see it succeed and publish."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import duckdb
import pytest

from dagster_project.runner.build import PROJECT_ROOT
from ingestion.registry import SOURCES
from tests.conftest import AS_OF

pytestmark = pytest.mark.slow  # real processes and whole builds: `make test-fast` skips them

REPOSITORY = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    name location { name } jobs { name } schedules { name executionTimezone }
} } } }
"""
ASSETS = "{ assetNodes { assetKey { path } groupName assetChecksOrError { ... on AssetChecks { checks { name } } } } }"
LAUNCH = """
mutation Launch($selector: JobOrPipelineSelector!) {
  launchRun(executionParams: {selector: $selector, runConfigData: {}}) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""
RUN = "query Run($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


@pytest.fixture
def ui(tmp_path):
    port = free_port()
    env = dict(
        os.environ,
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        TREASURY_SERVING=str(tmp_path / "serving.duckdb"),
    )
    log = (tmp_path / "dg_dev.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_project.runner.cli",
            "dev",
            "--sample",
            "--as-of",
            AS_OF.isoformat(),
            "--warehouse",
            str(tmp_path / "warehouse.duckdb"),
            "--port",
            str(port),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, (tmp_path / "dg_dev.log").read_text()[-3000:]
            try:
                if graphql(port, REPOSITORY)["repositoriesOrError"]["nodes"]:
                    break
            except (OSError, KeyError, TypeError):
                pass
            assert time.monotonic() < deadline, (tmp_path / "dg_dev.log").read_text()[-3000:]
            time.sleep(2)
        yield port, tmp_path
    finally:
        # A service manager's stop: SIGTERM to `treasury dev` alone, which stops dg dev and everything it started.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_the_ui_lists_the_graph_and_runs_the_full_job(ui):
    port, folder = ui
    [repository] = graphql(port, REPOSITORY)["repositoriesOrError"]["nodes"]
    assert {"refresh_all", "refresh_par_yield_curve", "refresh_cftc_tff", "check_freshness"} <= {
        job["name"] for job in repository["jobs"]
    }
    schedules = {s["name"]: s["executionTimezone"] for s in repository["schedules"]}
    # One refresh schedule per source, the daily build and the morning freshness checks.
    assert len(schedules) == len(SOURCES) + 2 and set(schedules.values()) == {"America/New_York"}

    nodes = graphql(port, ASSETS)["assetNodes"]
    keys = {"/".join(node["assetKey"]["path"]): node for node in nodes}
    assert {"par_yield_curve/daily_par_yields", "marts/mart_treasury_stress_weekly", "publish/serving_file"} <= set(
        keys
    )
    assert len(keys) == 61  # 17 raw tables, 42 dbt seeds and models, the serving file and the report
    raw_checks = {c["name"] for c in keys["cftc_tff/tff_futures_only"]["assetChecksOrError"]["checks"]}
    assert raw_checks == {"great_expectations", "fresh_per_release_calendar"}
    mart_checks = {c["name"] for c in keys["marts/fct_auctions"]["assetChecksOrError"]["checks"]}
    assert "test_fct_auctions_demand_metrics" in mart_checks  # a dbt unit test
    assert sum(len(node["assetChecksOrError"]["checks"]) for node in nodes) == 195  # as in test_publish
    assert {node["groupName"] for node in nodes} == {
        "ingestion",
        "reference_data",
        "staging",
        "intermediate",
        "marts",
        "publish",
    }

    selector = {
        "repositoryLocationName": repository["location"]["name"],
        "repositoryName": repository["name"],
        "jobName": "refresh_all",
    }
    launched = graphql(port, LAUNCH, {"selector": selector})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 600
    while (status := graphql(port, RUN, {"id": run_id})["runOrError"]["status"]) not in (
        "SUCCESS",
        "FAILURE",
        "CANCELED",
    ):
        assert time.monotonic() < deadline, status
        time.sleep(3)
    assert status == "SUCCESS"
    with duckdb.connect(str(folder / "serving.duckdb"), read_only=True) as con:
        assert con.execute(
            "select count(*) from marts.fct_auctions where auction_date = '2025-04-08' and term_group = '3-Year'"
        ).fetchone() == (1,)
