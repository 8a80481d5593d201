"""Which published tables a build holds back and why (lib/build_status.relation_statuses), on a small manifest shaped
like dbt's: a blocked source, a failed error-severity test, a failed unit test, a warn-severity test, downstream."""

from __future__ import annotations

from datetime import date

from dagster_project.lib.build_status import FRESH, HELD_BACK, relation_statuses


def _model(name: str, schema: str, *parents: str) -> dict:
    return {"resource_type": "model", "name": name, "schema": schema, "depends_on": {"nodes": list(parents)}}


def _test(name: str, model: str) -> dict:
    return {"resource_type": "test", "name": name, "attached_node": model, "depends_on": {"nodes": [model]}}


SRC_CURVE, SRC_DEBT = "source.p.par_yield_curve.daily_par_yields", "source.p.treasury_debt.debt_to_the_penny"
NODES = {
    "model.p.stg_curve": _model("stg_curve", "staging", SRC_CURVE),
    "model.p.stg_debt": _model("stg_debt", "staging", SRC_DEBT),
    "model.p.int_curve": _model("int_curve", "intermediate", "model.p.stg_curve"),
    "model.p.fct_curve": _model("fct_curve", "marts", "model.p.int_curve"),
    "model.p.fct_debt": _model("fct_debt", "marts", "model.p.stg_debt"),
    "model.p.board": _model("board", "marts", "model.p.fct_curve", "model.p.fct_debt"),
    "model.p.dim": _model("dim", "marts"),
    "test.p.unique_fct_curve": _test("unique_fct_curve", "model.p.fct_curve"),
    "test.p.odd_rows_fct_debt": _test("odd_rows_fct_debt", "model.p.fct_debt"),
}
MANIFEST = {
    "nodes": NODES,
    "sources": {SRC_CURVE: {"source_name": "par_yield_curve"}, SRC_DEBT: {"source_name": "treasury_debt"}},
    "parent_map": {uid: node["depends_on"]["nodes"] for uid, node in NODES.items()},
    "unit_tests": {"unit_test.p.dim.test_dim": {"name": "test_dim", "model": "dim"}},
}
SELECTED = [uid for uid, node in NODES.items() if node["resource_type"] == "model"]


def _statuses(results: dict, blocked: dict) -> dict[str, tuple]:
    statuses = relation_statuses(
        MANIFEST, results, SELECTED, blocked, as_of=date(2025, 7, 1), run_id="run-1", schemas=("marts", "staging")
    )
    return {s.table_name: (s.status, s.reason, s.data_as_of) for s in statuses}


def test_everything_fresh_when_every_node_succeeded():
    results = {uid: {"status": "success"} for uid in SELECTED} | {
        "test.p.unique_fct_curve": {"status": "pass"},
        "test.p.odd_rows_fct_debt": {"status": "warn", "failures": 3},  # a warn-severity test holds nothing back
        "unit_test.p.dim.test_dim": {"status": "pass"},
    }
    statuses = _statuses(results, {})
    assert set(statuses) == {"stg_curve", "stg_debt", "fct_curve", "fct_debt", "board", "dim"}  # no intermediate
    assert {name: s[0] for name, s in statuses.items()} == dict.fromkeys(statuses, FRESH)
    assert statuses["board"][2] == date(2025, 7, 1)


def test_a_blocked_source_a_failed_test_and_a_failed_unit_test_hold_back_their_downstream():
    results = {
        # treasury_debt is blocked: dbt left stg_debt, fct_debt and the board out (no result at all).
        "model.p.stg_curve": {"status": "success"},
        "model.p.int_curve": {"status": "success"},
        "model.p.fct_curve": {"status": "success"},
        "test.p.unique_fct_curve": {"status": "fail", "failures": 2},
        "unit_test.p.dim.test_dim": {"status": "fail", "message": "actual differs from expected"},
        "model.p.dim": {"status": "skipped"},
    }
    statuses = _statuses(results, {"treasury_debt": "load failed in run abc: HTTP 500"})
    assert statuses["stg_curve"] == (FRESH, None, date(2025, 7, 1))
    assert statuses["stg_debt"][:2] == (HELD_BACK, "source treasury_debt blocked (load failed in run abc: HTTP 500)")
    assert statuses["fct_debt"][0] == HELD_BACK and statuses["fct_debt"][2] is None
    # Built, but its error-severity test failed: held back with the test named.
    assert statuses["fct_curve"][:2] == (HELD_BACK, "dbt test unique_fct_curve failed (2 rows)")
    # The board: both reasons.
    status, reason, _ = statuses["board"]
    assert status == HELD_BACK
    assert reason.startswith("source treasury_debt blocked") and "dbt test unique_fct_curve failed" in reason
    assert statuses["dim"][:2] == (HELD_BACK, "unit test test_dim failed: actual differs from expected")


def test_a_model_that_errors_holds_back_itself_and_what_reads_it():
    results = {uid: {"status": "success"} for uid in SELECTED} | {
        "model.p.int_curve": {"status": "error", "message": "Binder Error: column x not found"},
        "model.p.fct_curve": {"status": "skipped"},
        "model.p.board": {"status": "skipped"},
    }
    statuses = _statuses(results, {})
    assert statuses["fct_curve"][:2] == (HELD_BACK, "dbt model int_curve failed: Binder Error: column x not found")
    assert statuses["board"][0] == HELD_BACK and statuses["fct_debt"][0] == FRESH
