"""Row counts in the DuckDB warehouse, for run summaries and asset metadata."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb


def row_counts(warehouse: Path, relations: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Rows in each (schema, name) table or view; relations that do not exist (or no file yet) are left out."""
    wanted = list(relations)
    if not warehouse.exists() or not wanted:
        return {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        existing = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
        return {
            (schema, name): con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
            for schema, name in wanted
            if (schema, name) in existing
        }
