"""The API emulator: the public endpoints the pipeline uses, served from the synthetic data set.

`Emulator` is a WSGI app. `serve()` runs it on a loopback port in a background thread (the CLI's `treasury emulator`
and sample mode both use it), so the pipeline's real HTTP code runs unchanged and only the host differs. Each
registered source has a module here named after it (`emulator/<source>.py`) with its `BASE_PATH` (what its base URL
points at) and a `route` that answers its endpoints. A leaf package: the CLI's sample mode and the tests use it, the
loading code never imports it (the tests put their fault injection and request log in front of it as WSGI middleware).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from functools import cache
from importlib import import_module
from socketserver import ThreadingMixIn
from types import ModuleType
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from emulator import fiscaldata, socrata
from ingestion.common.source import published_through
from ingestion.registry import NAMES, SOURCES
from ingestion.settings import END_OF_DAY, NEW_YORK, now_in_new_york
from ingestion.settings import as_of as default_as_of


@cache
def source_modules() -> dict[str, ModuleType]:
    """Each registered source's emulator module, the longest base path first (the NY Fed's /api/pd before /api)."""
    modules = {name: import_module(f"emulator.{name}") for name in NAMES}
    return dict(sorted(modules.items(), key=lambda item: -len(item[1].BASE_PATH)))


SCALE_ENV = "TREASURY_SAMPLE_SCALE"
MAX_SCALE = 8


def default_scale() -> int:
    """`TREASURY_SAMPLE_SCALE`: how many times the sample's cross-section to serve (1, the default, to 8). A larger
    sample for measuring how cost grows with data (`make bench`): k times as many CFTC contracts (synthetic fillers,
    named SYNTHETIC). The other sources' data sets keep their size: their entities join across sources (SOMA's
    CUSIPs are the auctions', TIC's countries and the dealers' keyids are mapped by seeds), so copies would not be
    data the marts can take."""
    text = os.environ.get(SCALE_ENV, "").strip() or "1"
    if not text.isdigit() or not 1 <= int(text) <= MAX_SCALE:
        raise ValueError(f"{SCALE_ENV}={text!r}: expected a whole number from 1 to {MAX_SCALE}")
    return int(text)


@dataclass
class Emulator:
    as_of: date = field(default_factory=default_as_of)
    # The time of day on `as_of` (New York) the data is served as of: each source's day D only once its publication
    # time on D has passed (ingestion/<source>/releases.py PUBLISHED_AT), as the public hosts do. END_OF_DAY: all of
    # `as_of`'s publications; None: live, the date and time of each request (a long-running `treasury dev`).
    clock: time | None = END_OF_DAY
    # How many times the sample's cross-section to serve (see default_scale).
    scale: int = field(default_factory=default_scale)
    # Publish revised releases (a corrected CFTC week, a TIC benchmark revision) for vintage tests.
    revised: bool = False
    # Extra fields added to every auctions_query record, to emulate schema drift upstream.
    drift_fields: dict[str, str] = field(default_factory=dict)
    # Set on the view one source's request is answered from (as_of is then its last publication day): the moment.
    requested_at: datetime | None = None

    @property
    def moment(self) -> datetime:
        if self.clock is None:
            return now_in_new_york()
        return datetime.combine(self.as_of, self.clock, NEW_YORK)

    def serving(self, source: str) -> Emulator:
        """The view a source's endpoints answer from: as of its last publication day whose time has passed."""
        moment = self.moment
        day = published_through(moment, SOURCES[source].published_at)
        return replace(self, as_of=day, clock=END_OF_DAY, requested_at=moment)

    # --- WSGI ---------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        try:
            status, content_type, body = self._route(path, params)
            extra_headers: dict[str, str] = {}
            if isinstance(body, tuple):
                body, extra_headers = body
        except fiscaldata.QueryError as exc:
            status, content_type, extra_headers = 400, "application/json", {}
            body = json.dumps({"error": "Invalid Query Param", "message": str(exc)}).encode()
        except socrata.SoQLError as exc:
            status, content_type, extra_headers = 400, "application/json", {}
            body = json.dumps({"code": "query.soql.invalid", "error": True, "message": str(exc)}).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Error")
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra_headers.items()]
        start_response(f"{status} {reason}", headers)
        return [body]

    def _route(self, path: str, params: dict[str, str]) -> tuple[int, str, bytes | tuple[bytes, dict[str, str]]]:
        for name, module in source_modules().items():
            if path.startswith(module.BASE_PATH):
                answer = module.route(self.serving(name), path, params)
                if answer is not None:
                    return answer
        return 404, "text/plain", f"no such endpoint: {path}".encode()


def release_caches() -> None:
    """Drop the data sets the source modules keep between requests (hundreds of MB for the CFTC's and the auctions'
    histories): a sample build calls it once its loads are done, so the transform does not run beside them."""
    for module in (*source_modules().values(), socrata, fiscaldata):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", "") == module.__name__:
                value.cache_clear()
    socrata.clear_cache()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def serve(emulator: Emulator, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `emulator` on a loopback port in a background thread; yields the root URL."""
    server = make_server(host, port, emulator, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="treasury-emulator", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def base_urls(root: str) -> dict[str, str]:
    """Base URLs of each source on an emulator served at `root`, in the registry's order."""
    modules = source_modules()
    return {name: root + modules[name].BASE_PATH for name in NAMES}
