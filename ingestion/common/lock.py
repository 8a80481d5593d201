"""One writer per warehouse: a lock file beside it, held by the process that writes.

DuckDB allows one writing process per file. Two runs at once would fail late and confusingly (a lost load
package, a locked file mid-build), so a run takes `<warehouse>.lock` first and a second one stops at once
with "another run is writing <path> (pid N, started T)". The lock is an OS lock (`flock`) on an open file:
it goes away with the process, so a killed run never leaves a stale lock behind. Re-entrant within a process
(the CLI holds it for the whole build while each Dagster step asks for it again).

A lake with a local catalog (SQLite or DuckDB file) keeps the same rule, with the lock beside its catalog: SQLite
takes one writer at a time, and DuckLake's commit retries give up after about a second of waiting, so two
builds would fail at random instead of at once. Readers never take it. A lake with a PostgreSQL catalog takes
many writers: its locks are PostgreSQL advisory locks, one per *scope* (`source:<name>` for a source's load,
`build` for dbt and publish), so two loads of different sources commit side by side while a second load of the
same source, or a second build, stops at once with the holder named.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion.common.lake import Lake
from ingestion.common.warehouse import Target, connect

BUILD_SCOPE = "build"


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one of another user counts): how a run left behind by a killed
    process is told from a running one."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WarehouseBusy(RuntimeError):
    """Another process writes the warehouse, or holds it open."""


_held: dict[object, int] = {}  # lock (a lock file, or a catalog and scope) -> depth, in this process
_guard = threading.Lock()


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def source_scope(name: str) -> str:
    return f"source:{name}"


@contextmanager
def writer_lock(warehouse: Target, scopes: tuple[str, ...] = (BUILD_SCOPE,)) -> Iterator[None]:
    """Hold the warehouse's writer lock for the duration; raise WarehouseBusy at once if another process has it.
    `scopes` matter on a PostgreSQL-catalog lake only (one lock each); elsewhere there is one lock."""
    with ExitStack() as stack:
        if isinstance(warehouse, Lake) and warehouse.catalog_file is None:
            for scope in scopes:
                stack.enter_context(
                    _reentrant((warehouse.catalog, scope), lambda s=scope: _advisory_lock(warehouse, s))
                )
        else:
            file = warehouse.catalog_file if isinstance(warehouse, Lake) else warehouse
            path = lock_path(file.resolve())
            stack.enter_context(_reentrant(path, lambda: _file_lock(path, file)))
        yield


@contextmanager
def _reentrant(key: object, acquire) -> Iterator[None]:
    """`acquire()` (a context manager) held once per process for `key`: a nested hold in the same process (the CLI
    holds the lock for the whole build while each Dagster step asks for it again) only counts."""
    with _guard:
        depth = _held.get(key, 0)
        _held[key] = depth + 1
    try:
        if depth:
            yield
        else:
            with acquire():
                yield
    finally:
        with _guard:
            _held[key] -= 1
            if not _held[key]:
                del _held[key]


@contextmanager
def _file_lock(path: Path, warehouse: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown process"
            raise WarehouseBusy(f"another run is writing {warehouse} ({holder})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {datetime.now().isoformat(timespec='seconds')}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the file releases the lock


def _advisory_key(scope: str) -> int:
    """A stable signed 64-bit key for the scope (PostgreSQL advisory locks are keyed by bigint)."""
    digest = hashlib.sha256(f"treasury-warehouse:{scope}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _advisory_lock(lake: Lake, scope: str) -> Iterator[None]:
    """A session-level advisory lock on the lake's PostgreSQL catalog, held by a connection of its own for the
    duration (it goes away with the process: PostgreSQL ends the session when the socket closes)."""
    import psycopg2

    started = datetime.now().isoformat(timespec="seconds")
    key = _advisory_key(scope)
    conn = psycopg2.connect(lake.conninfo, application_name=f"treasury pid {os.getpid()}, started {started}"[:63])
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(%s)", [key])
            if not cur.fetchone()[0]:
                cur.execute(
                    "select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid "
                    "where l.locktype = 'advisory' and l.granted "
                    "and l.objsubid = 1 and ((l.classid::bigint << 32) | l.objid::bigint) = %s",
                    [key],
                )
                holder = cur.fetchone()
                raise WarehouseBusy(
                    f"another run is writing {scope} of {lake} ({holder[0] if holder else 'unknown process'})"
                )
        yield
    finally:
        conn.close()  # ends the session: the lock goes with it


def check_not_open_elsewhere(warehouse: Target) -> None:
    """Fail with one clear line when another program (a BI tool, a SQL shell) holds the warehouse file open:
    DuckDB would otherwise fail deep inside the load with a lock error. (A lake is never held open.)"""
    if isinstance(warehouse, Lake) or not warehouse.exists():
        return
    try:
        connect(warehouse, read_only=False).close()
    except duckdb.IOException as exc:
        # DuckDB: 'Could not set lock on file "...": Conflicting lock is held in ...' ("block" is no lock).
        if "conflicting lock" in str(exc).lower() or "could not set lock" in str(exc).lower():
            raise WarehouseBusy(
                f"the warehouse {warehouse} is open in another program; BI tools and SQL shells must open the "
                "serving file (TREASURY_SERVING), read-only"
            ) from exc
        versions = re.search(r"version number (\d+), but we can only read versions between (\d+) and (\d+)", str(exc))
        if versions:
            written, oldest, newest = versions.groups()
            raise WarehouseBusy(
                f"the warehouse {warehouse} was written by a newer DuckDB (storage version {written}; DuckDB "
                f"{duckdb.__version__} here reads {oldest} to {newest}): move it aside or set TREASURY_WAREHOUSE to "
                "another file, and build again (the sources are loaded anew)"
            ) from exc
        first_line = str(exc).splitlines()[0].removeprefix("IO Error: ")
        raise WarehouseBusy(
            f"the warehouse {warehouse} cannot be opened by DuckDB {duckdb.__version__} ({first_line}): move it "
            "aside or set TREASURY_WAREHOUSE to another file, and build again (the sources are loaded anew)"
        ) from exc
