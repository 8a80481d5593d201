"""The blast radius of a broken source, through `treasury build`: each of the eight sources in turn fails with an HTTP
500 that outlasts the retries and, in another build, with a row that breaks a blocking expectation. The other
sources' marts are published fresh, the broken source's marts keep their previous version, `marts._build_status`
says which and why, the exit status is non-zero, and the next good build publishes everything.

Builds are chained to keep the suite's time down: build k breaks three sources with a 500 and three others with a bad
row, so across three builds every source fails once each way, and each build also proves the recovery of the sources
broken by the build before. The as-of date moves one business day per build, so fresh marts differ from their
previous version where the day brought new data, and held-back marts do not.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.dbt import DBT_DIR
from emulator.fed_custody import BASE_PATH as FRED_ROOT
from emulator.fiscaldata import ROOT as FISCALDATA_ROOT
from emulator.par_yield_curve import BASE_PATH as YIELD_ROOT
from emulator.primary_dealers import BASE_PATH as PD_ROOT
from emulator.server import base_urls, serve
from emulator.tic_holdings import BASE_PATH as TIC_ROOT
from ingestion.registry import NAMES
from tests.dagster_project.test_build_faults import build
from tests.faulty_api import emulated

# The requests of each source (paths the emulator serves), for an HTTP 500 that never ends.
SOURCE_PATHS = {
    "treasury_auctions": ["auctions"],
    "par_yield_curve": [YIELD_ROOT],
    "cftc_tff": ["/resource/"],
    "tic_holdings": [TIC_ROOT],
    "primary_dealers": [PD_ROOT],
    "funding_rates": ["/api/rates", "/api/rp"],
    "fed_custody": [FRED_ROOT],
    "treasury_debt": [FISCALDATA_ROOT + "/v2/accounting/od/debt", "mspd"],
    "fed_soma": ["/api/soma/"],
}


def _set_last(node, field: str, value):
    """Set `field` in the last JSON object that has a value for it (the newest row where rows are in date order,
    inside every source's re-read window); True if one was found."""
    if isinstance(node, dict):
        if any(_set_last(child, field, value) for child in reversed(list(node.values()))):
            return True
        if field in node and node[field] not in (None, "null", ""):
            node[field] = value
            return True
        return False
    if isinstance(node, list):
        return any(_set_last(child, field, value) for child in reversed(node))
    return False


def _json_edit(field: str, value, newest_first: bool = False):
    """Edit the newest row's `field`: rows come oldest first, except the NY Fed's rate searches (`newest_first`)."""

    def edit(body: bytes) -> bytes:
        data = json.loads(body)
        # FiscalData's `meta.labels` and `dataTypes` name every field too: only the rows count.
        fiscaldata = isinstance(data, dict) and "data" in data
        rows = data["data"] if fiscaldata else data
        rows = _reverse_lists(rows) if newest_first else rows
        if not _set_last(rows, field, value):
            return body  # a page without that field (an empty page): left as it is
        rows = _reverse_lists(rows) if newest_first else rows
        return json.dumps({**data, "data": rows} if fiscaldata else rows).encode()

    return edit


def _reverse_lists(node):
    if isinstance(node, list):
        return [_reverse_lists(child) for child in reversed(node)]
    if isinstance(node, dict):
        return {key: _reverse_lists(child) for key, child in node.items()}
    return node


def _csv_last_value(value: str):
    """The last cell of the newest data row of a CSV (the curve lists newest first, FRED oldest first)."""

    def edit(body: bytes) -> bytes:
        lines = body.decode().split("\n")
        rows = [i for i, line in enumerate(lines[1:], 1) if line.strip()]
        if not rows:
            return body
        newest = rows[0] if "interest-rates" in lines[0] or lines[0].startswith("Date") else rows[-1]
        cells = lines[newest].split(",")
        cells[-1] = value
        lines[newest] = ",".join(cells)
        return "\n".join(lines).encode()

    return edit


def _tic_japan(body: bytes) -> bytes:
    text = body.decode("latin-1")
    return re.sub(r"^(Japan[^\t]*\t)[^\t]+", r"\g<1>99999.9", text, count=1, flags=re.M).encode("latin-1")


# A row that breaks a blocking expectation of each source, on a key the next loads re-read (so a good load repairs it):
# a value outside its unit's range.
BAD_ROWS = {
    "treasury_auctions": ("auctions_query", _json_edit("high_yield", "99.000")),  # -3..25%
    # Only the current year's file: the curve re-reads that year alone, so a good load repairs the row.
    "par_yield_curve": (f"{YIELD_ROOT}/daily-treasury-rates.csv/2025/", _csv_last_value("99.00")),  # -1..25%
    "cftc_tff": ("/resource/", _json_edit("lev_money_positions_long", "-5")),  # no negative position
    "tic_holdings": (TIC_ROOT, _tic_japan),  # holdings 0..20,000 $bn (and the grand total)
    "primary_dealers": (PD_ROOT, _json_edit("value", "99999999")),  # -2..10 million $ millions
    "funding_rates": ("/api/rates", _json_edit("percentRate", 99.0, newest_first=True)),  # -1..25%
    "fed_custody": (FRED_ROOT, _csv_last_value("99999999")),  # WMTSECL1 0..20 million, IORB -1..25%
    "treasury_debt": ("debt_to_penny", _json_edit("tot_pub_debt_out_amt", "1000.00")),  # $1-100 trillion
    # The newest week of its bad build (3 July), which the next build's look-back reads again.
    "fed_soma": ("/api/soma/tsy/get/all/asof/2025-07-02", _json_edit("parValue", "-5")),  # par 0..$1 trillion
}


class Breaker:
    """WSGI: the emulator, with some sources answering 500 forever and others a body edited to hold a bad row."""

    def __init__(self, as_of: date) -> None:
        self.emulator = emulated(as_of=as_of)
        self.failing: set[str] = set()
        self.bad: set[str] = set()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if any(p in path for source in self.failing for p in SOURCE_PATHS[source]):
            start_response("500 Emulated fault", [("Content-Type", "application/json")])
            return [b'{"error": "emulated fault"}']
        edits = [BAD_ROWS[s][1] for s in self.bad if BAD_ROWS[s][0] in path]
        if not edits:
            return self.emulator(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        body = b"".join(self.emulator(environ, capture))
        if captured["status"].startswith("200"):
            for edit in edits:
                body = edit(body)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]


def marts_by_source() -> dict[str, set[str]]:
    """source -> the marts that depend on it (from dbt's manifest)."""
    manifest = json.loads((DBT_DIR / "target" / "manifest.json").read_text())
    parents = manifest["parent_map"]
    result: dict[str, set[str]] = {name: set() for name in NAMES}
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or node["schema"] != "marts":
            continue
        seen, stack = set(), list(parents.get(uid, []))
        while stack:
            parent = stack.pop()
            if parent not in seen:
                seen.add(parent)
                stack.extend(parents.get(parent, []))
        for parent in seen:
            if parent.startswith("source."):
                result[manifest["sources"][parent]["source_name"]].add(node["name"])
    return result


def all_mart_models() -> set[str]:
    manifest = json.loads((DBT_DIR / "target" / "manifest.json").read_text())
    return {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"}


def content(serving: Path, mart: str) -> str:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(
            f"select count(*) || ':' || coalesce(md5(string_agg(t::varchar, '|' order by t::varchar)), '') "
            f"from marts.{mart} t"
        ).fetchone()[0]


def build_status(serving: Path) -> dict[str, tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute(
            "select table_name, status, reason, data_as_of from marts._build_status where schema_name = 'marts'"
        ).fetchall()
    return {name: (status, reason, as_of) for name, status, reason, as_of in rows}


# Build k (as of the k-th business day after the sample build): a third of the sources fail with a 500, another
# third hold a bad row (the sources that held a bad row fail with a 500 in the next build, before a load re-reads it).
ORDER = list(NAMES)
# SOMA's bad row is in the week of 2 July, published on the 3rd: its third holds a bad row in the last build.
THIRDS = [set(ORDER[k::3]) for k in range(3)]
assert "fed_soma" in THIRDS[2]
PLAN = [
    (date(2025, 7, 1), THIRDS[2], THIRDS[0]),
    (date(2025, 7, 2), THIRDS[0], THIRDS[1]),
    (date(2025, 7, 3), THIRDS[1], THIRDS[2]),
]


@pytest.mark.slow  # four whole builds
def test_each_broken_source_holds_back_only_its_marts_and_the_next_good_build_publishes_all(
    sample_build, tmp_path, monkeypatch
):
    import dagster_project.defs.ingestion.assets as ingestion_assets

    monkeypatch.setattr(ingestion_assets, "STEP_RETRY_SECONDS", 0)  # the step's retries, without the two minutes
    warehouse, serving = sample_build.copy_to(tmp_path / "blast")
    monkeypatch.setenv("TREASURY_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TREASURY_SERVING", str(serving))
    depends = marts_by_source()
    all_marts = all_mart_models()
    assert {"fct_auctions", "fct_debt_outstanding_daily", "mart_treasury_stress_weekly"} <= all_marts
    covered = {"http_500": set(), "bad_row": set()}
    for as_of, failing, bad in PLAN:
        before = {mart: content(serving, mart) for mart in all_marts}
        breaker = Breaker(as_of)
        breaker.failing, breaker.bad = failing, bad
        with serve(breaker) as root:
            code, summary = build(monkeypatch, base_urls(root), as_of)
        (tmp_path / f"summary-{as_of}.txt").write_text(summary)
        broken = failing | bad
        held = set().union(*(depends[s] for s in broken))
        assert code == 1, summary
        assert summary.splitlines()[-1].startswith("Pipeline run (") and (
            f"published with {len(held)} marts held back" in summary.splitlines()[-1]
        ), summary
        status = build_status(serving)
        assert set(status) == all_marts, status
        for mart in sorted(all_marts):
            state, reason, data_as_of = status[mart]
            if mart in held:
                assert state == "held back", (mart, status[mart], summary)
                # The reason names each broken source the mart depends on, and what broke it.
                for source in depends_on(depends, mart) & failing:
                    assert "load failed" in why(reason, source) and "500" in why(reason, source), (mart, reason)
                for source in depends_on(depends, mart) & bad:
                    assert f"blocking check failed on {source}/" in why(reason, source), (mart, reason)
                assert content(serving, mart) == before[mart], f"{mart} changed though held back"
                assert data_as_of is not None and data_as_of < as_of, (mart, data_as_of)
            else:
                assert state == "fresh" and reason is None and data_as_of == as_of, (mart, status[mart], summary)
        # The summary's held-back section lists exactly these marts (grouped by reason).
        lines = summary.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("  held back ("))
        end = next(i for i, line in enumerate(lines) if line.startswith("  serving file: "))
        listed = {name for line in lines[start + 1 : end] for name in line.strip().split(": ")[0].split(", ")}
        assert listed == held, (listed, held)
        # The report says the same at its top.
        page = (serving.parent / "report" / "index.html").read_text()
        assert f"<strong>{len(held)} marts held back</strong>" in page
        covered["http_500"] |= failing
        covered["bad_row"] |= bad
        # The daily marts of healthy sources took the new day: fresh for real, not a copy.
        if not broken & {"par_yield_curve"}:
            assert content(serving, "mart_yield_curve_daily") != before["mart_yield_curve_daily"]
    assert covered == {"http_500": set(ORDER), "bad_row": set(ORDER)}
    # The next good build publishes everything fresh and exits 0.
    as_of = date(2025, 7, 7)
    with serve(Breaker(as_of)) as root:
        code, summary = build(monkeypatch, base_urls(root), as_of)
    assert code == 0, summary
    assert summary.splitlines()[-1].startswith("Pipeline run (") and "SUCCESS" in summary.splitlines()[-1], summary
    status = build_status(serving)
    assert {mart: s[0] for mart, s in status.items()} == dict.fromkeys(all_marts, "fresh"), status


def depends_on(depends: dict[str, set[str]], mart: str) -> set[str]:
    return {source for source, marts in depends.items() if mart in marts}


def why(reason: str, source: str) -> str:
    """The part of a held-back reason about one source (`source <name> blocked (...)`; empty if absent)."""
    start = reason.find(f"source {source} blocked (")
    if start < 0:
        return ""
    end = reason.find("; source ", start + 1)
    return reason[start : end if end > 0 else None]
