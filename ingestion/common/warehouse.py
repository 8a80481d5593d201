"""Opening the DuckDB warehouse, and row counts for run summaries and asset metadata."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb


def connect(path: Path | str, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to the DuckDB file at `path` (the caller's run settings say which), read-only unless asked
    otherwise: the one place the project opens DuckDB files."""
    return duckdb.connect(str(path), read_only=read_only)


def row_counts(warehouse: Path, relations: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Rows in each (schema, name) table or view; relations that do not exist (or no file yet) are left out."""
    wanted = list(relations)
    if not warehouse.exists() or not wanted:
        return {}
    with connect(warehouse) as con:
        existing = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
        return {
            (schema, name): con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
            for schema, name in wanted
            if (schema, name) in existing
        }
