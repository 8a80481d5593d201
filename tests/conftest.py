"""Shared fixtures: an isolated environment per test, fixture files, and the emulator on a loopback port."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import pytest

from ingestion.emulator.server import Emulator, base_urls, serve

FIXTURES = Path(__file__).parent / "fixtures"
# Real payloads from the public APIs live beside the repo (shared/reference-data) when it is checked out there.
REFERENCE_DATA = Path(__file__).resolve().parents[2] / "shared" / "reference-data"
# A fixed as-of date keeps the synthetic history identical from run to run.
AS_OF = date(2025, 6, 30)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No test sees the developer's settings; retries are fast and bounded."""
    for name in (
        "TREASURY_SAMPLE",
        "TREASURY_AS_OF",
        "TREASURY_SERVING",
        "SOURCES__TREASURY_AUCTIONS__BASE_URL",
        "SOURCES__PAR_YIELD_CURVE__BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TREASURY_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "0.5")
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "20")
    monkeypatch.chdir(tmp_path)  # dlt reads .dlt/ from the working directory: none here
    logging.getLogger("treasury").setLevel(logging.INFO)


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(as_of=AS_OF)


@pytest.fixture
def served(emulator):
    """(emulator, {source: base_url}) with the emulator listening on 127.0.0.1."""
    with serve(emulator) as root:
        yield emulator, base_urls(root)


def load_fixture_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def reference(path: str) -> Path:
    file = REFERENCE_DATA / path
    if not file.exists():
        pytest.skip(f"reference payload {path} not checked out beside the repo")
    return file
