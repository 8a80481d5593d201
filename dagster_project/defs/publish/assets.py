"""Publish: copy the checked marts (and staging, for drill-down) to the serving file, swapped in atomically.

It runs only after every upstream model and its blocking dbt tests succeeded in the run. The copy is
written to a temporary file and renamed over the serving file, so a reader that already has the old
file open keeps reading it, a new connection sees the new one, and a failed build never replaces it.

The serving file is written in DuckDB's v1.0.0 storage format (SERVING_STORAGE_VERSION), not the
format of the DuckDB that writes it: BI drivers (JDBC for Metabase and DBeaver, the Node API for
Evidence, Superset's environment) lag the project's DuckDB, and every release since 1.0 (2.x too)
reads v1.0.0, while a file in a newer release's own format is unreadable to the older ones. The tables, the dbt
descriptions (as DuckDB comments) and DECIMAL columns all survive in it.
"""

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from dagster_project.lib.build_status import (
    FRESH,
    HELD_BACK,
    HELD_BACK_METADATA,
    PUBLISHED_SCHEMAS,
    SERVING_STATUS_COMMENTS,
    SERVING_STATUS_TABLE,
    RelationStatus,
    held_back_summary,
    recorded_statuses,
)
from dagster_project.lib.changes import published_inputs
from dagster_project.lib.dbt import SERVING_FILE, SERVING_STAT, column_descriptions, serving_stat
from dagster_project.lib.warehouse import Warehouse
from ingestion.common.sql import identifier as _quoted
from ingestion.common.sql import literal as _literal
from ingestion.common.warehouse import connect

SERVING_ALIAS = "treasury_publish_target"
PREVIOUS_ALIAS = "treasury_publish_previous"
# The oldest storage format DuckDB writes, and the one every DuckDB since 1.0.0 reads
# (tests/dagster_project/test_bi_clients.py opens the published file with the 1.x CLI and Python clients).
SERVING_STORAGE_VERSION = "v1.0.0"


def _copy_comments(con, origin: str, schema: str, table: str, comment: str | None, target: str) -> None:
    """The dbt descriptions (persist_docs wrote them as comments in the warehouse) onto the published table."""
    if comment is None:
        comment = con.execute(
            "select comment from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
            [origin, schema, table],
        ).fetchone()
        comment = comment[0] if comment else None
    if comment:
        con.execute(f"comment on table {target} is {_literal(comment)}")
    columns = dict(
        con.execute(
            "select column_name, comment from duckdb_columns() "
            "where database_name = ? and schema_name = ? and table_name = ? and comment is not null",
            [origin, schema, table],
        ).fetchall()
    )
    # A lake's views carry no column comments (DuckLake has none on views): dbt's descriptions fill them in.
    documented = column_descriptions().get((schema, table), {})
    for (column,) in con.execute(
        "select column_name from duckdb_columns() where database_name = ? and schema_name = ? and table_name = ?",
        [origin, schema, table],
    ).fetchall():
        if column not in columns and documented.get(column):
            columns[column] = documented[column]
    for column, column_comment in columns.items():
        con.execute(f'comment on column {target}."{column}" is {_literal(column_comment)}')


def _previous_versions(con, serving: Path) -> dict[tuple[str, str], RelationStatus]:
    """The tables of the serving file being replaced (attached read-only as PREVIOUS_ALIAS), with the as-of date and
    run of the build that made each (from its `_build_status`; None for a file published before that table existed)."""
    if not serving.exists():
        return {}
    con.execute(f"attach {_literal(str(serving))} as {PREVIOUS_ALIAS} (read_only)")
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ?", [PREVIOUS_ALIAS]
    ).fetchall()
    known = {}
    if ("marts", SERVING_STATUS_TABLE) in tables:
        known = {
            (r[0], r[1]): (r[2], r[3])
            for r in con.execute(
                f"select schema_name, table_name, data_as_of, built_by_run_id "
                f"from {PREVIOUS_ALIAS}.marts.{SERVING_STATUS_TABLE}"
            ).fetchall()
        }
    return {
        (schema, table): RelationStatus(schema, table, HELD_BACK, None, *known.get((schema, table), (None, None)))
        for schema, table in tables
        if schema in PUBLISHED_SCHEMAS and table != SERVING_STATUS_TABLE
    }


def _write_build_status(con, statuses: list[RelationStatus], run_id: str) -> None:
    """marts._build_status in the serving file: which tables are fresh and which are held back, and why."""
    target = f"{SERVING_ALIAS}.marts.{SERVING_STATUS_TABLE}"
    con.execute(
        f"""create table {target} (schema_name varchar, table_name varchar, status varchar, reason varchar,
            data_as_of date, built_by_run_id varchar, published_at timestamp, published_by_run_id varchar)"""
    )
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    con.executemany(
        f"insert into {target} values (?, ?, ?, ?, ?, ?, ?, ?)",
        [[s.schema_name, s.table_name, s.status, s.reason, s.data_as_of, s.run_id, now, run_id] for s in statuses],
    )
    for column, comment in SERVING_STATUS_COMMENTS.items():
        what = f"table {target}" if column is None else f'column {target}."{column}"'
        con.execute(f"comment on {what} is {_literal(comment)}")


@dg.definitions
def publish_assets() -> dg.Definitions:
    from dagster_project.defs.transform.assets import warehouse_models

    upstream = [key for key in warehouse_models().keys if key.path[0] in PUBLISHED_SCHEMAS]

    @dg.asset(
        key=SERVING_FILE,
        deps=upstream,
        group_name="publish",
        pool="duckdb_writer",
        description="A read-only copy of the marts and staging schemas for BI tools and SQL users (data/serving.duckdb).",
    )
    def serving_file(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        serving = warehouse.serving_file.resolve()
        if warehouse.is_file(serving):
            raise ValueError(f"TREASURY_SERVING and TREASURY_WAREHOUSE are the same file ({serving}): they must differ")
        tmp = serving.with_name(serving.name + ".tmp")
        tmp.unlink(missing_ok=True)
        serving.parent.mkdir(parents=True, exist_ok=True)
        rows: dict[str, int] = {}
        as_of = warehouse.as_of_date
        with warehouse.writer_lock(), connect(":memory:", read_only=False) as con:
            # ATTACH takes no parameters: the paths are quoted SQL literals (quotes doubled). The warehouse is attached
            # under the catalog name its dbt views were written with (see Warehouse.attach_pinned); the serving files
            # under names that are not a file stem this project uses.
            source_alias = warehouse.catalog
            if source_alias in (SERVING_ALIAS, PREVIOUS_ALIAS):
                raise ValueError(f"the warehouse may not be named {source_alias}: the publish step uses that name")
            # What is copied (and, on a lake, recorded) is one state of the warehouse, whatever else commits meanwhile.
            version = warehouse.attach_pinned(con)
            statuses = recorded_statuses(con, source_alias)
            held_back = {key for key, status in statuses.items() if status.status == HELD_BACK}
            # A held-back table keeps its last good version: the one in the serving file being replaced.
            previous = _previous_versions(con, serving) if held_back else {}
            con.execute(
                f"attach {_literal(str(tmp))} as {SERVING_ALIAS} (storage_version {_literal(SERVING_STORAGE_VERSION)})"
            )
            published: list[RelationStatus] = []
            for schema in PUBLISHED_SCHEMAS:
                con.execute(f"create schema {SERVING_ALIAS}.{schema}")
                tables = dict(
                    con.execute(
                        "select table_name, comment from duckdb_tables() where database_name = ? and schema_name = ? "
                        "union all select view_name, comment from duckdb_views() where database_name = ? "
                        "and schema_name = ?",
                        [source_alias, schema] * 2,
                    ).fetchall()
                )
                # A held-back table is listed even when the warehouse has none (dbt left it out) or there is no earlier
                # version to keep (then it is named in _build_status, not published).
                tables.update({table: None for s_, table in held_back if s_ == schema and table not in tables})
                for table in sorted(tables):
                    status = statuses.get((schema, table))
                    if (schema, table) in held_back:
                        if (schema, table) not in previous:
                            published.append(status)  # no earlier version to keep: listed, not published
                            continue
                        origin, kept = PREVIOUS_ALIAS, previous[(schema, table)]
                        status = RelationStatus(schema, table, HELD_BACK, status.reason, kept.data_as_of, kept.run_id)
                    else:
                        origin = source_alias
                        status = RelationStatus(
                            schema,
                            table,
                            FRESH,
                            None,
                            status.data_as_of if status else as_of,
                            status.run_id if status else None,
                        )
                    target = f'{SERVING_ALIAS}.{schema}."{table}"'
                    con.execute(f'create table {target} as select * from {_quoted(origin)}.{schema}."{table}"')
                    _copy_comments(con, origin, schema, table, tables[table], target)
                    rows[f"{schema}.{table}"] = con.execute(f"select count(*) from {target}").fetchone()[0]
                    published.append(status)
            _write_build_status(con, published, context.run.run_id)
            if held_back and serving.exists():  # _previous_versions attached it
                con.execute(f"detach {PREVIOUS_ALIAS}")
            con.execute(f"detach {_quoted(source_alias)}")
            con.execute(f"checkpoint {SERVING_ALIAS}")
            con.execute(f"detach {SERVING_ALIAS}")
        kept_back = [s for s in published if s.status == HELD_BACK]
        if kept_back:
            context.log.warning(f"published with {len(kept_back)} tables held back: {held_back_summary(kept_back)}")
        # What these marts were built from, per source: the next build rebuilds only what differs (lib/changes.py).
        inputs = published_inputs(
            warehouse.target, warehouse.cutoffs(), [(s.schema_name, s.table_name) for s in kept_back]
        )
        recorded = warehouse.record_published(version, published, rows, run_id=context.run.run_id)
        if recorded:
            context.log.info(recorded)
        os.replace(tmp, serving)  # atomic on POSIX: readers see the old file or the new one, never half of one
        context.log.info(f"published {len(rows)} tables to {serving}")
        return dg.MaterializeResult(
            metadata={
                "path": str(serving),
                **({"lake_snapshot_id": version} if version is not None else {}),
                "tables": len(rows),
                # The as-of date of the data: the alert sensor delivers what became public up to it.
                "as_of": as_of.isoformat(),
                **{f"treasury/{k}": v for k, v in warehouse.describe().items()},
                **inputs,
                HELD_BACK_METADATA: len(kept_back),
                "held_back_tables": dg.MetadataValue.json({s.name: s.reason for s in kept_back}),
                SERVING_STAT: serving_stat(serving),
                **{f"rows.{name}": n for name, n in rows.items() if name.startswith("marts.")},
            }
        )

    return dg.Definitions(assets=[serving_file])
