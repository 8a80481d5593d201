"""The alert sensor: after each publish, every new row of mart_stress_alerts goes once to each configured sink.

It launches no runs: each evaluation reads the published serving file (what passed every blocking check), delivers
what its cursor (alert keys per sink) does not hold yet, and reports what it sent and what failed in the tick. A
failed delivery stays out of the cursor and is tried again on the next tick (dagster_project/alerts/delivery.py).
"""

from datetime import date
from pathlib import Path

import dagster as dg

from dagster_project.alerts import delivery as alerts
from dagster_project.lib.dbt import SERVING_FILE


def evaluate(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    event = context.instance.get_latest_materialization_event(SERVING_FILE)
    if event is None or event.asset_materialization is None:
        return dg.SkipReason("nothing published yet")
    metadata = event.asset_materialization.metadata
    serving = Path(metadata["path"].value)
    if not serving.exists():
        return dg.SkipReason(f"the published serving file {serving} is gone")
    as_of = date.fromisoformat(metadata["as_of"].value) if "as_of" in metadata else date.today()
    since, until = alerts.window(as_of)
    delivered = alerts.Delivered.from_cursor(context.cursor)
    outcome = alerts.deliver(alerts.read_alerts(serving, since, until), alerts.sinks_from_env(serving), delivered)
    report = f"{outcome.summary()} (made public {since} to {until}, from {serving.name})"
    if outcome.failed:
        context.log.warning(report)
    else:
        context.log.info(report)
    return dg.SensorResult(cursor=delivered.to_cursor(), skip_reason=report)


deliver_stress_alerts = dg.sensor(
    name="deliver_stress_alerts",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After each publish, deliver each new row of mart_stress_alerts once to every sink (JSON-lines file; "
    "webhook and email when configured). Failed deliveries retry on the next tick and show in its reason.",
)(evaluate)


@dg.definitions
def alert_sensors() -> dg.Definitions:
    return dg.Definitions(sensors=[deliver_stress_alerts])
