"""Fault injection and a request log in front of any WSGI app (the emulator, the real-payload replay): test code.

Faults are queued per path (and optionally query): an HTTP status with an optional Retry-After, a 200 with a given
(malformed) body, a connection cut mid-body, a delay. Every answered request is logged with its status.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from emulator.server import Emulator


@dataclass
class Fault:
    """A scripted failure for requests whose path contains `path_contains` (and query, `query_contains`)."""

    path_contains: str
    status: int = 500
    times: int | None = 1  # None: forever
    retry_after: str | None = None
    body: str | None = None  # a 200 with this body when status == 200 (malformed payloads)
    cut: bool = False  # send headers promising more bytes than are sent, then close
    delay: float = 0.0
    query_contains: str = ""


@dataclass
class LoggedRequest:
    path: str
    params: dict[str, str]
    status: int
    at: float = field(default_factory=time.monotonic)  # when it arrived


class FaultyAPI:
    """WSGI middleware: answers from `app` unless a queued fault matches; logs every request. Attributes it does not
    have (`as_of`, `revised`, `drift_fields`, ...) are the wrapped app's."""

    def __init__(self, app) -> None:
        self.__dict__.update(app=app, requests=[], faults=[], _lock=threading.Lock())

    def __getattr__(self, name):
        return getattr(self.app, name)

    def __setattr__(self, name, value):
        setattr(self.app, name, value)

    def add_fault(self, path_contains: str, **kwargs) -> Fault:
        fault = Fault(path_contains, **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def requests_to(self, path_contains: str) -> list[LoggedRequest]:
        return [r for r in self.requests if path_contains in r.path]

    def _take_fault(self, path: str, query: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.path_contains in path and fault.query_contains in query and fault.times != 0:
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _log(self, path: str, params: dict[str, str], status: int, at: float | None = None) -> None:
        with self._lock:
            self.requests.append(LoggedRequest(path, params, status, at if at is not None else time.monotonic()))

    def __call__(self, environ, start_response):
        arrived = time.monotonic()
        path = environ.get("PATH_INFO", "")
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        fault = self._take_fault(path, environ.get("QUERY_STRING", ""))
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.cut:
                self._log(path, params, 200)
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "100000")])
                return [b'{"data":[{"cusip":"9127']
            if fault.status != 200:
                headers = [("Content-Type", "application/json")]
                if fault.retry_after is not None:
                    headers.append(("Retry-After", fault.retry_after))
                self._log(path, params, fault.status)
                start_response(f"{fault.status} Emulated fault", headers)
                return [json.dumps({"error": "emulated fault", "status": fault.status}).encode()]
            if fault.body is not None:
                self._log(path, params, 200)
                start_response("200 OK", [("Content-Type", "application/json")])
                return [fault.body.encode()]
        status = []

        def recording_start_response(status_line, headers, exc_info=None):
            status.append(int(status_line.split()[0]))
            return start_response(status_line, headers, exc_info)

        body = self.app(environ, recording_start_response)
        self._log(path, params, status[0] if status else 0, arrived)
        return body


def emulated(**kwargs) -> FaultyAPI:
    """The emulator with fault injection and a request log in front."""
    return FaultyAPI(Emulator(**kwargs))
