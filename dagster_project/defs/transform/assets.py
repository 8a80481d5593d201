"""Every dbt seed and model as an asset, and every dbt test as an asset check (errors block downstream).

One `dbt build` per run does it all, unit tests included: dbt runs each model's unit tests just before the model and
skips the model (and everything downstream) when one fails. dagster-dbt reports data tests as checks but not unit
tests, so their results ride on the tested model's materialization (`dbt_unit_tests` metadata) and the unit-test
checks (unit_tests.py) report them, without a second dbt invocation.
"""

import json
import shutil
from collections.abc import Mapping
from functools import cache
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from dagster_project.lib.build_status import (
    FRESH,
    HELD_BACK,
    PUBLISHED_SCHEMAS,
    RelationStatus,
    blocked_sources,
    held_back_summary,
    record_statuses,
    recorded_statuses,
    relation_statuses,
)
from dagster_project.lib.changes import full_refresh_reason
from dagster_project.lib.dbt import DBT_PROJECT, column_schemas, describe_test, load_manifest, prepare_manifest
from dagster_project.lib.warehouse import Warehouse
from ingestion.registry import SUITES

UNIT_TEST_METADATA = "dbt_unit_tests"


def prune_target(invocation) -> None:
    """dagster-dbt gives each invocation its own folder under dbt/target (about 9 MB): remove it once read, so
    the folder does not grow with every build."""
    shutil.rmtree(invocation.target_path, ignore_errors=True)


class WarehouseTranslator(DagsterDbtTranslator):
    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        # A check the UI can explain: the test in words, where dbt has no description for it.
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=describe_test(manifest["nodes"][unique_id]))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference_data"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "transform"


def unit_test_results(invocation, manifest: dict) -> dict[str, dict[str, dict]]:
    """model name -> unit test name -> {status, message, seconds}, from the invocation's run_results.json."""
    tests = manifest.get("unit_tests", {})
    by_model: dict[str, dict[str, dict]] = {}
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except FileNotFoundError:  # dbt stopped before writing results
        return by_model
    for result in results:
        test = tests.get(result["unique_id"])
        if test is not None:
            by_model.setdefault(test["model"], {})[test["name"]] = {
                "status": result["status"],
                "message": result.get("message") or "",
                "seconds": round(result.get("execution_time") or 0.0, 2),
            }
    return by_model


@cache
def warehouse_models() -> dg.AssetsDefinition:
    """Every dbt seed and model as one multi-asset, declared when the definitions load (not at import): the manifest
    is prepared then (`dbt parse` only when a project file changed), once per process."""

    @dbt_assets(
        manifest=prepare_manifest(),
        project=DBT_PROJECT,
        dagster_dbt_translator=WarehouseTranslator(),
        pool="duckdb_writer",
    )
    def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
        # dbt holds DuckDB's write lock while it runs, so rows are counted after it ends: the events are held until
        # then and released with `dagster/row_count` added (dagster-dbt's fetch_row_counts would query mid-run).
        events, failure, unit_tests = [], None, {}
        # The blast radius: a source whose latest load failed, or whose raw data failed a blocking check, is left out
        # with everything downstream of it; the rest is built and published (lib/build_status.py).
        # Which models are in the run (all, or those downstream of the sources that changed) was decided before it
        # started (lib/changes.py): dagster-dbt selects them.
        blocked = blocked_sources(context.instance, SUITES, context.run.run_id)
        for source, reason in blocked.items():
            context.log.error(f"holding back what depends on {source}: {reason}")
        exclude = [arg for source in sorted(blocked) for arg in ("--exclude", f"source:{source}+")]
        # The incremental marts recompute their recent window only, unless their earlier rows may be stale too.
        rebuild_whole = full_refresh_reason(context.instance, warehouse.target)
        if rebuild_whole:
            context.log.info(f"incremental marts rebuilt whole (--full-refresh): {rebuild_whole}")
        results: dict[str, dict] = {}
        try:
            with warehouse.writer_lock():
                invocation = dbt.cli(
                    ["build", "--vars", json.dumps(warehouse.dbt_vars()), *exclude]
                    + (["--full-refresh"] if rebuild_whole else []),
                    context=context,
                )
                try:
                    events.extend(invocation.stream())
                except DagsterDbtCliRuntimeError as exc:  # a failed dbt build: still report what it did, then fail
                    failure = exc
                finally:
                    unit_tests = unit_test_results(invocation, invocation.manifest)
                    results = _run_results(invocation)
                    prune_target(invocation)
        except DagsterDbtCliRuntimeError as exc:
            failure = exc
        statuses = relation_statuses(
            load_manifest(),
            results,
            _selected_models(context, load_manifest()),
            blocked,
            as_of=warehouse.as_of_date,
            run_id=context.run.run_id,
            schemas=PUBLISHED_SCHEMAS,
        )
        with warehouse.writer_lock(), warehouse.connect(read_only=False) as con:
            # A fresh relation this run left out (none of its sources changed: lib/changes.py) is confirmed as of this
            # build's date: its inputs are the same now. It keeps the run that built it.
            built = {(s.schema_name, s.table_name) for s in statuses}
            confirmed = [
                RelationStatus(schema, table, FRESH, None, warehouse.as_of_date, status.run_id)
                for (schema, table), status in recorded_statuses(con).items()
                if status.status == FRESH and (schema, table) not in built and schema in PUBLISHED_SCHEMAS
            ]
            record_statuses(con, statuses + confirmed)
        held_back = [s for s in statuses if s.status == HELD_BACK]
        # Asset keys are [schema, name]: the relation dbt built.
        relations = {
            e.output_name: tuple(context.asset_key_for_output(e.output_name).path[-2:])
            for e in events
            if isinstance(e, dg.Output)
        }
        counts = warehouse.row_counts(relations.values())
        # Each relation's columns with their types (and dbt's descriptions): the asset page's column list.
        schemas = column_schemas(warehouse.target, relations.values())
        # The run's settings and the cut-offs its marts were cut at, on every mart (computed once, by the resource).
        settings_metadata = {f"treasury/{k}": v for k, v in warehouse.describe().items()}
        for event in events:
            if isinstance(event, dg.Output):
                extra = {}
                if relations[event.output_name] in counts:
                    extra["dagster/row_count"] = counts[relations[event.output_name]]
                if relations[event.output_name] in schemas:
                    extra["dagster/column_schema"] = schemas[relations[event.output_name]]
                model = relations[event.output_name][1]
                if model in unit_tests:
                    extra[UNIT_TEST_METADATA] = dg.MetadataValue.json(unit_tests[model])
                if relations[event.output_name][0] == "marts":
                    extra.update(settings_metadata)
                event = event.with_metadata({**event.metadata, **extra})
            yield event
        if held_back:
            # Everything else was built and is published; the step fails so the run, and each held-back mart's page
            # in the UI, say what did not happen and why.
            marts = [s for s in held_back if s.schema_name == "marts"]
            raise dg.Failure(
                description=f"{len(marts)} marts held back ({len(held_back)} published tables): "
                + held_back_summary(held_back),
                metadata={"held_back": dg.MetadataValue.json({s.name: s.reason for s in held_back})},
            ) from failure
        if failure is not None:
            raise failure

    return warehouse_models


@dg.definitions
def transform_assets() -> dg.Definitions:
    return dg.Definitions(assets=[warehouse_models()])


def _run_results(invocation) -> dict[str, dict]:
    """run_results.json's results by unique_id (empty when dbt stopped before writing it)."""
    try:
        return {r["unique_id"]: r for r in invocation.get_artifact("run_results.json")["results"]}
    except FileNotFoundError:
        return {}


def _selected_models(context: dg.AssetExecutionContext, manifest: dict) -> list[str]:
    """The unique ids of the models this step was asked to build (asset keys are [schema, name])."""
    selected = {tuple(key.path[-2:]) for key in context.selected_asset_keys}
    return [
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and (node["schema"], node.get("alias") or node["name"]) in selected
    ]
