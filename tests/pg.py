"""A throwaway PostgreSQL server for the tests: Debian's PostgreSQL (initdb, pg_ctl), a cluster in a temp folder on a
loopback port, trust authentication, stopped and removed afterwards.

initdb refuses to run as root, so as root the cluster belongs to the `postgres` user (the Debian packages make it)
and its commands run as that user. Where PostgreSQL is not installed the tests that need it are skipped with the
reason, unless TREASURY_REQUIRE_POSTGRES=1 (CI sets it: there a missing server is a failure, not a skip).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "treasury"
DATABASE = "treasury"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    folder: Path
    port: int
    bin_dir: Path

    @property
    def conninfo(self) -> str:
        return f"dbname={DATABASE} host=127.0.0.1 port={self.port} user={USER}"

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        argv = [str(self.bin_dir / command[0]), *command[1:]]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    def _must(self, *command: str) -> None:
        result = self._run(*command)
        if result.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr or result.stdout}\n{tail}")

    def start(self) -> None:
        data = self.folder / "data"
        self._must("initdb", "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        self._must(
            "pg_ctl", "-D", str(data), "-l", str(self.folder / "server.log"), "-w", "-t", "60", "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            "start",
        )  # fmt: skip
        self._must("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        """A further database on the server (one lake, or one Dagster instance, each); its conninfo."""
        self._must("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return f"dbname={name} host=127.0.0.1 port={self.port} user={USER}"


def start_server() -> PostgresServer:
    """Start a server (or skip the test, or fail under TREASURY_REQUIRE_POSTGRES=1, when PostgreSQL is missing)."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        message = "PostgreSQL is not installed (Debian: apt-get install postgresql)"
        if os.environ.get("TREASURY_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="treasury-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PostgresServer(folder, _free_port(), bin_dir)
    server.start()
    return server


def remove(server: PostgresServer) -> None:
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)
