"""The blast radius of a failure: a source whose load or blocking check failed holds back only what depends on it.

Three places use it, each reading what the one before recorded:

- the dbt step asks the Dagster instance which sources are blocked (`blocked_sources`): a raw table whose latest
  planned load did not materialize (an HTTP failure that outlasted the retries, a bad payload, a load error), or whose
  latest Great Expectations result failed a blocking expectation. It leaves them out of `dbt build`
  (`--exclude source:<name>+`), then records, for every published model it was asked to build, whether it is fresh
  or held back and why (`relation_statuses`): a blocked source upstream, a failed model, a failed error-severity test
  on it or upstream, a failed unit test. The table is `treasury_build.relation_status` in the warehouse.
- the publish step copies fresh relations from the warehouse and held-back ones from the previous serving file (their
  last good version), and writes `marts._build_status` there, so a BI user sees which marts are fresh and which are
  held back, and why.
- `treasury build` and the report read `marts._build_status` back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb

from ingestion.common.sql import identifier
from ingestion.common.warehouse import connect

# One build is three runs (ingest_all, transform_all, publish): they share the build tag, and each names its stage.
BUILD_TAG = "treasury/build"
STAGE_TAG = "treasury/stage"
# What the serving file publishes: the marts, and staging for drill-down.
PUBLISHED_SCHEMAS = ("marts", "staging")
STATUS_SCHEMA = "treasury_build"
STATUS_TABLE = "relation_status"
SERVING_STATUS_TABLE = "_build_status"  # in the serving file's marts schema
FRESH = "fresh"
HELD_BACK = "held back"
# On the serving file's materialization: how many published tables are held back (0 when all are fresh).
HELD_BACK_METADATA = "held_back"
RAW_CHECK = "great_expectations"
# The project's own errors name the source, the record and the problem: the line a person needs.
_PROJECT_ERRORS = ("SourceDataError", "SourceHTTPError")

SERVING_STATUS_COMMENTS = {
    None: "One row per published table (marts and staging): fresh from this build, or held back at its last good "
    "version because a source it depends on failed to load or failed a blocking check (the reason says which).",
    "schema_name": "marts or staging",
    "table_name": "the published table",
    "status": "'fresh' (built and checked by this build, or by an earlier one from the same inputs) or 'held back' "
    "(the last good version, kept)",
    "reason": "why a table is held back: the source and its failure, or the failed dbt test; NULL when fresh",
    "data_as_of": "the as-of date of the build that produced the published version, or that found its inputs unchanged "
    "(date; NULL for a version kept from a serving file published before this table existed)",
    "built_by_run_id": "the Dagster run whose dbt step built the published version",
    "published_at": "when this serving file was published (UTC)",
    "published_by_run_id": "the Dagster run that published this serving file",
}


@dataclass(frozen=True)
class RelationStatus:
    schema_name: str
    table_name: str
    status: str
    reason: str | None
    data_as_of: date | None
    run_id: str | None

    @property
    def name(self) -> str:
        return f"{self.schema_name}.{self.table_name}"


def failure_reason(error) -> str:
    """One line for a failed step: the project's error in the chain (dlt wraps it twice), else the root cause
    (Dagster wraps a step's exception in its own)."""
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause or error.context
    found = next((e for e in chain if e.cls_name in _PROJECT_ERRORS), None)
    lines = (found or chain[-1]).message.strip().splitlines()
    first = lines[0] if lines else chain[-1].cls_name or "no message"
    # The project's errors speak for themselves ("[source] where: problem"): drop their class name.
    return first.removeprefix(f"ingestion.common.errors.{found.cls_name}: ") if found else first


def _step_failure(instance: dg.DagsterInstance, run_id: str, step_key: str | None) -> str | None:
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        if event is not None and (step_key is None or event.step_key == step_key):
            return failure_reason(event.step_failure_data.error)
    return None


def _load_failure(instance: dg.DagsterInstance, key: dg.AssetKey, current_run_id: str | None) -> str | None:
    """Why the latest planned load of a raw table did not materialize, or None when it did (or none was planned)."""
    planned = instance.get_latest_planned_materialization_info(key)
    if planned is None or planned.run_id == current_run_id:
        return None
    done = instance.fetch_materializations(key, limit=1).records
    if done and done[0].storage_id > planned.storage_id:
        return None
    run = instance.get_run_by_id(planned.run_id)
    if run is None or not run.is_finished:
        return None
    reason = _step_failure(instance, planned.run_id, f"ingest_{key.path[0]}") or _step_failure(
        instance, planned.run_id, None
    )
    return f"load failed in run {planned.run_id[:8]}: {reason or f'the run ended {run.status.value.lower()}'}"


def _check_failure(instance: dg.DagsterInstance, key: dg.AssetKey) -> str | None:
    """The latest evaluated Great Expectations result of a raw table, when a blocking expectation failed."""
    check_key = dg.AssetCheckKey(key, RAW_CHECK)
    for record in instance.event_log_storage.get_asset_check_execution_history(check_key, limit=5):
        entry = record.event
        evaluation = entry.dagster_event.event_specific_data if entry and entry.dagster_event else None
        if not isinstance(evaluation, dg.AssetCheckEvaluation):
            continue  # planned, then skipped (its load failed): the load's failure speaks for it
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            return None
        return f"blocking check failed on {key.to_user_string()}: {evaluation.description or 'no description'}"
    return None


def blocked_sources(
    instance: dg.DagsterInstance, raw_tables: Iterable[tuple[str, str]], current_run_id: str | None = None
) -> dict[str, str]:
    """source -> why its data must not reach the marts now (its latest load failed, or a blocking check on one of
    its raw tables failed since its last good load)."""
    blocked: dict[str, list[str]] = {}
    for source, table in raw_tables:
        key = dg.AssetKey([source, table])
        reason = _load_failure(instance, key, current_run_id) or _check_failure(instance, key)
        if reason is not None and reason not in blocked.get(source, []):
            blocked.setdefault(source, []).append(reason)
    return {source: "; ".join(reasons) for source, reasons in blocked.items()}


def _ancestors(parent_map: Mapping[str, list[str]], node: str) -> set[str]:
    seen: set[str] = set()
    stack = list(parent_map.get(node, []))
    while stack:
        parent = stack.pop()
        if parent not in seen:
            seen.add(parent)
            stack.extend(parent_map.get(parent, []))
    return seen


def relation_statuses(
    manifest: Mapping,
    results: Mapping[str, Mapping],
    selected_models: Iterable[str],
    blocked: Mapping[str, str],
    *,
    as_of: date,
    run_id: str,
    schemas: Iterable[str],
) -> list[RelationStatus]:
    """Fresh or held back, with the reason, for each selected model in the published schemas.

    `results` is run_results.json's results by unique_id (status and message). A model is held back when a blocked
    source is upstream (it was left out of the build), when it or a model upstream errored or was skipped, or when an
    error-severity data test on it or upstream failed, or one of its unit tests failed.
    """
    nodes, sources = manifest["nodes"], manifest.get("sources", {})
    parent_map = manifest.get("parent_map") or {
        uid: list(node.get("depends_on", {}).get("nodes", [])) for uid, node in nodes.items()
    }
    unit_tests = manifest.get("unit_tests", {})
    # What failed, by the node it condemns (a test condemns the model it tests).
    causes: dict[str, list[str]] = {}
    for uid, result in results.items():
        status, message = result.get("status"), (result.get("message") or "").strip()
        if uid in unit_tests:
            if status not in ("pass", "success"):
                test = unit_tests[uid]
                target = next(
                    (u for u, n in nodes.items() if n["resource_type"] == "model" and n["name"] == test["model"]), uid
                )
                causes.setdefault(target, []).append(f"unit test {test['name']} failed: {message or status}")
            continue
        node = nodes.get(uid)
        if node is None:
            continue
        if node["resource_type"] == "test":
            if status in ("fail", "error"):  # a warn-severity test reports "warn"
                attached = node.get("attached_node") or next(
                    (p for p in node.get("depends_on", {}).get("nodes", []) if p.startswith("model.")), None
                )
                detail = f"{result.get('failures')} rows" if result.get("failures") is not None else message
                causes.setdefault(attached or uid, []).append(f"dbt test {node['name']} failed ({detail or status})")
        elif status == "error":
            causes.setdefault(uid, []).append(f"dbt {node['resource_type']} {node['name']} failed: {message}")
    blocked_sources_by_uid = {
        uid: source["source_name"] for uid, source in sources.items() if source["source_name"] in blocked
    }
    published = set(schemas)
    statuses = []
    for uid in sorted(selected_models):
        node = nodes.get(uid)
        if node is None or node["resource_type"] != "model" or node["schema"] not in published:
            continue
        relation = (node["schema"], node.get("alias") or node["name"])
        upstream = _ancestors(parent_map, uid)
        reasons = sorted(
            {
                f"source {blocked_sources_by_uid[u]} blocked ({blocked[blocked_sources_by_uid[u]]})"
                for u in upstream
                if u in blocked_sources_by_uid
            }
        )
        for cause_node in [uid, *sorted(upstream)]:
            for cause in causes.get(cause_node, []):
                if cause not in reasons:
                    reasons.append(cause)
        status = results.get(uid, {}).get("status")
        if not reasons and status != "success":
            reasons.append(f"not built by dbt ({status or 'not run'})")
        statuses.append(
            RelationStatus(
                *relation,
                status=HELD_BACK if reasons else FRESH,
                reason="; ".join(reasons) or None,
                data_as_of=None if reasons else as_of,
                run_id=None if reasons else run_id,
            )
        )
    return statuses


def record_statuses(con, statuses: Iterable[RelationStatus]) -> None:
    """Upsert the statuses of the relations a dbt step was asked to build; other relations keep theirs."""
    con.execute(f"create schema if not exists {STATUS_SCHEMA}")
    con.execute(
        f"""create table if not exists {STATUS_SCHEMA}.{STATUS_TABLE} (
            schema_name varchar, table_name varchar, status varchar, reason varchar, data_as_of date,
            run_id varchar, updated_at timestamp)"""
    )
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    rows = [[s.schema_name, s.table_name, s.status, s.reason, s.data_as_of, s.run_id, now] for s in statuses]
    if rows:
        # Delete and insert in one transaction, not an upsert: a lake's tables have no primary keys.
        con.execute("begin")
        con.executemany(
            f"delete from {STATUS_SCHEMA}.{STATUS_TABLE} where schema_name = ? and table_name = ?",
            [r[:2] for r in rows],
        )
        con.executemany(f"insert into {STATUS_SCHEMA}.{STATUS_TABLE} values (?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("commit")


def recorded_statuses(con, database: str | None = None) -> dict[tuple[str, str], RelationStatus]:
    """The statuses a dbt step recorded in the warehouse (empty before the first one)."""
    prefix = f"{identifier(database)}." if database else ""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?"
        + (" and database_name = ?" if database else ""),
        [STATUS_SCHEMA, STATUS_TABLE, *([database] if database else [])],
    ).fetchone()[0]
    if not exists:
        return {}
    rows = con.execute(
        f"select schema_name, table_name, status, reason, data_as_of, run_id from {prefix}{STATUS_SCHEMA}.{STATUS_TABLE}"
    ).fetchall()
    return {(r[0], r[1]): RelationStatus(*r) for r in rows}


def published_statuses(serving: Path) -> list[RelationStatus]:
    """The serving file's `marts._build_status` (empty when it has none)."""
    if not serving.exists():
        return []
    with connect(serving, read_only=True) as con:
        try:
            rows = con.execute(
                f"select schema_name, table_name, status, reason, data_as_of, built_by_run_id "
                f"from marts.{SERVING_STATUS_TABLE} order by schema_name, table_name"
            ).fetchall()
        except duckdb.CatalogException:
            return []
    return [RelationStatus(*row) for row in rows]


def held_back_summary(statuses: Iterable[RelationStatus]) -> str:
    """`3 marts held back: marts.a, marts.b (source treasury_debt blocked (...))`, grouped by reason."""
    by_reason: dict[str, list[str]] = {}
    for s in statuses:
        if s.status == HELD_BACK:
            by_reason.setdefault(s.reason or "no reason recorded", []).append(s.name)
    return "; ".join(f"{', '.join(names)}: {reason}" for reason, names in by_reason.items())
