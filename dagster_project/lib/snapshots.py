"""Published builds on a lake: every build whose checks passed is a DuckLake snapshot, recorded here.

Publishing on a lake pins the snapshot the build's dbt step left (the lake as it stood when publish read it) and
records it in the lake's `published` schema: one row per build in `published.builds` (snapshot id, as-of date, run,
when, how many tables were held back) and one row per published table in `published.relations` (fresh from this
snapshot, or held back at the snapshot of its last good version, with its row count). "The serving state" is a
pointer: any published build can be read as it was, by `ATTACH ... (SNAPSHOT_VERSION n)` or `AT (VERSION => n)`.
`treasury snapshots` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb

from dagster_project.lib.build_status import HELD_BACK, RelationStatus
from ingestion.common.lake import CATALOG_NAME, Lake

SCHEMA = "published"


@dataclass(frozen=True)
class PublishedBuild:
    snapshot_id: int
    as_of: date
    run_id: str
    published_at: datetime
    tables: int
    held_back: int
    mart_rows: int


def current_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    """The snapshot a connection to the lake reads (the last committed one, or the one it was attached at)."""
    return con.execute(f"select id from {CATALOG_NAME}.current_snapshot()").fetchone()[0]


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {CATALOG_NAME}.{SCHEMA}")
    con.execute(
        f"""create table if not exists {CATALOG_NAME}.{SCHEMA}.builds (
            snapshot_id bigint, as_of date, run_id varchar, published_at timestamp, tables integer,
            held_back integer, mart_rows bigint)"""
    )
    con.execute(
        f"""create table if not exists {CATALOG_NAME}.{SCHEMA}.relations (
            build_snapshot_id bigint, schema_name varchar, table_name varchar, status varchar,
            version_snapshot_id bigint, row_count bigint)"""
    )


def last_versions(lake: Lake) -> dict[tuple[str, str], int]:
    """Each published table's snapshot in the last published build (empty before the first)."""
    with lake.connect() as con:
        if not _has_tables(con):
            return {}
        return {
            (schema, table): version
            for schema, table, version in con.execute(
                f"""select schema_name, table_name, version_snapshot_id from {SCHEMA}.relations
                where build_snapshot_id = (select max(snapshot_id) from {SCHEMA}.builds)"""
            ).fetchall()
        }


def record_published(
    lake: Lake,
    snapshot_id: int,
    statuses: list[RelationStatus],
    rows: dict[str, int],
    *,
    as_of: date,
    run_id: str,
) -> None:
    """Record a published build (one commit: its builds row and its relations rows). A held-back table points at the
    snapshot of its last published version (None when it was never published)."""
    before = last_versions(lake)
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    relations = []
    for status in statuses:
        key = (status.schema_name, status.table_name)
        version = before.get(key) if status.status == HELD_BACK else snapshot_id
        relations.append([snapshot_id, *key, status.status, version, rows.get(f"{key[0]}.{key[1]}")])
    mart_rows = sum(n for name, n in rows.items() if name.startswith("marts."))
    held = sum(1 for s in statuses if s.status == HELD_BACK)
    with lake.connect(read_only=False) as con:
        _ensure_tables(con)
        con.execute("begin")
        con.execute(
            f"insert into {SCHEMA}.builds values (?, ?, ?, ?, ?, ?, ?)",
            [snapshot_id, as_of, run_id, now, len(statuses), held, mart_rows],
        )
        con.executemany(f"insert into {SCHEMA}.relations values (?, ?, ?, ?, ?, ?)", relations)
        con.execute("commit")


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    return (
        con.execute(
            "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? and table_name = 'builds'",
            [CATALOG_NAME, SCHEMA],
        ).fetchone()[0]
        > 0
    )


def published_builds(lake: Lake) -> list[PublishedBuild]:
    """Every published build, oldest first."""
    with lake.connect() as con:
        if not _has_tables(con):
            return []
        return [
            PublishedBuild(*row)
            for row in con.execute(
                f"select snapshot_id, as_of, run_id, published_at, tables, held_back, mart_rows "
                f"from {SCHEMA}.builds order by snapshot_id"
            ).fetchall()
        ]
