"""The dbt unit tests as blocking asset checks on the models they test.

They run inside the one `dbt build` of the run (transform/assets.py), just before their model; a failing unit test
makes dbt skip the model and everything downstream, and fails the build step with the test named, so a build whose
logic broke is never published. This step reports each unit test's result, read from the tested model's
materialization in this run.
"""

import json

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from dagster_project.defs.transform.assets import UNIT_TEST_METADATA, warehouse_models
from dagster_project.lib.dbt import DBT_PROJECT


def _unit_tests() -> dict[dg.AssetCheckKey, dict]:
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    return {
        dg.AssetCheckKey(get_asset_key_for_model([warehouse_models()], test["model"]), test["name"]): test
        for test in manifest.get("unit_tests", {}).values()
    }


def report_unit_tests(context: dg.AssetCheckExecutionContext):
    for key in context.selected_asset_check_keys:
        event = context.instance.get_latest_materialization_event(key.asset_key)
        results = {}
        if event is not None and event.run_id == context.run.run_id and event.asset_materialization is not None:
            recorded = event.asset_materialization.metadata.get(UNIT_TEST_METADATA)
            results = recorded.value if recorded is not None else {}
        result = results.get(key.name, {"status": "not run", "message": "dbt did not run this unit test in this run"})
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=result["status"] == "pass",
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"status": result["status"], "message": result["message"], "seconds": result.get("seconds", 0.0)},
        )


@dg.definitions
def unit_test_checks() -> dg.Definitions:
    # Declared when the definitions load, from the manifest the dbt assets prepared (nothing runs at import).
    checks = dg.multi_asset_check(
        name="dbt_unit_tests",
        specs=[
            dg.AssetCheckSpec(
                name=key.name,
                asset=key.asset_key,
                blocking=True,
                description=f"dbt unit test: {test.get('description') or key.name}",
            )
            for key, test in _unit_tests().items()
        ],
        can_subset=True,
    )(report_unit_tests)
    return dg.Definitions(asset_checks=[checks])
