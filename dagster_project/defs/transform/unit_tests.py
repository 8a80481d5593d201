"""The dbt unit tests as blocking asset checks on the models they test.

dagster-dbt reports dbt data tests as checks but not unit tests, so these run in their own step right
after the models (`dbt test --select test_type:unit`; the build step leaves them out so they run once)
and report one check per unit test. A failed unit test blocks everything downstream of its model,
so a build whose logic broke is never published.
"""

import json

import dagster as dg
from dagster_dbt import DbtCliResource, get_asset_key_for_model

from dagster_project.defs.transform.assets import prune_target, warehouse_models
from dagster_project.defs.transform.project import DBT_PROJECT
from ingestion import settings
from ingestion.common.lock import writer_lock


def _unit_tests() -> dict[dg.AssetCheckKey, dict]:
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    return {
        dg.AssetCheckKey(get_asset_key_for_model([warehouse_models], test["model"]), test["name"]): test
        for test in manifest.get("unit_tests", {}).values()
    }


UNIT_TESTS = _unit_tests()


@dg.multi_asset_check(
    name="dbt_unit_tests",
    specs=[
        dg.AssetCheckSpec(
            name=key.name,
            asset=key.asset_key,
            blocking=True,
            description=f"dbt unit test: {test.get('description') or key.name}",
        )
        for key, test in UNIT_TESTS.items()
    ],
    can_subset=True,
    pool="duckdb_writer",
)
def dbt_unit_tests(context: dg.AssetCheckExecutionContext, dbt: DbtCliResource):
    with writer_lock(settings.warehouse_path()):
        invocation = dbt.cli(
            ["test", "--select", "test_type:unit"], raise_on_error=False, manifest=DBT_PROJECT.manifest_path
        ).wait()
    try:
        results = {r["unique_id"]: r for r in invocation.get_artifact("run_results.json")["results"]}
    finally:
        prune_target(invocation)
    for key in context.selected_asset_check_keys:
        test = UNIT_TESTS[key]
        result = results.get(test["unique_id"], {"status": "not run", "message": "dbt did not run this unit test"})
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=result["status"] == "pass",
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "status": result["status"],
                "message": result.get("message") or "",
                "seconds": round(result.get("execution_time") or 0.0, 2),
            },
        )


@dg.definitions
def unit_test_checks() -> dg.Definitions:
    return dg.Definitions(asset_checks=[dbt_unit_tests])
