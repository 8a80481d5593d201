"""The daemon's build is the CLI's: `continue_the_build` starts transform_all after ingest_all and publish after
transform_all or a source job, whatever their outcome, so one broken source never stops the others in scheduled runs
either."""

from __future__ import annotations

import time
from datetime import datetime

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.defs.schedules import continue_the_build, full_refresh_daily
from dagster_project.lib.warehouse import Warehouse
from ingestion import settings


def _run(instance: dg.DagsterInstance, job: str, status: dg.DagsterRunStatus, **tags: str) -> dg.DagsterRun:
    run = dg.DagsterRun(job_name=job, status=status, tags={"treasury/build": "b-1", **tags})
    return instance.add_run(run)


def test_the_stage_jobs_split_the_graph_and_publish_is_in_no_source_job():
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    keys = {
        name: set(definitions.resolve_job_def(name).asset_layer.selected_asset_keys)
        for name in ("ingest_all", "transform_all", "publish")
    }
    assert keys["ingest_all"] | keys["transform_all"] | keys["publish"] == {
        k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable
    }
    assert not keys["ingest_all"] & keys["transform_all"] and not keys["transform_all"] & keys["publish"]
    assert keys["publish"] == {dg.AssetKey(["publish", "serving_file"]), dg.AssetKey(["publish", "stress_report"])}
    job = definitions.resolve_job_def("refresh_cftc_tff")
    assert dg.AssetKey(["publish", "serving_file"]) not in job.asset_layer.selected_asset_keys
    assert dg.AssetKey(["marts", "fct_futures_positioning"]) in job.asset_layer.selected_asset_keys
    assert full_refresh_daily.job_name == "ingest_all"


def test_the_sensor_starts_the_next_stage_whatever_the_outcome(tmp_path):
    # No build published in this instance yet: the transform run it starts rebuilds everything (lib/changes.py).
    warehouse = Warehouse(path=str(tmp_path / "warehouse.duckdb"), serving_path=str(tmp_path / "serving.duckdb"))
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        first = continue_the_build(dg.build_sensor_context(instance=instance, resources={"warehouse": warehouse}))
        assert not first.run_requests and first.cursor  # it starts from now, not from the history
        since = str(time.time() - 1)
        _run(instance, "ingest_all", dg.DagsterRunStatus.FAILURE)  # one source failed
        failed_transform = _run(instance, "transform_all", dg.DagsterRunStatus.FAILURE)  # marts held back
        _run(instance, "refresh_cftc_tff", dg.DagsterRunStatus.SUCCESS)  # dbt found nothing new: no publish
        _run(instance, "ingest_all", dg.DagsterRunStatus.SUCCESS, **{"treasury/command": "treasury build"})
        _run(instance, "check_freshness", dg.DagsterRunStatus.SUCCESS)
        result = continue_the_build(
            dg.build_sensor_context(
                instance=instance, cursor=since, resources={"warehouse": warehouse}, definitions=defs()
            )
        )
        requested = [(r.job_name, r.tags["treasury/stage"], r.tags["treasury/build"]) for r in result.run_requests]
        assert requested == [("transform_all", "transform", "b-1"), ("publish", "publish", "b-1")], requested
        assert result.run_requests[1].run_key == f"publish-after-{failed_transform.run_id}"
        assert result.run_requests[0].tags["treasury/rebuilds"] == "everything"
        # Each stage runs as of the moment its build's runs were created (not when the sensor ticks): the cut-offs
        # a publication time passing mid-build would otherwise split.
        for request in result.run_requests:
            pinned = request.run_config["resources"]["warehouse"]["config"]
            assert pinned["path"] == warehouse.path
            moment = settings.parse_point_in_time(pinned["as_of"])
            assert abs((moment - datetime.now(settings.NEW_YORK)).total_seconds()) < 120, pinned["as_of"]
        # The cursor moved past them: the next tick asks for nothing again.
        again = continue_the_build(
            dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={"warehouse": warehouse})
        )
        assert not again.run_requests
