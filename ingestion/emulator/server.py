"""The API emulator: the public endpoints the pipeline uses, served from the synthetic data set.

`Emulator` is a WSGI app. `serve()` runs it on a loopback port in a background thread (the CLI's
`treasury emulator` and sample mode both use it), so the pipeline's real HTTP code runs unchanged and
only the host differs. A leaf package: the CLI and the tests use it, the loading code never imports it
(the tests put their fault injection and request log in front of it as WSGI middleware).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from socketserver import ThreadingMixIn
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import orjson

from ingestion.cftc_tff.fields import DATASET_ID
from ingestion.emulator import auctions, cftc, fiscaldata, socrata, tic, yields
from ingestion.settings import as_of as default_as_of
from ingestion.treasury_auctions.fields import AUCTIONS_QUERY_FIELDS, UPCOMING_AUCTIONS_FIELDS

FISCALDATA_ROOT = "/services/api/fiscal_service"
AUCTIONS_PATH = FISCALDATA_ROOT + "/v1/accounting/od/auctions_query"
UPCOMING_PATH = FISCALDATA_ROOT + "/v1/accounting/od/upcoming_auctions"
YIELD_ROOT = "/resource-center/data-chart-center/interest-rates"
YIELD_CSV_PREFIX = YIELD_ROOT + "/daily-treasury-rates.csv/"
SOCRATA_RESOURCE = "/resource/"
TIC_ROOT = "/resource-center/data-chart-center/tic/Documents"


@dataclass
class Emulator:
    as_of: date = field(default_factory=default_as_of)
    # Publish revised releases (a corrected CFTC week, a TIC benchmark revision) for vintage tests.
    revised: bool = False
    # Extra fields added to every auctions_query record, to emulate schema drift upstream.
    drift_fields: dict[str, str] = field(default_factory=dict)

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
        if path == AUCTIONS_PATH:
            records = auctions.auction_records(self.as_of)
            spec = dict(AUCTIONS_QUERY_FIELDS)
            if self.drift_fields:
                records = tuple({**r, **self.drift_fields} for r in records)
                spec.update({k: "text" for k in self.drift_fields})
            return 200, "application/json", orjson.dumps(fiscaldata.query(records, spec, params))
        if path == UPCOMING_PATH:
            answer = fiscaldata.query(auctions.upcoming_records(self.as_of), UPCOMING_AUCTIONS_FIELDS, params)
            return 200, "application/json", json.dumps(answer).encode()
        if path.startswith(YIELD_CSV_PREFIX):
            parts = path[len(YIELD_CSV_PREFIX) :].strip("/").split("/")
            if params.get("type") != "daily_treasury_yield_curve":
                return 404, "text/plain", b"unknown type"
            if parts[0] == "all":
                years = range(yields.HISTORY_START.year, self.as_of.year + 1)
            elif parts[0].isdigit():
                years = [int(parts[0])]
            else:
                return 404, "text/plain", b"unknown year"
            return 200, "text/csv; charset=utf-8", self._yield_csv(list(years)).encode()
        if path == f"{TIC_ROOT}/slt_table5.txt":
            return 200, "text/plain", tic.render_current(tic.tic_data(self.as_of, self.revised)).encode()
        if path == f"{TIC_ROOT}/mfhhis01.txt":
            return 200, "text/plain", tic.render_history(tic.tic_data(self.as_of, self.revised)).encode()
        if path == f"{SOCRATA_RESOURCE}{DATASET_ID}.json":
            rows, headers = socrata.query(cftc.tff_table(self.as_of, self.revised), params)
            return 200, "application/json", (orjson.dumps(rows), headers)
        return 404, "text/plain", f"no such endpoint: {path}".encode()

    def _yield_csv(self, years: list[int]) -> str:
        curve = yields.build_curve(self.as_of)
        present: list[str] = []
        rows: list[tuple[date, dict[str, float | None]]] = []
        for year in sorted(years, reverse=True):
            labels, year_rows = yields.daily_rows(curve, year)
            present = [label for label, _ in yields.TENORS if label in set(present) | set(labels)]
            rows.extend((d, dict(zip(labels, values))) for d, values in year_rows)
        if not present:
            present = [label for label, _ in yields.TENORS if yields.is_published(label, self.as_of)]
        header = "Date," + ",".join(f'"{label}"' for label in present)
        lines = [header]
        for day, values in rows:
            cells = ["" if values.get(label) is None else f"{values[label]:.2f}" for label in present]
            lines.append(f"{day:%m/%d/%Y}," + ",".join(cells))
        # As served: LF line ends and no final newline.
        return "\n".join(lines)


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
    """Base URLs of each source on an emulator served at `root`."""
    return {
        "treasury_auctions": root + FISCALDATA_ROOT,
        "par_yield_curve": root + YIELD_ROOT,
        "cftc_tff": root,
        "tic_holdings": root + TIC_ROOT,
    }
