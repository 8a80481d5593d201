"""Shared fixtures: an isolated environment per test, fixture files, and the emulator on a loopback port."""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
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


@contextmanager
def reference_api():
    """A server answering with the saved public responses: (base URLs, the auctions_query body as parsed JSON).

    auctions_query and upcoming_auctions return the saved FiscalData pages whatever the query; the yield
    curve returns the saved 2023 CSV for 2023 and a header-only CSV for other years.
    """
    bills = reference("treasury_auctions/fiscaldata_auctions_query_bills_2026-01.json").read_bytes()
    upcoming = reference("treasury_auctions/fiscaldata_upcoming_auctions.json").read_bytes()
    curve_2023 = reference("yield_curve/daily_treasury_par_yield_2023_jan-sep.csv").read_bytes()

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path.endswith("auctions_query"):
            body = bills
        elif path.endswith("upcoming_auctions"):
            body = upcoming
        elif "/2023/" in path:
            body = curve_2023
        else:
            body = b'Date,"1 Mo","3 Mo","10 Yr"'
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    with serve(app) as root:
        yield (
            {"treasury_auctions": root + "/services/api/fiscal_service", "par_yield_curve": root + "/rates"},
            json.loads(bills),
        )
