"""Publish: copy the checked marts (and staging, for drill-down) to the serving file, swapped in atomically.

It runs only after every upstream model and its blocking dbt tests succeeded in the run. The copy is
written to a temporary file and renamed over the serving file, so a reader that already has the old
file open keeps reading it, a new connection sees the new one, and a failed build never replaces it.

The serving file is written in DuckDB's v1.0.0 storage format (SERVING_STORAGE_VERSION), not the
format of the DuckDB that writes it: BI drivers (JDBC for Metabase and DBeaver, the Node API for
Evidence, Superset's environment) are DuckDB 1.x, and every 1.x release (1.0 to 1.5) and 2.x reads
v1.0.0, while a file in 2.0's own format is unreadable to all of them. The tables, the dbt
descriptions (as DuckDB comments) and DECIMAL columns all survive in it.
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
SERVING_ALIAS = "treasury_serving"
# The oldest storage format DuckDB 2 writes, and the one every DuckDB since 1.0.0 reads
# (tests/dagster_project/test_bi_clients.py opens the published file with the 1.x CLI and Python clients).
SERVING_STORAGE_VERSION = "v1.0.0"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_comments(con, schema: str, table: str, comment: str | None, target: str) -> None:
    """The dbt descriptions (persist_docs wrote them as comments in the warehouse) onto the published table."""
    if comment:
        con.execute(f"comment on table {target} is {_literal(comment)}")
    columns = con.execute(
        "select column_name, comment from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? and comment is not null",
        [SOURCE_ALIAS, schema, table],
    ).fetchall()
    for column, column_comment in columns:
        con.execute(f'comment on column {target}."{column}" is {_literal(column_comment)}')


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
        with writer_lock(settings.warehouse_path()), connect(":memory:", read_only=False) as con:
            # ATTACH takes no parameters: the paths are quoted SQL literals (quotes doubled), under aliases that no
            # file name can take (DuckDB names an attached file after its stem, e.g. a serving file "warehouse.duckdb").
            con.execute(f"attach {_literal(str(warehouse))} as {SOURCE_ALIAS} (read_only)")
            con.execute(
                f"attach {_literal(str(tmp))} as {SERVING_ALIAS} (storage_version {_literal(SERVING_STORAGE_VERSION)})"
            )
            for schema in PUBLISHED_SCHEMAS:
                con.execute(f"create schema {SERVING_ALIAS}.{schema}")
                tables = con.execute(
                    "select table_name, comment from duckdb_tables() where database_name = ? and schema_name = ? "
                    "union all select view_name, comment from duckdb_views() where database_name = ? and schema_name = ?",
                    [SOURCE_ALIAS, schema] * 2,
                ).fetchall()
                for table, comment in sorted(tables):
                    target = f'{SERVING_ALIAS}.{schema}."{table}"'
                    con.execute(f'create table {target} as select * from {SOURCE_ALIAS}.{schema}."{table}"')
                    _copy_comments(con, schema, table, comment, target)
                    rows[f"{schema}.{table}"] = con.execute(f"select count(*) from {target}").fetchone()[0]
            con.execute(f"detach {SOURCE_ALIAS}")
            con.execute(f"checkpoint {SERVING_ALIAS}")
            con.execute(f"detach {SERVING_ALIAS}")
        fingerprint = inputs_fingerprint(point_in_time_cutoffs(settings.as_of()))
        os.replace(tmp, serving)  # atomic on POSIX: readers see the old file or the new one, never half of one
        context.log.info(f"published {len(rows)} tables to {serving}")
        return dg.MaterializeResult(
            metadata={
                "path": str(serving),
                "tables": len(rows),
                # The as-of date of the data: the alert sensor delivers what became public up to it.
                "as_of": settings.as_of().isoformat(),
                # What these marts were built from: a later build with the same inputs skips dbt and publish.
                INPUTS_FINGERPRINT: fingerprint,
                SERVING_STAT: serving_stat(serving),
                **{f"rows.{name}": n for name, n in rows.items() if name.startswith("marts.")},
            }
        )

    return dg.Definitions(assets=[serving_file])
