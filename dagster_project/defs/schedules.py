"""Jobs per source and for everything, scheduled on the sources' release calendars (America/New_York).

Each source job refreshes the source's raw tables and every model downstream of them (with their checks); the
publish step runs after it, in a run of its own (`continue_the_build`): within one run Dagster skips every step
after a failed one, so a publish step inside the run could never publish the healthy sources when one fails. The
daily refresh is the same build `treasury build` runs: `ingest_all`, then `transform_all`, then `publish`, each
started by the sensor when the one before ends, whatever its outcome (lib/build_status.py holds the blocked sources'
marts back). Schedules are created stopped; switch them on in the UI (Automation) or with `dg launch`/the GraphQL
API. Days on which nothing is released are skipped with a reason, using the same release calendar as the freshness
checks.
"""

import time
from datetime import UTC, datetime

import dagster as dg
import duckdb

from dagster_project.defs.quality.checks import FRESHNESS_CHECKS
from dagster_project.lib.build_status import BUILD_TAG, STAGE_TAG, blocked_sources
from dagster_project.lib.changes import REBUILDS_TAG, TransformPlan, plan_transform
from dagster_project.lib.warehouse import Warehouse, run_created_at
from ingestion import settings
from ingestion.common.source import Source
from ingestion.registry import SOURCES, SUITES

TIMEZONE = "America/New_York"


def raw_keys(source: Source) -> list[dg.AssetKey]:
    return [dg.AssetKey([source.name, table]) for table in source.tables]


PUBLISH_GROUP = dg.AssetSelection.groups("publish")
REFRESH_JOBS = {
    source.name: dg.define_asset_job(
        f"refresh_{source.name}",
        selection=dg.AssetSelection.assets(*raw_keys(source)).downstream() - PUBLISH_GROUP,
        description=f"Load {source.name}, rebuild and test every model downstream of it; `publish` follows in its "
        "own run.",
        tags={"source": source.name},
    )
    for source in SOURCES.values()
}
REFRESH_ALL = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.all(),
    description="Everything in one run: every source, the whole dbt project with its tests, the raw-table checks, "
    "publish. In one run a failed source stops everything after it: the daily schedule and `treasury build` run "
    "the three stage jobs instead (ingest_all, transform_all, publish).",
)
# The build's three stages (runner/build.py: `treasury build` runs them in-process; continue_the_build chains them).
INGEST_ALL = dg.define_asset_job(
    "ingest_all",
    selection=dg.AssetSelection.groups("ingestion"),
    description="Stage 1 of a build: every source and the checks on its raw tables. A failing source fails alone.",
)
TRANSFORM_ALL = dg.define_asset_job(
    "transform_all",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("ingestion") - PUBLISH_GROUP,
    description="Stage 2: dbt build (seeds, models, data and unit tests), leaving out the sources whose load or "
    "blocking check failed and everything downstream of them.",
)
PUBLISH = dg.define_asset_job(
    "publish",
    selection=PUBLISH_GROUP,
    description="Stage 3: the serving file (held-back marts at their last good version, marts._build_status) and "
    "the stress report.",
)
# stage -> job, in order: what `treasury build` runs (runner/build.py) and this module's sensor chains.
STAGES = {"ingest": INGEST_ALL, "transform": TRANSFORM_ALL, "publish": PUBLISH}
CHECK_FRESHNESS = dg.define_asset_job(
    "check_freshness",
    selection=dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    description="Only the freshness checks: is every release that is due by now in the warehouse?",
)


def _refresh_schedule(source: Source) -> dg.ScheduleDefinition:
    """The source's refresh job on its release calendar: a cron in New York time, skipping the days on which the
    calendar says nothing is released (ingestion/<source>/releases.py)."""
    refresh = source.refresh

    @dg.schedule(
        name=refresh.schedule,
        cron_schedule=refresh.cron,
        job=REFRESH_JOBS[source.name],
        execution_timezone=TIMEZONE,
        description=refresh.description,
    )
    def _schedule(context: dg.ScheduleEvaluationContext, warehouse: Warehouse):
        day = context.scheduled_execution_time.astimezone(settings.NEW_YORK).date()
        planned = refresh.plan(day, warehouse.serving_file)
        if planned.skip is not None:
            return dg.SkipReason(planned.skip)
        return dg.RunRequest(run_key=f"{source.name}:{day}", tags=planned.tags)

    return _schedule


REFRESH_SCHEDULES = [_refresh_schedule(source) for source in SOURCES.values()]

full_refresh_daily = dg.ScheduleDefinition(
    name="full_refresh_daily",
    cron_schedule="0 6 * * *",
    job=INGEST_ALL,
    execution_timezone=TIMEZONE,
    description="Every day at 06:00: the whole build (ingest_all, then transform_all and publish, chained by "
    "continue_the_build), so a missed or failed source run is caught up by morning.",
)

# Which stage follows a finished run of each job.
NEXT_STAGE = {"ingest_all": "transform_all", **{job.name: "publish" for job in REFRESH_JOBS.values()}}
NEXT_STAGE["transform_all"] = "publish"


def _materialized_marts(instance: dg.DagsterInstance, run_id: str) -> bool:
    return any(
        record.dagster_event is not None and record.dagster_event.asset_key.path[0] == "marts"
        for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    )


def _build_settings(instance: dg.DagsterInstance, run: dg.DagsterRun, warehouse: Warehouse) -> Warehouse:
    """The settings a build's next stage runs with: the point in time its runs had (the finished run's configured
    one, else when the build's first run was created), so every stage of a build has the same cut-offs."""
    configured = run.run_config.get("resources", {}).get("warehouse", {}).get("config", {}).get("as_of")
    if configured or warehouse.as_of:
        return warehouse.at(configured or warehouse.as_of)
    created = run_created_at(instance, run.tags.get(BUILD_TAG, run.run_id)) or run_created_at(instance, run.run_id)
    return warehouse.at(settings.format_point_in_time(created)) if created else warehouse.pinned()


def _transform_plan(context: dg.SensorEvaluationContext, warehouse: Warehouse) -> TransformPlan:
    blocked = blocked_sources(context.instance, SUITES)
    try:
        return plan_transform(context.instance, warehouse.target, warehouse.serving_file, warehouse.cutoffs(), blocked)
    except duckdb.Error as exc:  # the warehouse is busy (another writer) or unreadable: rebuild everything
        return TransformPlan(True, f"the warehouse could not be compared with the published build ({exc})")


@dg.sensor(
    name="continue_the_build",
    jobs=[TRANSFORM_ALL, PUBLISH],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the next stage when a run ends, whatever its outcome: transform_all after ingest_all, with only "
    "the models downstream of the sources whose data changed since the published build (none changed: no run); "
    "publish after transform_all or a refresh_<source> job. `treasury build` chains its own runs.",
)
def continue_the_build(context: dg.SensorEvaluationContext, warehouse: Warehouse):
    finished = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
    if context.cursor is None:  # first tick: start from now, not from the history
        return dg.SensorResult(cursor=str(time.time()), skip_reason="watching runs that end from now on")
    since = float(context.cursor)
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(job_name=None, statuses=finished, updated_after=datetime.fromtimestamp(since, UTC)),
        order_by="update_timestamp",
        ascending=True,
    )
    requests, latest = [], since
    for record in records:
        run, latest = record.dagster_run, max(latest, record.update_timestamp.timestamp())
        following = NEXT_STAGE.get(run.job_name)
        if following is None or run.tags.get("treasury/command") == "treasury build":
            continue
        if following == "publish" and run.status == dg.DagsterRunStatus.SUCCESS:
            if not _materialized_marts(context.instance, run.run_id):
                continue  # dbt found nothing new: the serving file is current
        build = run.tags.get(BUILD_TAG, run.run_id)
        stage = "transform" if following == "transform_all" else "publish"
        pinned = _build_settings(context.instance, run, warehouse)
        tags, selection = {BUILD_TAG: build, STAGE_TAG: stage}, None
        if following == "transform_all":
            # As `treasury build` does: only what depends on a source that changed; nothing new, no run.
            plan = _transform_plan(context, pinned)
            if plan.nothing:
                context.log.info(f"after {run.run_id[:8]}: marts unchanged ({plan.reason})")
                continue
            tags[REBUILDS_TAG] = plan.tag()
            from dagster_project.defs.transform.assets import warehouse_models  # declared when the definitions load

            selection = plan.asset_selection(context.repository_def.asset_graph, warehouse_models().keys)
        requests.append(
            dg.RunRequest(
                run_key=f"{following}-after-{run.run_id}",
                job_name=following,
                tags=tags,
                asset_selection=selection,
                run_config={"resources": {"warehouse": pinned.run_config()}},
            )
        )
    return dg.SensorResult(run_requests=requests, cursor=str(latest))


freshness_every_morning = dg.ScheduleDefinition(
    name="freshness_every_morning",
    cron_schedule="0 9 * * *",
    job=CHECK_FRESHNESS,
    execution_timezone=TIMEZONE,
    description="Every day at 09:00: the freshness checks alone (a stale source warns in the UI).",
)


@dg.definitions
def schedules() -> dg.Definitions:
    return dg.Definitions(
        jobs=[*REFRESH_JOBS.values(), REFRESH_ALL, *STAGES.values(), CHECK_FRESHNESS],
        sensors=[continue_the_build],
        schedules=[*REFRESH_SCHEDULES, full_refresh_daily, freshness_every_morning],
    )
