"""Shared fixtures: an isolated environment per test, fixture files, the emulator on a loopback port, and one full
sample build through the Dagster job per session (tests that change data work on copies of its files)."""

from __future__ import annotations

import fcntl
import http.server
import json
import logging
import os
import pickle
import shutil
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from emulator.server import base_urls, serve
from ingestion.registry import NAMES
from tests.builds import point_sources_at, sample_urls
from tests.faulty_api import FaultyAPI, emulated

FIXTURES = Path(__file__).parent / "fixtures"
# Real payloads from the public APIs live beside the repo (shared/reference-data) when it is checked out there.
REFERENCE_DATA = Path(__file__).resolve().parents[2] / "shared" / "reference-data"
# A fixed as-of date keeps the synthetic history identical from run to run.
AS_OF = date(2025, 6, 30)
# The alert rules active on AS_OF in the sample (WARN checks on mart_stress_alerts, never blocking): the 2-year of
# 25 June drew weak cover (z -3.0), the 5-year of 26 June little indirect demand (z -3.1) and left dealers 30.2% (z 2.3).
ACTIVE_ALERTS_ON_AS_OF = {
    "active_alert_weak_auction_bid_to_cover",
    "active_alert_weak_auction_indirect_demand",
    "active_alert_weak_auction_dealer_takedown",
}


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No test sees the developer's settings; retries are fast and bounded."""
    # Every source's base URL (all eight: a developer's setting for one of the newer sources once reached the tests).
    for name in (
        "TREASURY_SAMPLE",
        "TREASURY_AS_OF",
        "TREASURY_SERVING",
        *(f"SOURCES__{source.upper()}__BASE_URL" for source in NAMES),
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
def loaded(sample_build, warehouse):
    """The test's warehouse holding every source as of AS_OF: a copy of the session's sample build (the same data the
    emulator serves, and dlt's state in it), instead of loading the whole CFTC history again."""
    shutil.copy(sample_build.warehouse, warehouse)
    return warehouse


@pytest.fixture
def emulator() -> FaultyAPI:
    return emulated(as_of=AS_OF)


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


@dataclass(frozen=True)
class SampleBuild:
    """The warehouse and serving file of a good sample build, kept pristine: copy them before changing anything."""

    warehouse: Path
    serving: Path
    check_evaluations: list
    materializations: dict  # asset key string -> {metadata key: value}
    outbound: list  # connections to non-loopback addresses the build attempted (in-process or through a proxy)
    home: Path  # the HOME the build ran with (where Dagster would log telemetry events)

    def copy_to(self, folder: Path) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        warehouse, serving = folder / "warehouse.duckdb", folder / "serving.duckdb"
        shutil.copy(self.warehouse, warehouse)
        shutil.copy(self.serving, serving)
        return warehouse, serving


def use_sample_env(monkeypatch: pytest.MonkeyPatch, warehouse: Path, serving: Path) -> None:
    """The settings of a sample build: these files, the tests' as-of date, and every source pointed at the emulator."""
    monkeypatch.setenv("TREASURY_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TREASURY_SERVING", str(serving))
    monkeypatch.setenv("TREASURY_AS_OF", AS_OF.isoformat())
    point_sources_at(monkeypatch, sample_urls())


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> SampleBuild:
    """One sample build for the whole test run: with test workers in parallel (pytest-xdist), the first worker that
    needs it builds it while the others wait for it (an OS lock in the run's shared temporary folder), then all of
    them read the record it left (the build is deterministic: building it once per worker only cost time)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, record = shared / "sample_build", shared / "sample_build.pickle"
    with (shared / "sample_build.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            folder.mkdir()
            build = _make_sample_build(folder)
            record.write_bytes(pickle.dumps(build))
    return pickle.loads(record.read_bytes())


def _make_sample_build(folder: Path) -> SampleBuild:
    mp = pytest.MonkeyPatch()
    use_sample_env(mp, folder / "warehouse.duckdb", folder / "serving.duckdb")
    # Nothing may leave the machine: a non-loopback connect in this process is refused and recorded, and child
    # processes (dbt) are sent through a recording proxy on loopback for anything not local.
    outbound: list = []
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and "/" not in host:
            outbound.append(address)
            raise OSError(f"test guard: connection to {address} refused (nothing may leave the machine)")
        return real_connect(sock, address)

    mp.setattr(socket.socket, "connect", guarded_connect)
    home = folder / "home"
    home.mkdir()
    mp.setenv("HOME", str(home))
    try:
        from dagster_project.definitions import defs

        with recording_proxy() as (proxy_url, proxied):
            for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
                mp.setenv(name, proxy_url)
            mp.setenv("NO_PROXY", "127.0.0.1,localhost")
            result = defs().resolve_job_def("refresh_all").execute_in_process()
        outbound.extend(proxied)
        assert result.success
        evaluations = result.get_asset_check_evaluations()
        materializations = {}
        for event in result.all_events:
            if event.is_step_materialization:
                m = event.event_specific_data.materialization
                materializations[m.asset_key.to_user_string()] = {k: v.value for k, v in m.metadata.items()}
    finally:
        mp.undo()
    pristine = folder / "pristine"
    pristine.mkdir()
    for name in ("warehouse.duckdb", "serving.duckdb"):
        shutil.copy(folder / name, pristine / name)
    return SampleBuild(
        pristine / "warehouse.duckdb", pristine / "serving.duckdb", evaluations, materializations, outbound, home
    )


@contextmanager
def recording_proxy():
    """An HTTP proxy on loopback that forwards nothing and records every request it gets: (URL, requests)."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _refuse(self):
            seen.append(f"{self.command} {self.path}")
            self.send_error(403, "test proxy: nothing may leave the machine")

        do_GET = do_POST = do_CONNECT = do_HEAD = _refuse  # noqa: N815 - names fixed by the base class

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.hookimpl(trylast=True)  # after `-m` has deselected: the order of what runs
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order test workers take the test files in (`--dist loadfile`: a file at a time, so a module's shared
    build is made once), each file's tests together and in file order:

    1. the files with slow tests (whole builds, real processes) first, the short files last, so that they fill in
       at the end instead of one worker finishing a four-build test while the other waits;
    2. within each, the first file that needs the sample build, then the files that do not, then the others that
       do: one worker makes the sample build while the other runs tests that need none.
    """
    files = list(dict.fromkeys(item.path for item in items))
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    needs_build = {item.path for item in items if "sample_build" in item.fixturenames}
    first_needing: dict[bool, Path] = {}  # slow or not -> the first file of that kind that needs the sample build
    for path in files:
        if path in needs_build:
            first_needing.setdefault(path in slow, path)

    def rank(path: Path) -> tuple[bool, int, int]:
        group = 0 if first_needing.get(path in slow) == path else 2 if path in needs_build else 1
        return (path not in slow, group, files.index(path))

    ranks = {path: rank(path) for path in files}
    items.sort(key=lambda item: ranks[item.path])
