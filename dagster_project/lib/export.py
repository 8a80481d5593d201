"""`treasury export --format parquet DIR`: the marts of a published build as plain Parquet files with a manifest, for
any engine (pandas, Polars, Spark) without DuckDB.

What is exported is what was published: on a lake, a published build's snapshot (the latest, or `--snapshot N`),
each mart at the version that build published (a held-back mart at its last good version); on a DuckDB file, the
serving file. The files are written to a temporary folder beside DIR and renamed into place, `manifest.json` last
inside it, so a reader never sees half an export: the manifest lists each file with its rows, columns (name, type,
dbt description) and SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dagster_project.lib.build_status import HELD_BACK, SERVING_STATUS_TABLE
from dagster_project.lib.dbt import column_descriptions
from dagster_project.lib.snapshots import SCHEMA, published_builds
from ingestion.common.lake import Lake
from ingestion.common.sql import literal as _literal
from ingestion.common.warehouse import connect

MANIFEST = "manifest.json"


class ExportError(RuntimeError):
    """Nothing published to export, or no such snapshot."""


@dataclass
class Exported:
    folder: Path
    tables: dict[str, int]  # mart -> rows
    snapshot_id: int | None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_parquet(
    folder: Path, *, lake: Lake | None, serving: Path, snapshot: int | None = None, overwrite: bool = False
) -> Exported:
    """Write the published marts to `folder` (which must not exist, or be a previous export with `overwrite`)."""
    folder = folder.absolute()
    if folder.exists() and not (overwrite and (folder / MANIFEST).exists()):
        raise ExportError(f"{folder} exists: choose a new folder (or --overwrite a previous export)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        if lake is None:
            meta, tables = _export_serving(serving, work)
        else:
            meta, tables = _export_lake(lake, snapshot, work)
        described = column_descriptions()
        entries = []
        for name, (rows, columns) in tables.items():
            file = work / f"{name}.parquet"
            docs = described.get(("marts", name), {})
            entries.append(
                {
                    "table": f"marts.{name}",
                    "file": file.name,
                    "rows": rows,
                    "sha256": _sha256(file),
                    "columns": [{"name": c, "type": t, "description": docs.get(c, "")} for c, t in columns],
                }
            )
        manifest = {
            "format": "parquet",
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **meta,
            "tables": entries,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Exported(folder, {name: rows for name, (rows, _) in tables.items()}, meta.get("snapshot_id"))


def _copy(con, relation: str, file: Path) -> tuple[int, list[tuple[str, str]]]:
    con.execute(f"copy (select * from {relation}) to {_literal(str(file))} (format parquet, compression zstd)")
    rows = con.execute(f"select count(*) from read_parquet({_literal(str(file))})").fetchone()[0]
    columns = con.execute(f"select column_name, column_type from (describe select * from {relation})").fetchall()
    return rows, columns


def _export_serving(serving: Path, work: Path):
    if not serving.exists():
        raise ExportError(f"no serving file at {serving}: nothing has been published yet (treasury build)")
    tables = {}
    with connect(serving) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' and table_name <> ? "
                "order by table_name",
                [SERVING_STATUS_TABLE],
            ).fetchall()
        ]
        for name in names:
            tables[name] = _copy(con, f'marts."{name}"', work / f"{name}.parquet")
        run_id, held = con.execute(
            f"""select max(published_by_run_id),
                list(table_name order by table_name) filter (where status = ? and schema_name = 'marts')
            from marts.{SERVING_STATUS_TABLE}""",
            [HELD_BACK],
        ).fetchone()
    meta = {"source": str(serving), "snapshot_id": None, "published_by_run_id": run_id, "held_back": held or []}
    return meta, tables


def _export_lake(lake: Lake, snapshot: int | None, work: Path):
    builds = published_builds(lake)
    if not builds:
        raise ExportError(f"nothing has been published on {lake} yet (treasury build)")
    chosen = builds[-1] if snapshot is None else next((b for b in builds if b.snapshot_id == snapshot), None)
    if chosen is None:
        listed = ", ".join(str(b.snapshot_id) for b in builds[-10:])
        raise ExportError(f"snapshot {snapshot} is not a published build (the last ones: {listed}; treasury snapshots)")
    tables = {}
    with lake.connect() as con:
        versions = con.execute(
            f"select table_name, status, version_snapshot_id from {SCHEMA}.relations "
            "where build_snapshot_id = ? and schema_name = 'marts' order by table_name",
            [chosen.snapshot_id],
        ).fetchall()
        for name, _status, version in versions:
            if version is None:
                continue  # held back with no earlier version: listed in the build, never published
            tables[name] = _copy(con, f'marts."{name}" at (version => {int(version)})', work / f"{name}.parquet")
        held = [name for name, status, version in versions if status == HELD_BACK]
    meta = {
        "source": str(lake),
        "snapshot_id": chosen.snapshot_id,
        "as_of": chosen.as_of.isoformat(),
        "published_by_run_id": chosen.run_id,
        "published_at": chosen.published_at.isoformat(),
        "held_back": held,
    }
    return meta, tables
