"""One Dagster asset per raw table, from the plain dlt sources in ingestion/.

Asset keys are [source, table], which is what dbt's `source('<source>', '<table>')` resolves to, so the
lineage runs unbroken from the API to the marts. In sample mode each run serves the API emulator on a
loopback port for its duration, exactly as `treasury ingest --sample` does.
"""

from contextlib import ExitStack

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingestion import settings
from ingestion.common.records import DriftReport
from ingestion.pipelines import SOURCE_NAMES, make_pipeline, make_source, sample_base_urls


class RawTableTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        source = data.resource.source_name
        return spec.replace_attributes(
            key=dg.AssetKey([source, data.resource.name]),
            deps=[],
            group_name="ingestion",
            description=f"raw_{source}.{data.resource.name}: loaded by dlt from the public API "
            f"(or the built-in emulator in sample mode). See ingestion/{source}.",
        )


def _ingestion_assets(name: str) -> dg.AssetsDefinition:
    @dlt_assets(
        dlt_source=make_source(name, None, settings.as_of(), DriftReport()),
        dlt_pipeline=make_pipeline(name, settings.warehouse_path()),
        name=f"ingest_{name}",
        dagster_dlt_translator=RawTableTranslator(),
        pool="duckdb_writer",
    )
    def _assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource):
        as_of = settings.as_of()
        sample = settings.sample_mode()
        with ExitStack() as stack:
            urls = stack.enter_context(sample_base_urls(as_of)) if sample else {}
            drift = DriftReport()
            source = make_source(name, urls.get(name), as_of, drift)
            pipeline = make_pipeline(name, settings.warehouse_path())
            for event in dlt.run(context=context, dlt_source=source, dlt_pipeline=pipeline):
                extra = {"sample_data": sample, "as_of": str(as_of), "schema_drift": drift.describe() or "none"}
                metadata = {**(event.metadata or {}), **extra}
                # dlt yields MaterializeResult (a named tuple) or AssetMaterialization, by dagster-dlt version.
                yield (
                    event._replace(metadata=metadata)
                    if isinstance(event, dg.MaterializeResult)
                    else event.with_metadata(metadata)
                )

    return _assets


@dg.definitions
def ingestion_assets() -> dg.Definitions:
    return dg.Definitions(assets=[_ingestion_assets(name) for name in SOURCE_NAMES])
