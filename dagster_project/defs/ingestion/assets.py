"""One Dagster asset per raw table, from the plain dlt sources in ingestion/.

Asset keys are [source, table], which is what dbt's `source('<source>', '<table>')` resolves to, so the
lineage runs unbroken from the API to the marts. Each source reads its host from dlt's configuration;
in sample mode whoever started the emulator (`treasury build|dev --sample`) pointed it there.
"""

from datetime import datetime

import dagster as dg
import duckdb
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from dagster_project.lib.fingerprint import DATA_VERSION_TAG, table_fingerprint
from dagster_project.lib.warehouse import Warehouse
from ingestion import settings
from ingestion.common.errors import SourceHTTPError, find_cause
from ingestion.common.lock import source_scope
from ingestion.common.records import DriftReport
from ingestion.pipelines import (
    configured_host,
    dataset_name,
    declared_pipeline,
    make_pipeline,
    make_source,
    reads_public_host,
)
from ingestion.registry import NAMES, SUITES

# A source still failing after the HTTP client's own bounded retries is retried as a step, later.
STEP_RETRIES = 2
STEP_RETRY_SECONDS = 120


def table_stats(warehouse: Warehouse, source: str, *, content: bool = False) -> dict[str, tuple]:
    """(rows, latest data date[, content fingerprint]) per raw table of a source; empty before its first load."""
    if not warehouse.exists():
        return {}
    stats = {}
    with warehouse.connect() as con:
        for (src, table), suite in SUITES.items():
            if src != source:
                continue
            try:
                stats[table] = con.execute(
                    f'select count(*), max("{suite.date_column}") from {dataset_name(source)}."{table}"'
                ).fetchone()
            except duckdb.CatalogException:
                continue
            if content:
                stats[table] += (table_fingerprint(con, dataset_name(source), table),)
    return stats


def _previous_version(context: dg.AssetExecutionContext, key: dg.AssetKey) -> str | None:
    event = context.instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return None
    return event.asset_materialization.tags.get(DATA_VERSION_TAG)


class RawTableTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        source = data.resource.source_name
        return spec.replace_attributes(
            key=dg.AssetKey([source, data.resource.name]),
            deps=[],
            group_name="ingestion",
            description=f"raw_{source}.{data.resource.name}: loaded by dlt from the public API "
            f"(or the host dlt's configuration names, e.g. the built-in emulator in sample mode). See ingestion/{source}.",
        )


def _ingestion_assets(name: str) -> dg.AssetsDefinition:
    @dlt_assets(
        # Declared for the asset specs only (resources, names): each run makes its own, as of its date, on its warehouse.
        dlt_source=make_source(name, None, datetime.now(settings.NEW_YORK).date(), DriftReport()),
        dlt_pipeline=declared_pipeline(name),
        name=f"ingest_{name}",
        dagster_dlt_translator=RawTableTranslator(),
        pool="duckdb_writer",
    )
    def _assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource, warehouse: Warehouse):
        as_of = warehouse.as_of_date
        host = configured_host(name)
        sample = not reads_public_host(name)  # the emulator (sample mode) or another server
        before = table_stats(warehouse, name)
        # One writer (a concurrent CLI build makes this step fail); on a PostgreSQL-catalog lake, one per source.
        with warehouse.writer_lock(source_scope(name)):
            drift = DriftReport()
            source = make_source(name, None, as_of, drift)
            pipeline = make_pipeline(name, warehouse.target)
            try:
                events = list(dlt.run(context=context, dlt_source=source, dlt_pipeline=pipeline))
            except Exception as exc:
                transient = find_cause(exc, SourceHTTPError)
                if transient is None or not transient.transient:
                    raise
                context.log.warning(f"{transient}; retrying the step in {STEP_RETRY_SECONDS}s")
                raise dg.RetryRequested(max_retries=STEP_RETRIES, seconds_to_wait=STEP_RETRY_SECONDS) from exc
        after = table_stats(warehouse, name, content=True)
        for event in events:
            table = event.asset_key.path[-1]
            rows, latest, content = after.get(table, (0, None, "missing"))
            previous = _previous_version(context, event.asset_key)
            extra = {
                # Did this load change the table? Its content fingerprint is the asset's data version, so the UI
                # and the build's plan (lib/changes.py) see an unchanged reload as unchanged.
                "changed_by_load": dg.MetadataValue.bool(previous != content),
                "sample_data": dg.MetadataValue.bool(sample),
                "data_label": f"SAMPLE or mirror: {host}" if sample else "public API",
                "data_host": host,
                "as_of": str(as_of),
                "rows_before_load": before.get(table, (0, None))[0],
                "rows_in_table": rows,
                "dagster/row_count": rows,
                "latest_data_date": str(latest) if latest else "none",
                "schema_drift": drift.describe() or "none",
            }
            metadata = {**(event.metadata or {}), **extra}
            # dlt yields MaterializeResult (a named tuple) or AssetMaterialization, by dagster-dlt version.
            yield (
                event._replace(metadata=metadata, data_version=dg.DataVersion(content))
                if isinstance(event, dg.MaterializeResult)
                else dg.AssetMaterialization(
                    asset_key=event.asset_key,
                    description=event.description,
                    metadata={**event.metadata, **metadata},
                    tags={**(event.tags or {}), DATA_VERSION_TAG: content},
                )
            )

    return _assets


@dg.definitions
def ingestion_assets() -> dg.Definitions:
    return dg.Definitions(assets=[_ingestion_assets(name) for name in NAMES])
