"""Publish: copy the checked marts (and staging, for drill-down) to the serving file, swapped in atomically.

It runs only after every upstream model and its blocking dbt tests succeeded in the run. The copy is
written to a temporary file and renamed over the serving file, so a reader that already has the old
file open keeps reading it, a new connection sees the new one, and a failed build never replaces it.
"""

import os

import dagster as dg

from dagster_project.lib.dbt import INPUTS_FINGERPRINT, SERVING_STAT, inputs_fingerprint, serving_stat
from ingestion import settings
from ingestion.calendar import point_in_time_cutoffs
from ingestion.common.lock import writer_lock
from ingestion.common.warehouse import connect

PUBLISHED_SCHEMAS = ("marts", "staging")
SOURCE_ALIAS = "treasury_build_source"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dg.definitions
def publish_assets() -> dg.Definitions:
    from dagster_project.defs.transform.assets import warehouse_models

    upstream = [key for key in warehouse_models.keys if key.path[0] in PUBLISHED_SCHEMAS]

    @dg.asset(
        key=["publish", "serving_file"],
        deps=upstream,
        group_name="publish",
        pool="duckdb_writer",
        description="A read-only copy of the marts and staging schemas for BI tools and SQL users (data/serving.duckdb).",
    )
    def serving_file(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        warehouse, serving = settings.warehouse_path().resolve(), settings.serving_path().resolve()
        if serving == warehouse:
            raise ValueError(f"TREASURY_SERVING and TREASURY_WAREHOUSE are the same file ({serving}): they must differ")
        tmp = serving.with_name(serving.name + ".tmp")
        tmp.unlink(missing_ok=True)
        serving.parent.mkdir(parents=True, exist_ok=True)
        rows: dict[str, int] = {}
        with writer_lock(settings.warehouse_path()), connect(tmp, read_only=False) as con:
            # ATTACH takes no parameters: the path is a quoted SQL literal (quotes doubled), under an alias that no
            # file name can take (DuckDB names the open file after its stem, e.g. a serving file "warehouse.duckdb").
            con.execute(f"attach {_literal(str(warehouse))} as {SOURCE_ALIAS} (read_only)")
            for schema in PUBLISHED_SCHEMAS:
                con.execute(f"create schema {schema}")
                tables = con.execute(
                    "select table_name from information_schema.tables where table_catalog = ? and table_schema = ?",
                    [SOURCE_ALIAS, schema],
                ).fetchall()
                for (table,) in tables:
                    con.execute(f'create table {schema}."{table}" as select * from {SOURCE_ALIAS}.{schema}."{table}"')
                    rows[f"{schema}.{table}"] = con.execute(f'select count(*) from {schema}."{table}"').fetchone()[0]
            con.execute(f"detach {SOURCE_ALIAS}")
            con.execute("checkpoint")
        fingerprint = inputs_fingerprint(point_in_time_cutoffs(settings.as_of()))
        os.replace(tmp, serving)  # atomic on POSIX: readers see the old file or the new one, never half of one
        context.log.info(f"published {len(rows)} tables to {serving}")
        return dg.MaterializeResult(
            metadata={
                "path": str(serving),
                "tables": len(rows),
                # What these marts were built from: a later build with the same inputs skips dbt and publish.
                INPUTS_FINGERPRINT: fingerprint,
                SERVING_STAT: serving_stat(serving),
                **{f"rows.{name}": n for name, n in rows.items() if name.startswith("marts.")},
            }
        )

    return dg.Definitions(assets=[serving_file])
