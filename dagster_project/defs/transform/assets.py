"""Every dbt seed and model as an asset, and every dbt test as an asset check (errors block downstream)."""

import json
import shutil
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from dagster_project.defs.transform.project import DBT_PROJECT
from ingestion import settings
from ingestion.calendar import point_in_time_cutoffs
from ingestion.common.lock import writer_lock
from ingestion.common.warehouse import row_counts


def prune_target(invocation) -> None:
    """dagster-dbt gives each invocation its own folder under dbt/target (about 9 MB): remove it once read, so
    the folder does not grow with every build."""
    shutil.rmtree(invocation.target_path, ignore_errors=True)


class WarehouseTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference_data"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "transform"


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=WarehouseTranslator(),
    pool="duckdb_writer",
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    # dbt holds DuckDB's write lock while it runs, so rows are counted after it ends: the events are held until
    # then and released with `dagster/row_count` added (dagster-dbt's fetch_row_counts would query mid-run).
    events, failure = [], None
    try:
        # Unit tests run once, as their own checks (unit_tests.py), after the models.
        # Point in time: the models keep only what was published by the as-of date (see macros/published_by.sql).
        cutoffs = json.dumps(point_in_time_cutoffs(settings.as_of()))
        args = ["build", "--exclude-resource-type", "unit_test", "--vars", cutoffs]
        with writer_lock(settings.warehouse_path()):
            invocation = dbt.cli(args, context=context)
            try:
                events.extend(invocation.stream())
            finally:
                prune_target(invocation)
    except DagsterDbtCliRuntimeError as exc:  # a failed dbt build: still report what it did, then fail the step
        failure = exc
    # Asset keys are [schema, name]: the relation dbt built.
    relations = {
        e.output_name: tuple(context.asset_key_for_output(e.output_name).path[-2:])
        for e in events
        if isinstance(e, dg.Output)
    }
    counts = row_counts(settings.warehouse_path(), relations.values())
    for event in events:
        if isinstance(event, dg.Output) and relations[event.output_name] in counts:
            event = event.with_metadata({**event.metadata, "dagster/row_count": counts[relations[event.output_name]]})
        yield event
    if failure is not None:
        raise failure
