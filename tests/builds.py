"""Test helpers that build warehouses through the project's own code paths: the sample API for the session, and
`dbt build` through the one dbt path (dagster-dbt's resource, as the Dagster assets run it)."""

from __future__ import annotations

import atexit
import shutil
from contextlib import ExitStack
from functools import cache
from pathlib import Path

import pytest

from emulator.server import Emulator, base_urls, serve


@cache
def sample_urls() -> dict[str, str]:
    """The emulator (as of the tests' AS_OF), served once per test session; each source's base URL."""
    from tests.conftest import AS_OF

    stack = ExitStack()
    atexit.register(stack.close)
    return base_urls(stack.enter_context(serve(Emulator(as_of=AS_OF))))


def point_sources_at(monkeypatch: pytest.MonkeyPatch, urls: dict[str, str]) -> None:
    """What `--sample` does: each source's host in dlt's configuration."""
    for source, url in urls.items():
        monkeypatch.setenv(f"SOURCES__{source.upper()}__BASE_URL", url)


def dbt_build(monkeypatch: pytest.MonkeyPatch, warehouse: Path, select: str | None = None) -> dict[str, int]:
    """`dbt build` (optionally `--select`) on `warehouse`; the count of results per status (pass, success, fail...)."""
    from dagster_project.lib.dbt import dbt_resource

    monkeypatch.setenv("TREASURY_WAREHOUSE", str(warehouse))
    invocation = dbt_resource().cli(["build", *(["--select", select] if select else [])], raise_on_error=False).wait()
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    finally:
        shutil.rmtree(invocation.target_path, ignore_errors=True)
    counts: dict[str, int] = {}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        counts[f"{kind}:{result['status']}"] = counts.get(f"{kind}:{result['status']}", 0) + 1
    return counts
