"""Content fingerprints: what lets a build with nothing new skip the work whose result it already has.

A raw table's fingerprint is its row count and the sum of a hash of every row (dlt's own bookkeeping columns left
out, so re-fetching the same values gives the same fingerprint). A check on an unchanged table under an unchanged
suite reuses its last result; a dbt build whose inputs (every raw table, every file of the dbt project, the
point-in-time cutoffs) match those of the last published build is not run again. Both are recorded in the Dagster
instance with the results they stand for, so a fresh instance (and every test's ephemeral one) always does the work.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import duckdb

DLT_COLUMNS = ("_dlt_load_id", "_dlt_id")
# A raw table's load records its content fingerprint as the asset's data version (Dagster's tag for it).
DATA_VERSION_TAG = "dagster/data_version"


def table_fingerprint(con: duckdb.DuckDBPyConnection, schema: str, table: str, where: str | None = None) -> str:
    """`rows:hashsum` of a table's content (the rows `where` keeps, a SQL condition), or `missing` when it does not
    exist."""
    columns = [
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, table],
        ).fetchall()
        if name not in DLT_COLUMNS
    ]
    if not columns:
        return "missing"
    hashed = ", ".join(f'"{c}"' for c in columns)
    rows, total = con.execute(
        f'select count(*), coalesce(sum(hash({hashed})::hugeint), 0) from "{schema}"."{table}"'
        + (f" where {where}" if where else "")
    ).fetchone()
    return f"{rows}:{total}"


def files_fingerprint(paths: Iterable[Path]) -> str:
    """A digest of the files' names and bytes (in name order)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in paths if p.is_file()):
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def combine(parts: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
