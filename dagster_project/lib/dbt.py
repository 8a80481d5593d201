"""The dbt project as Dagster runs it: one way to run dbt (dagster-dbt's `DbtCliResource`), for the build, the UI and
the tests.

The manifest is prepared once (`dbt parse`, through the same resource) when it is missing or older than any file of
the project, so a plain `treasury build` after an edit sees the edit, and an unchanged project parses nothing.
"""

from __future__ import annotations

import fcntl
import json
import re
import sys
from collections.abc import Iterable, Mapping
from functools import cache, cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from ingestion.common.warehouse import Target, connect, row_counts

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
DBT_PROJECT = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
# dbt as a child that dies with its parent (lib/dbt_child.py), installed beside this Python.
DBT_CHILD = str(Path(sys.executable).with_name("treasury-dbt"))


class ProjectDbtCliResource(DbtCliResource):
    """dagster-dbt's resource with two differences: dbt's version is read from the installed package (dagster-dbt
    would run `dbt --version`, which asks the package index for the latest release, a request to a non-data host);
    and no dbt adapter is opened in the Dagster process (dagster-dbt uses it only for row counts and column metadata,
    which this project reads itself, and importing dbt there costs seconds). The warehouse's path reaches dbt as a
    var (`warehouse_path`, read by profiles.yml), with the cut-offs, from the run's Warehouse resource."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 - signature fixed by the base class
        return None


def dbt_resource() -> ProjectDbtCliResource:
    # No colour codes in dbt's messages: they end up in log files and in the run's event log.
    return ProjectDbtCliResource(
        project_dir=DBT_PROJECT, dbt_executable=DBT_CHILD, global_config_flags=["--no-use-colors"]
    )


def project_files() -> list[Path]:
    """Every file of the dbt project that shapes what it builds: models, macros, tests, seeds, project and profiles."""
    return [
        DBT_DIR / "dbt_project.yml",
        DBT_DIR / "profiles.yml",
        *(p for d in ("models", "macros", "tests", "seeds") for p in (DBT_DIR / d).rglob("*")),
    ]


def _manifest_is_stale(manifest: Path) -> bool:
    """True when the manifest is missing or any model, test, macro, seed or project file changed after it was written."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(p.is_file() and p.stat().st_mtime > built for p in project_files())


def prepare_manifest() -> Path:
    """`dbt parse` when the manifest is stale (a fresh clone, an edited model); the manifest's path.

    Processes that start together (the UI's code server beside a build, test workers on a fresh clone) take turns:
    the first parses, the others wait for it and find the manifest current, so none reads one half-written."""
    target = DBT_PROJECT.manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".parse.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes (or the process dies)
        if _manifest_is_stale(DBT_PROJECT.manifest_path):
            dbt_resource().cli(["parse", "--quiet"], target_path=Path("target")).wait()
    return DBT_PROJECT.manifest_path


def marts() -> tuple[str, ...]:
    """The marts, as the dbt project declares them (the models in the `marts` schema), by business area (their
    folder under models/marts/)."""
    nodes = sorted(load_manifest()["nodes"].values(), key=lambda node: node["original_file_path"])
    return tuple(
        node.get("alias") or node["name"]
        for node in nodes
        if node["resource_type"] == "model" and node["schema"] == "marts"
    )


def mart_row_counts(warehouse: Target) -> dict[str, int]:
    """Rows in each mart that exists in the warehouse (empty if the file does not exist yet)."""
    names = marts()
    counts = row_counts(warehouse, [("marts", name) for name in names])
    return {name: counts[("marts", name)] for name in names if ("marts", name) in counts}


@cache
def column_descriptions() -> dict[tuple[str, str], dict[str, str]]:
    """dbt's column descriptions by (schema, relation name), from the manifest."""
    return {
        (node["schema"], node.get("alias") or node["name"]): {
            name: column.get("description") or "" for name, column in node.get("columns", {}).items()
        }
        for node in load_manifest()["nodes"].values()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }


def describe_test(node: Mapping[str, Any]) -> str:
    """What a dbt data test checks, in words, for its asset check's description: the test's own `description:` when
    it has one, else a sentence from the generic test and its arguments, or a singular test's leading comment."""
    meta = node.get("test_metadata") or {}
    kwargs, kind = meta.get("kwargs") or {}, meta.get("name")
    column = kwargs.get("column_name")
    if node.get("description"):
        text = node["description"]
    elif kind == "not_null":
        text = f"{column} is never null"
    elif kind == "unique":
        text = f"{column} is unique: one row per value"
    elif kind == "unique_combination":
        text = f"one row per {', '.join(kwargs.get('columns', []))}"
    elif kind == "accepted_values":
        text = f"{column} is one of: {', '.join(str(v) for v in kwargs.get('values', []))}"
    elif kind == "relationships":
        target = re.sub(r"ref\('([^']+)'\)", r"\1", str(kwargs.get("to", "")))
        text = f"every {column} is a {kwargs.get('field')} of {target}"
    elif kind == "expression_is_true":
        text = f"every row satisfies {kwargs.get('expression')}"
        if kwargs.get("where_clause"):
            text += f" (rows where {kwargs['where_clause']})"
    elif kind == "no_recent_alert":
        text = f"no {kwargs.get('rule')} alert made public in the last {kwargs.get('days', 7)} days"
    elif not meta:  # a singular test: its leading comment says what it checks
        comment = []
        for line in (node.get("raw_code") or "").splitlines():
            if not line.startswith("--"):
                break
            comment.append(line.removeprefix("--").strip())
        text = " ".join(comment) or f"singular test {node.get('name')}"
    else:
        text = f"dbt test {kind}" + (f" on {column}" if column else "")
    config = node.get("config") or {}
    if config.get("where"):
        text += f" (rows where {config['where']})"
    if str(config.get("severity", "")).lower() == "warn":
        text += "; a failure warns, it does not hold the mart back"
    return text + ("" if text.endswith(".") else ".")


def column_schemas(target: Target, relations: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dg.TableSchema]:
    """Each relation's columns as the warehouse has them (name and DuckDB type, in order) with dbt's descriptions: the
    asset page's column list. Read after dbt ends (it holds the write lock while it runs)."""
    wanted = set(relations)
    if not wanted:
        return {}
    described = column_descriptions()
    found: dict[tuple[str, str], list[dg.TableColumn]] = {}
    with connect(target) as con:
        rows = con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() order by table_schema, table_name, ordinal_position"
        ).fetchall()
    for schema, table, column, data_type in rows:
        if (schema, table) in wanted:
            description = described.get((schema, table), {}).get(column) or None
            found.setdefault((schema, table), []).append(
                dg.TableColumn(name=column, type=data_type, description=description)
            )
    return {relation: dg.TableSchema(columns=columns) for relation, columns in found.items()}


# The published serving file's asset (defs/publish/assets.py).
SERVING_FILE = dg.AssetKey(["publish", "serving_file"])
# Recorded on the serving file's materialization: the file as published (lib/changes.py compares).
SERVING_STAT = "serving_file_stat"


@cache
def load_manifest() -> dict:
    """The prepared manifest (prepare_manifest), read once per process."""
    return json.loads(DBT_PROJECT.manifest_path.read_text())


def serving_stat(path: Path) -> str:
    """The serving file's size and modification time: a file replaced or removed since it was published differs."""
    if not path.exists():
        return "missing"
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"
