"""One fetch, two tables: the current value per key, and every value ever seen (vintages).

Revised numbers (a corrected CFTC week, a TIC benchmark revision) replace the current value, and the
vintages table keeps the old one. It uses dlt's `scd2` merge strategy, with a version hash of each
record as published (`row_hash`). `first_seen_at` is the load that first saw a value; `superseded_at`
is the load that replaced it, and it is NULL while the value is current. With a `merge_key`, a load
only retires rows within the partitions it re-read (the report dates of an incremental window), not
the whole history.
"""

from __future__ import annotations

from typing import Any

import dlt
import pyarrow as pa

from ingestion.common.records import MERGE_KEY_GUARDED

ROW_HASH = "row_hash"
VALIDITY_COLUMNS = ["first_seen_at", "superseded_at"]


def _pass_through(table: pa.Table) -> Any:
    yield table


def current_and_vintages(
    parent,
    table: str,
    *,
    primary_key: tuple[str, ...],
    merge_key: str | None = None,
    columns=None,
    current_disposition: str = "merge",
):
    """Two transformers over `parent` (evaluated once): `<table>` (`current_disposition`: merge, or replace for a
    source whose every fetch is a complete publication) and `<table>_vintages` (scd2)."""
    current = dlt.transformer(
        _pass_through,
        data_from=parent,
        name=table,
        primary_key=primary_key,
        # A merge's parent fails a fetch that repeats a key (KeyGuard): no dedup pass needed.
        write_disposition=MERGE_KEY_GUARDED if current_disposition == "merge" else current_disposition,
        columns=columns,
    )
    vintages = dlt.transformer(
        _pass_through,
        data_from=parent,
        name=f"{table}_vintages",
        primary_key=primary_key,
        merge_key=merge_key,
        write_disposition={
            "disposition": "merge",
            "strategy": "scd2",
            "validity_column_names": VALIDITY_COLUMNS,
            "row_version_column_name": ROW_HASH,
        },
        columns=columns,
    )
    return current, vintages
