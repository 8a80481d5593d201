"""Opening the warehouse, and row counts for run summaries and asset metadata.

A warehouse is one of two things, chosen by TREASURY_WAREHOUSE: a DuckDB file (a `Path`, the embedded default) or a
DuckLake (`Lake`, ingestion/common/lake.py). Both are opened here and give the same connection: the warehouse's
schemas (`raw_<source>`, `staging`, `marts`) are the default catalog's, so SQL written for one runs on the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from ingestion.common.lake import CATALOG_NAME, PREFIX, Lake, offline_connection

Target = Path | Lake


def parse_target(value: str | Path, lake_data_path: str | None = None) -> Target:
    """TREASURY_WAREHOUSE's value as a warehouse: `ducklake:<catalog>` is a lake (its data in `lake_data_path`,
    TREASURY_LAKE_DATA_PATH), anything else a DuckDB file, made absolute."""
    if isinstance(value, str) and value.strip().startswith(PREFIX):
        return Lake.parse(value.strip(), lake_data_path)
    return Path(value).expanduser().absolute()


def connect(target: Target | str, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse `target` (the caller's run settings say which; a str or Path is a DuckDB file,
    ":memory:" an empty database), read-only unless asked otherwise: the one place the project opens one."""
    if isinstance(target, Lake):
        return target.connect(read_only=read_only)
    if str(target) == ":memory:":
        return offline_connection()  # a scratch database may attach a lake: extensions from the project's folder
    return duckdb.connect(str(target), read_only=read_only)


def catalog_name(target: Target) -> str:
    """The catalog a connection to the warehouse has in use, and that dbt's views name: the file's stem, as DuckDB
    names an attached file, or the lake's fixed name."""
    return target.stem if isinstance(target, Path) else CATALOG_NAME


def row_counts(warehouse: Target, relations: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Rows in each (schema, name) table or view; relations that do not exist (or no warehouse yet) are left out."""
    wanted = list(relations)
    if not wanted or not warehouse.exists():  # no warehouse yet: a first build makes it
        return {}
    with connect(warehouse) as con:
        existing = set(
            con.execute(
                "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
            ).fetchall()
        )
        return {
            (schema, name): con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
            for schema, name in wanted
            if (schema, name) in existing
        }
