"""What a build must rebuild: the sources whose data the marts would read differently from the published build's.

A source's input is what its staging views let through: the rows of each of its raw tables that pass the
point-in-time cut-off the staging model applies (`published_by` in dbt/macros, with the build's cut-off vars), as a
content fingerprint (lib/fingerprint.py). The published build records each source's fingerprint on the serving file's
materialization; the next build compares. A source whose fingerprint differs (new rows, a revised value, a cut-off
that now lets a row through), or that is blocked, or that fed a mart the last publish held back, is rebuilt with
everything downstream of it; the others are not in the run at all, so their marts and the results of their checks stay
as the last build left them. Nothing changed: no dbt run and no publish. The dbt project's files are an input of
every source: an edited model rebuilds everything, as does a serving file or a mart that no longer matches what was
published (replaced by hand, a failed publish).

The same plan serves `treasury build` (runner/build.py) and the daemon's chaining sensor (defs/schedules.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

import dagster as dg
import duckdb

from dagster_project.lib.dbt import (
    DBT_DIR,
    SERVING_FILE,
    SERVING_STAT,
    load_manifest,
    mart_row_counts,
    marts,
    project_files,
    serving_stat,
)
from dagster_project.lib.fingerprint import combine, files_fingerprint, table_fingerprint
from ingestion.common.sql import literal
from ingestion.common.warehouse import Target, connect

# On the serving file's materialization: each source's input fingerprint, and the dbt project's.
SOURCE_INPUT_PREFIX = "inputs."
PROJECT_INPUT = "inputs_dbt_project"
# On a transform run: what it rebuilds ("everything" or the sources whose models are in it).
REBUILDS_TAG = "treasury/rebuilds"
# A source whose marts the published build held back has no fingerprint recorded: the next build tries it again.
RETRY = "retry"
# `{{ published_by('<column expression>'[, '<cut-off var>']) }}` in a staging model (dbt/macros/published_by.sql).
PUBLISHED_BY = re.compile(r"published_by\(\s*'([^']+)'\s*(?:,\s*'([^']+)'\s*)?\)")


@dataclass(frozen=True)
class RawInput:
    """One raw table as a staging model reads it: the filter `expression <= cut-off` (none: every row)."""

    schema: str
    table: str
    expression: str | None = None
    cutoff_var: str | None = None

    def where(self, cutoffs: Mapping[str, str]) -> str | None:
        # As the macro does: without the var, no filter.
        value = cutoffs.get(self.cutoff_var) if self.cutoff_var else None
        if self.expression is None or value is None:
            return None
        return f"{self.expression} <= cast({literal(value)} as date)"


@cache
def source_inputs() -> dict[str, tuple[RawInput, ...]]:
    """source -> the raw tables its staging models read, each with the cut-off filter applied to it (from the
    manifest: the staging model's source() and its published_by call)."""
    manifest = load_manifest()
    sources = manifest["sources"]
    inputs: dict[str, set[RawInput]] = {s["source_name"]: set() for s in sources.values()}
    for uid, source in sources.items():
        children = [manifest["nodes"][c] for c in manifest["child_map"].get(uid, []) if c in manifest["nodes"]]
        readers = [node for node in children if node["resource_type"] == "model"]
        for node in readers or [None]:
            calls = PUBLISHED_BY.findall(node["raw_code"]) if node is not None else []
            for expression, var in calls or [(None, None)]:
                inputs[source["source_name"]].add(
                    RawInput(source["schema"], source["identifier"], expression, var if expression else None)
                )
    return {name: tuple(sorted(found, key=repr)) for name, found in inputs.items()}


def source_fingerprints(target: Target, cutoffs: Mapping[str, str]) -> dict[str, str]:
    """source -> fingerprint of the rows its staging views let through under `cutoffs`."""
    found = {}
    with connect(target) as con:
        for source, raw_inputs in source_inputs().items():
            # Keyed by the filter's form, not its date: a new cut-off that lets no new row through changes nothing.
            parts = {
                f"{i.schema}.{i.table} where {i.expression} <= {i.cutoff_var}": table_fingerprint(
                    con, i.schema, i.table, where=i.where(cutoffs)
                )
                for i in raw_inputs
            }
            found[source] = combine(parts)
    return found


# In an incremental model: the input its window is counted on, and the dbt var holding the window's days.
WINDOWED_INPUT = re.compile(r"incremental_input\(\s*ref\('([^']+)'\)\s*,\s*'[^']+'\s*,\s*var\('([^']+)'\)")
# Rows a load rewrote are "older than the window" when dated before (the raw table's latest date - the window): the
# window starts from its input's latest date, never later than the raw table's (the staging cut-offs only hide rows).
# A source joined into the mart beside that input (fed_custody's IORB beside the funding rates) may trail it: its
# rows count as outside a week early.
JOINED_SOURCE_MARGIN_DAYS = 7
# A loader re-reads its look-back from its previous latest date; a daily build moves a weekly source's latest date
# by up to a week: each window is the look-back plus this (tests/transform/test_incremental_marts.py checks).
WEEK_OF_NEW_DATA_DAYS = 7
LOADS_PREFIX = "loads."


@cache
def window_days() -> dict[str, tuple[int, int]]:
    """source -> (window days, margin days) for each source feeding an incremental mart, from the manifest (each
    incremental model's windowed input and window var) and dbt_project.yml's vars; the narrowest window wins."""
    import yaml

    declared = yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text())["vars"]
    nodes = load_manifest()["nodes"].values()
    by_name = {node["name"]: node for node in nodes if node["resource_type"] == "model"}
    found: dict[str, tuple[int, int]] = {}
    for node in by_name.values():
        if node["config"].get("materialized") != "incremental":
            continue
        windowed = WINDOWED_INPUT.search(node["raw_code"])
        if windowed is None:
            raise ValueError(f"incremental model {node['name']} does not read its input through incremental_input()")
        days = int(declared[windowed[2]])
        counted_on = (
            sources_upstream([(by_name[windowed[1]]["schema"], windowed[1])]) if windowed[1] in by_name else set()
        )
        for source in sources_upstream([(node["schema"], node.get("alias") or node["name"])]):
            margin = 0 if source in counted_on else JOINED_SOURCE_MARGIN_DAYS
            if source not in found or days - margin < found[source][0] - found[source][1]:
                found[source] = (days, margin)
    return found


def _raw_tables(source: str) -> list[tuple[str, str, str]]:
    from ingestion.registry import SUITES

    return [
        (f"raw_{name}", table, suite.date_column) for (name, table), suite in sorted(SUITES.items()) if name == source
    ]


def load_watermarks(target: Target) -> dict[str, str]:
    """source -> the latest dlt load id in its raw tables (for the sources feeding an incremental mart)."""
    found = {}
    with connect(target) as con:
        for source in window_days():
            ids = []
            for schema, table, _ in _raw_tables(source):
                try:
                    ids.append(con.execute(f'select max(_dlt_load_id::double) from {schema}."{table}"').fetchone()[0])
                except duckdb.CatalogException:
                    continue
            found[source] = str(max((i for i in ids if i is not None), default=0.0))
    return found


def history_rewritten(target: Target, watermarks: Mapping[str, str]) -> list[str]:
    """The sources with raw rows older than their incremental window (the table's latest date - the window) written
    by a load after `watermarks` (the published build's): rows an incremental build never recomputes. A full re-read,
    a revision further back than the loader's look-back, or a week of builds missed lands there; a daily build's load
    does not (each window is the look-back + a week)."""
    rewritten = []
    with connect(target) as con:
        for source, (days, margin) in window_days().items():
            since = float(watermarks.get(source) or 0.0)
            for schema, table, column in _raw_tables(source):
                try:
                    older = con.execute(
                        f'select count(*) from {schema}."{table}" where _dlt_load_id::double > ? and "{column}" < '
                        f'(select max("{column}") from {schema}."{table}") - {days - margin}',
                        [since],
                    ).fetchone()[0]
                except duckdb.CatalogException:
                    continue
                if older:
                    rewritten.append(f"{source} ({older:,} rows of {table})")
    return rewritten


def project_fingerprint() -> str:
    """Every file of the dbt project: models, macros, tests, seeds, the project and profiles."""
    return files_fingerprint(project_files())


def sources_upstream(relations: Iterable[tuple[str, str]]) -> set[str]:
    """The sources upstream of the (schema, name) relations, per the manifest."""
    manifest = load_manifest()
    by_relation = {
        (node["schema"], node.get("alias") or node["name"]): uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }
    found, todo, seen = set(), [by_relation[r] for r in relations if r in by_relation], set()
    while todo:
        uid = todo.pop()
        for parent in manifest["parent_map"].get(uid, []):
            if parent in manifest["sources"]:
                found.add(manifest["sources"][parent]["source_name"])
            elif parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return found


def published_inputs(
    target: Target, cutoffs: Mapping[str, str], held_back: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """What the serving file's materialization records: each source's input fingerprint (RETRY for a source upstream
    of a held-back relation), its latest load (for the incremental marts' sources), and the dbt project's."""
    retry = sources_upstream(held_back)
    fingerprints = source_fingerprints(target, cutoffs)
    recorded = {f"{SOURCE_INPUT_PREFIX}{s}": RETRY if s in retry else fp for s, fp in sorted(fingerprints.items())}
    loads = {f"{LOADS_PREFIX}{s}": watermark for s, watermark in sorted(load_watermarks(target).items())}
    return {**recorded, **loads, PROJECT_INPUT: project_fingerprint()}


def full_refresh_reason(instance: dg.DagsterInstance, target: Target) -> str | None:
    """Why the incremental marts (dbt/macros/incremental_window.sql) must be rebuilt whole, or None when their windows
    suffice: no build published from this instance yet; the dbt project changed since (a model's logic or a var: the
    rows outside the window were computed the old way); or raw rows older than a window changed."""
    event = instance.get_latest_materialization_event(SERVING_FILE)
    if event is None or event.asset_materialization is None:
        return "no published build in this Dagster instance yet"
    published = {k: v.value for k, v in event.asset_materialization.metadata.items()}
    if published.get(PROJECT_INPUT) != project_fingerprint():
        return "the dbt project changed since the published build"
    watermarks = {k.removeprefix(LOADS_PREFIX): v for k, v in published.items() if k.startswith(LOADS_PREFIX)}
    rewritten = history_rewritten(target, watermarks)
    if rewritten:
        return (
            f"rows older than the incremental window were rewritten since the published build: {', '.join(rewritten)}"
        )
    return None


@dataclass
class TransformPlan:
    """What the transform stage of a build rebuilds: everything, the models downstream of some sources, or nothing."""

    everything: bool
    reason: str
    changed: dict[str, str] = field(default_factory=dict)  # source -> why it is rebuilt

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.changed

    def describe(self) -> str:
        if self.everything:
            return f"everything: {self.reason}"
        if self.nothing:
            return f"nothing: {self.reason}"
        return "what depends on " + "; ".join(f"{s} ({why})" for s, why in sorted(self.changed.items()))

    def tag(self) -> str:
        return "everything" if self.everything else ",".join(sorted(self.changed)) or "nothing"

    def asset_selection(self, asset_graph, transform_keys: Iterable[dg.AssetKey]) -> list[dg.AssetKey] | None:
        """The transform job's assets to run (None: all of them): those downstream of the changed sources' tables."""
        if self.everything:
            return None
        raw = [key for key in asset_graph.get_all_asset_keys() if key.path[0] in self.changed and len(key.path) == 2]
        downstream = dg.AssetSelection.assets(*raw).downstream().resolve(asset_graph)
        return sorted(set(transform_keys) & downstream, key=lambda k: k.to_user_string())


def plan_transform(
    instance: dg.DagsterInstance, target: Target, serving, cutoffs: Mapping[str, str], blocked: Mapping[str, str]
) -> TransformPlan:
    """Compare the warehouse's inputs now with those the published build recorded."""
    event = instance.get_latest_materialization_event(SERVING_FILE)
    if event is None or event.asset_materialization is None:
        return TransformPlan(True, "no published build in this Dagster instance yet")
    published = {k: v.value for k, v in event.asset_materialization.metadata.items()}
    if published.get(PROJECT_INPUT) is None:
        return TransformPlan(True, f"run {event.run_id[:8]} published without input fingerprints")
    if published.get(PROJECT_INPUT) != project_fingerprint():
        return TransformPlan(True, "the dbt project changed since the published build")
    if published.get(SERVING_STAT) != serving_stat(serving):
        return TransformPlan(True, f"{serving} is not the file run {event.run_id[:8]} published")
    built = mart_row_counts(target)
    if len(built) != len(marts()) or any(published.get(f"rows.marts.{m}") != rows for m, rows in built.items()):
        return TransformPlan(True, "the warehouse's marts differ from the published ones")
    now = source_fingerprints(target, cutoffs)
    changed = {}
    for source, fingerprint in now.items():
        before = published.get(f"{SOURCE_INPUT_PREFIX}{source}")
        if source in blocked:
            changed[source] = "blocked: its marts are held back"
        elif before == RETRY:
            changed[source] = "held back in the published build: tried again"
        elif before != fingerprint:
            changed[source] = "new or revised data" if before is not None else "not in the published build"
    return TransformPlan(False, f"same inputs as the build published by run {event.run_id[:8]}", changed)
