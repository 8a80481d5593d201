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
from collections.abc import Callable
from datetime import UTC, date, datetime

import dagster as dg
import duckdb

from dagster_project.defs.quality.checks import FRESHNESS_CHECKS
from dagster_project.lib import release_calendar
from dagster_project.lib.build_status import BUILD_TAG, STAGE_TAG
from dagster_project.lib.raw_suites import SUITES
from ingestion import settings
from ingestion.calendar import is_business_day
from ingestion.common.warehouse import connect
from ingestion.pipelines import SOURCE_NAMES

TIMEZONE = "America/New_York"


def raw_keys(source: str) -> list[dg.AssetKey]:
    return [dg.AssetKey([s, table]) for s, table in SUITES if s == source]


PUBLISH_GROUP = dg.AssetSelection.groups("publish")
REFRESH_JOBS = {
    source: dg.define_asset_job(
        f"refresh_{source}",
        selection=dg.AssetSelection.assets(*raw_keys(source)).downstream() - PUBLISH_GROUP,
        description=f"Load {source}, rebuild and test every model downstream of it; `publish` follows in its own run.",
        tags={"source": source},
    )
    for source in SOURCE_NAMES
}
REFRESH_ALL = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.all(),
    description="Everything in one run: all eight sources, the whole dbt project with its tests, the raw-table checks, "
    "publish. In one run a failed source stops everything after it: the daily schedule and `treasury build` run "
    "the three stage jobs instead (ingest_all, transform_all, publish).",
)
# The build's three stages (lib/build.py: `treasury build` runs them in-process; continue_the_build chains them).
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
# stage -> job, in order: what `treasury build` runs (lib/build.py) and this module's sensor chains.
STAGES = {"ingest": INGEST_ALL, "transform": TRANSFORM_ALL, "publish": PUBLISH}
CHECK_FRESHNESS = dg.define_asset_job(
    "check_freshness",
    selection=dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    description="Only the freshness checks: is every release that is due by now in the warehouse?",
)


def _day(context: dg.ScheduleEvaluationContext) -> date:
    return context.scheduled_execution_time.astimezone(release_calendar.NEW_YORK).date()


def auctions_on(day: date) -> list[str] | None:
    """Auctions scheduled on `day` per the published calendar (the serving file); None when it can't be read."""
    try:
        with connect(settings.serving_path()) as con:
            rows = con.execute(
                "select security_term || ' ' || security_type from staging.stg_treasury_auctions__upcoming_auctions "
                "where auction_date = ? order by 1",
                [day],
            ).fetchall()
    except duckdb.Error:
        return None
    return [r for (r,) in rows]


def _on_release_days(
    name: str, cron: str, source: str, description: str, releases_on: Callable[[date], bool], nothing_released: str
) -> dg.ScheduleDefinition:
    """A schedule for one source that runs only on the days `releases_on` says the source publishes."""

    @dg.schedule(
        name=name, cron_schedule=cron, job=REFRESH_JOBS[source], execution_timezone=TIMEZONE, description=description
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        day = _day(context)
        if not releases_on(day):
            return dg.SkipReason(nothing_released.format(day=day))
        return dg.RunRequest(run_key=f"{source}:{day}")

    return _schedule


par_yields_on_business_day_evenings = _on_release_days(
    "par_yields_on_business_day_evenings",
    "30 18 * * 1-5",
    "par_yield_curve",
    "Business-day evenings at 18:30, after the Treasury publishes the day's curve.",
    is_business_day,
    "{day} is a bond-market holiday: no curve is published",
)
cftc_on_release_evenings = _on_release_days(
    "cftc_on_release_evenings",
    "0 17 * * 1-5",
    "cftc_tff",
    "17:00 on release days: Fridays, or the next business day after a week with a federal holiday.",
    release_calendar.is_cftc_release_day,
    "the CFTC releases no TFF report on {day}",
)
tic_around_monthly_release = _on_release_days(
    "tic_around_monthly_release",
    "30 16 15-21 * *",
    "tic_holdings",
    "16:30 on business days from the 15th to the 21st, the window of TIC's monthly release.",
    release_calendar.is_tic_release_window,
    "{day} is not a business day in TIC's release window",
)

primary_dealers_on_thursday_evenings = _on_release_days(
    "primary_dealers_on_thursday_evenings",
    "45 16 * * 4",
    "primary_dealers",
    "Thursdays at 16:45, after the NY Fed publishes the previous week's dealer statistics (about 16:15).",
    lambda day: True,
    "",
)
funding_rates_on_business_day_mornings = _on_release_days(
    "funding_rates_on_business_day_mornings",
    "30 8 * * 1-5",
    "funding_rates",
    "Business-day mornings at 08:30, after SOFR and the other reference rates for the day before (about 08:00).",
    is_business_day,
    "{day} is a bond-market holiday: no reference rates are published",
)
fed_custody_on_h41_evenings = _on_release_days(
    "fed_custody_on_h41_evenings",
    "0 18 * * 4",
    "fed_custody",
    "Thursdays at 18:00, after the H.4.1 (16:30) and FRED's update of the custody holdings.",
    lambda day: True,
    "",
)
treasury_debt_on_federal_business_days = _on_release_days(
    "treasury_debt_on_federal_business_days",
    "0 16 * * 1-5",
    "treasury_debt",
    "Federal business days at 16:00: Debt to the Penny for the day before, and the MSPD on its fourth business day.",
    release_calendar.is_federal_business_day,
    "{day} is a federal holiday: FiscalData publishes no Debt to the Penny",
)


@dg.schedule(
    cron_schedule="30 13 * * 1-5",
    job=REFRESH_JOBS["treasury_auctions"],
    execution_timezone=TIMEZONE,
    description="13:30 on auction days (per upcoming_auctions), after the 11:30 and 13:00 results.",
)
def auctions_on_auction_day_afternoons(context: dg.ScheduleEvaluationContext):
    day = _day(context)
    scheduled = auctions_on(day)
    if scheduled == []:
        return dg.SkipReason(f"no auction is scheduled on {day}")
    # When the calendar cannot be read (no serving file yet), refresh anyway: an extra run costs little.
    return dg.RunRequest(run_key=f"treasury_auctions:{day}", tags={"auctions": ", ".join(scheduled or ["unknown"])})


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


@dg.sensor(
    name="continue_the_build",
    jobs=[TRANSFORM_ALL, PUBLISH],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the next stage when a run ends, whatever its outcome: transform_all after ingest_all, "
    "publish after transform_all or a refresh_<source> job (not when dbt found nothing new). `treasury build` "
    "chains its own runs.",
)
def continue_the_build(context: dg.SensorEvaluationContext):
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
        requests.append(
            dg.RunRequest(
                run_key=f"{following}-after-{run.run_id}",
                job_name=following,
                tags={BUILD_TAG: build, STAGE_TAG: stage},
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
        schedules=[
            par_yields_on_business_day_evenings,
            auctions_on_auction_day_afternoons,
            cftc_on_release_evenings,
            tic_around_monthly_release,
            primary_dealers_on_thursday_evenings,
            funding_rates_on_business_day_mornings,
            fed_custody_on_h41_evenings,
            treasury_debt_on_federal_business_days,
            full_refresh_daily,
            freshness_every_morning,
        ],
    )
