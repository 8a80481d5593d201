"""Asset checks on the raw tables: a Great Expectations suite per table and freshness per source (warning).

A suite whose blocking expectations failed fails its check with ERROR severity and stops the run before
dbt reads the table, so bad data never reaches the marts or the serving file. A suite whose only failures
are warning expectations (publication artefacts) fails with WARN severity: the rows are named, nothing
is blocked. Which expectation failed, on how many rows, and example records (by key) are in the
check's metadata. Freshness compares what is loaded with what the source's release calendar says is
due by now (New York time); a stale source warns and blocks nothing.
"""

from pathlib import Path

import dagster as dg

from dagster_project.lib.fingerprint import DATA_VERSION_TAG, files_fingerprint, table_fingerprint
from dagster_project.lib.warehouse import Warehouse
from dagster_project.quality import engine
from dagster_project.quality.engine import SuiteOutcome, validate
from ingestion import settings
from ingestion.common.expectations import RawTableSuite
from ingestion.common.freshness import judged_at
from ingestion.common.source import Source
from ingestion.registry import SOURCES, SUITES


def _latest_load(context: dg.AssetCheckExecutionContext, key: dg.AssetKey) -> tuple[int | None, str | None]:
    """The latest load's row count before it, and the content fingerprint it recorded (its data version) when that
    load is this run's (else the table is fingerprinted here)."""
    event = context.instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return None, None
    value = event.asset_materialization.metadata.get("rows_before_load")
    version = event.asset_materialization.tags.get(DATA_VERSION_TAG) if event.run_id == context.run.run_id else None
    return (int(value.value) if value is not None else None), version


def _suite_metadata(outcome: SuiteOutcome, previous_rows: int | None) -> dict[str, object]:
    table = "\n".join(
        f"| {'pass' if o.success else '**FAIL**' if o.blocking else 'warn'} | {'blocks' if o.blocking else 'warns'} | "
        f"{o.view} | {o.expectation} | {o.columns} | "
        f"{o.rows_failed if o.rows_failed is not None else o.observed} | {o.examples[:2] if not o.success else ''} |"
        for o in outcome.outcomes
    )
    metadata: dict[str, object] = {
        "rows": outcome.rows,
        "rows_before_load": previous_rows if previous_rows is not None else "first load",
        "expectations_evaluated": len(outcome.outcomes),
        "expectations_failed": len(outcome.failed),
        "expectations_warned": len(outcome.warnings),
        "results": dg.MetadataValue.md(
            "| result | severity | view | expectation | columns | failed rows / observed | examples |\n"
            "|---|---|---|---|---|---|---|\n" + table
        ),
    }
    for failure in outcome.failed + outcome.warnings:
        kind = "failed" if failure.blocking else "warning"
        metadata[f"{kind}: {failure.view}.{failure.expectation}({failure.columns})"] = dg.MetadataValue.json(
            {
                "rows_failed": failure.rows_failed,
                "rows_checked": failure.rows_checked,
                "observed": failure.observed,
                "examples": failure.examples,
                "rule": failure.description,
            }
        )
    return metadata


# The suites' code: a changed expectation, calendar or engine invalidates every reused result.
INGESTION = Path(settings.__file__).parent
SUITES_VERSION = files_fingerprint(
    [
        *sorted(INGESTION.glob("*/expectations.py")),
        INGESTION / "common" / "expectations.py",
        INGESTION / "calendar.py",
        Path(engine.__file__),
        Path(__file__),
    ]
)
INPUT_FINGERPRINT = "input_fingerprint"


def _reuse_unchanged(
    context: dg.AssetCheckExecutionContext, check: dg.AssetCheckKey, fingerprint: str
) -> dg.AssetCheckResult | None:
    """The last result of this check, when it was computed on the same table content by the same suite (nothing was
    loaded since, or only values equal to those already there): validating again would give the same answer."""
    # The latest execution of an earlier run (this run's own is only planned yet).
    history = context.instance.event_log_storage.get_asset_check_execution_history(check, limit=2)
    record = next((r for r in history if r.run_id != context.run.run_id), None)
    event = record.event if record is not None else None
    evaluation = event.dagster_event.event_specific_data if event is not None and event.dagster_event else None
    if not isinstance(evaluation, dg.AssetCheckEvaluation):
        return None
    recorded = evaluation.metadata.get(INPUT_FINGERPRINT)
    if recorded is None or recorded.value != fingerprint:
        return None
    return dg.AssetCheckResult(
        passed=evaluation.passed,
        severity=evaluation.severity,
        metadata={**evaluation.metadata, "reused_from_run": record.run_id},
        description=f"table unchanged since run {record.run_id[:8]}: {evaluation.description or ''}".rstrip(": "),
    )


def _no_rows_yet(con, schema: str, table: str) -> str | None:
    """A warning when the table has no rows (or does not exist yet): nothing to validate, nothing wrong."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
    ).fetchone()[0]
    if not exists:
        return f"no rows loaded yet: {schema}.{table} does not exist (the source has answered no rows so far)"
    if con.execute(f'select count(*) from {schema}."{table}"').fetchone()[0] == 0:
        return f"no rows loaded yet: {schema}.{table} is empty (the source has answered no rows so far)"
    return None


def _great_expectations_check(suite: RawTableSuite) -> dg.AssetChecksDefinition:
    key = dg.AssetKey([suite.source, suite.table])

    @dg.asset_check(
        asset=key,
        name="great_expectations",
        blocking=True,
        pool="duckdb_writer",
        description=f"Great Expectations suite {suite.name}: ranges, identities, identifiers, calendar and row count. "
        "A blocking expectation that fails stops everything downstream; a publication artefact warns with its rows.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        previous, loaded_version = _latest_load(context, key)
        with warehouse.connect() as con:
            empty = _no_rows_yet(con, f"raw_{suite.source}", suite.table)
            if empty is not None:
                context.log.warning(f"{suite.qualified}: {empty}")
                return dg.AssetCheckResult(
                    passed=False, severity=dg.AssetCheckSeverity.WARN, description=empty, metadata={"rows": 0}
                )
            content = loaded_version or table_fingerprint(con, f"raw_{suite.source}", suite.table)
            fingerprint = f"{SUITES_VERSION}:{content}"
            reused = _reuse_unchanged(context, dg.AssetCheckKey(key, "great_expectations"), fingerprint)
            if reused is not None:
                return reused
            outcome = validate(con, suite, previous)
        for failure in outcome.failed:
            context.log.error(f"{suite.qualified}: {failure.line()}")
        for warning in outcome.warnings:
            context.log.warning(f"{suite.qualified}: {warning.line()}")
        met = len(outcome.outcomes) - len(outcome.failed) - len(outcome.warnings)
        description = f"{met} of {len(outcome.outcomes)} expectations met on {outcome.rows:,} rows"
        if outcome.failed:
            description += "; BLOCKING: " + "; ".join(f.line() for f in outcome.failed)
        if outcome.warnings:
            description += "; warnings (publication artefacts, not blocking): " + "; ".join(
                w.line() for w in outcome.warnings
            )
        return dg.AssetCheckResult(
            # A blocking failure is an ERROR (stops everything downstream); warnings alone are a WARN.
            passed=not outcome.failed and not outcome.warnings,
            severity=dg.AssetCheckSeverity.ERROR if outcome.failed else dg.AssetCheckSeverity.WARN,
            metadata={**_suite_metadata(outcome, previous), INPUT_FINGERPRINT: fingerprint},
            description=description,
        )

    return _check


def _freshness_check(source: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([source.name, source.freshness_table]),
        name="fresh_per_release_calendar",
        blocking=False,
        pool="duckdb_writer",
        description=f"Is everything {source.name} has released by now loaded? Judged in New York time against its "
        f"release calendar (ingestion/{source.name}/releases.py); warns only.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        now = judged_at(warehouse.as_of_date)
        if warehouse.point_in_time.time() != settings.END_OF_DAY:  # a build at a time of day is judged then
            now = min(now, warehouse.point_in_time)
        with warehouse.connect() as con:
            verdict = source.assess(con, now)
        if not verdict.fresh:
            context.log.warning(verdict.description)
        return dg.AssetCheckResult(
            passed=verdict.fresh,
            severity=dg.AssetCheckSeverity.WARN,
            description=verdict.description,
            metadata={
                "judged_at_new_york": verdict.judged_at.isoformat(timespec="minutes"),
                "latest_loaded": str(verdict.latest_loaded),
                "due": str(verdict.due) if verdict.due else "per auction",
                "rule": verdict.rule,
                "missing": dg.MetadataValue.json(verdict.missing[:50]),
            },
        )

    return _check


GREAT_EXPECTATIONS_CHECKS = [_great_expectations_check(suite) for suite in SUITES.values()]
FRESHNESS_CHECKS = [_freshness_check(source) for source in SOURCES.values()]


@dg.definitions
def quality_checks() -> dg.Definitions:
    return dg.Definitions(asset_checks=[*GREAT_EXPECTATIONS_CHECKS, *FRESHNESS_CHECKS])
