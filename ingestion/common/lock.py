"""One writer per warehouse: a lock file beside it, held by the process that writes.

DuckDB allows one writing process per file. Two runs at once would fail late and confusingly (a lost load
package, a locked file mid-build), so a run takes `<warehouse>.lock` first and a second one stops at once
with "another run is writing <path> (pid N, started T)". The lock is an OS lock (`flock`) on an open file:
it goes away with the process, so a killed run never leaves a stale lock behind. Re-entrant within a process
(the CLI holds it for the whole build while each Dagster step asks for it again).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion.common.warehouse import connect


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


_held: dict[Path, int] = {}  # lock file -> depth, in this process
_guard = threading.Lock()


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def writer_lock(warehouse: Path) -> Iterator[None]:
    """Hold the warehouse's writer lock for the duration; raise WarehouseBusy at once if another process has it."""
    path = lock_path(warehouse.resolve())
    with _guard:
        if path in _held:
            _held[path] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[path] -= 1
        return
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
        with _guard:
            _held[path] = 1
        try:
            yield
        finally:
            with _guard:
                del _held[path]
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the file releases the lock


def check_not_open_elsewhere(warehouse: Path) -> None:
    """Fail with one clear line when another program (a BI tool, a SQL shell) holds the warehouse file open:
    DuckDB would otherwise fail deep inside the load with a lock error."""
    if not warehouse.exists():
        return
    try:
        connect(warehouse, read_only=False).close()
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(
                f"the warehouse {warehouse} is open in another program; BI tools and SQL shells must open the "
                "serving file (TREASURY_SERVING), read-only"
            ) from exc
        raise
