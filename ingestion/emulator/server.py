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
from ingestion.emulator import auctions, cftc, dealers, debt, fiscaldata, fred, funding, socrata, tic, yields
from ingestion.settings import as_of as default_as_of
from ingestion.treasury_auctions.fields import AUCTIONS_QUERY_FIELDS, UPCOMING_AUCTIONS_FIELDS
from ingestion.treasury_debt.fields import DEBT_TO_THE_PENNY_FIELDS, MSPD_TABLE_1_FIELDS

FISCALDATA_ROOT = "/services/api/fiscal_service"
AUCTIONS_PATH = FISCALDATA_ROOT + "/v1/accounting/od/auctions_query"
UPCOMING_PATH = FISCALDATA_ROOT + "/v1/accounting/od/upcoming_auctions"
YIELD_ROOT = "/resource-center/data-chart-center/interest-rates"
YIELD_CSV_PREFIX = YIELD_ROOT + "/daily-treasury-rates.csv/"
SOCRATA_RESOURCE = "/resource/"
TIC_ROOT = "/resource-center/data-chart-center/tic/Documents"
DEBT_TO_THE_PENNY_PATH = FISCALDATA_ROOT + "/v2/accounting/od/debt_to_penny"
MSPD_TABLE_1_PATH = FISCALDATA_ROOT + "/v1/debt/mspd/mspd_table_1"
NYFED_ROOT = "/api"
PD_ROOT = NYFED_ROOT + "/pd"
FRED_ROOT = "/graph"
NYFED_JSON = "application/json; charset=utf-8"


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
        if (
            path in (f"{TIC_ROOT}/slt_table5.txt", f"{TIC_ROOT}/mfhhis01.txt")
            and tic.latest_month(self.as_of) < tic.HISTORY_START
        ):
            # Before the first published month (March 2000) the files did not exist.
            return 404, "text/plain", f"no such file before {tic.HISTORY_START:%B %Y}: {path}".encode()
        if path == f"{TIC_ROOT}/slt_table5.txt":
            return 200, "text/plain", tic.render_current(tic.tic_data(self.as_of, self.revised)).encode()
        if path == f"{TIC_ROOT}/mfhhis01.txt":
            return 200, "text/plain", tic.render_history(tic.tic_data(self.as_of, self.revised)).encode()
        if path == DEBT_TO_THE_PENNY_PATH:
            answer = fiscaldata.query(debt.debt_to_the_penny(self.as_of), DEBT_TO_THE_PENNY_FIELDS, params)
            return 200, "application/json", orjson.dumps(answer)
        if path == MSPD_TABLE_1_PATH:
            answer = fiscaldata.query(debt.mspd_table_1(self.as_of), MSPD_TABLE_1_FIELDS, params)
            return 200, "application/json", orjson.dumps(answer)
        if path.startswith(PD_ROOT + "/"):
            return self._primary_dealers(path[len(PD_ROOT) + 1 :])
        if path.startswith(NYFED_ROOT + "/rates/") or path.startswith(NYFED_ROOT + "/rp/"):
            return self._funding(path[len(NYFED_ROOT) + 1 :], params)
        if path == f"{FRED_ROOT}/fredgraph.csv":
            ids = [i for i in params.get("id", "").split(",") if i]
            try:
                start, end = (date.fromisoformat(params[k]) if params.get(k) else None for k in ("cosd", "coed"))
                return 200, "text/csv", fred.render_csv(ids, self.as_of, start, end)
            except (fred.UnknownSeries, ValueError) as exc:
                return 404, "text/plain", f"series or dates not found: {exc}".encode()
        if path == f"{SOCRATA_RESOURCE}{DATASET_ID}.json":
            rows, headers = socrata.query(cftc.tff_table(self.as_of, self.revised), params)
            return 200, "application/json", (orjson.dumps(rows), headers)
        return 404, "text/plain", f"no such endpoint: {path}".encode()

    def _primary_dealers(self, rest: str) -> tuple[int, str, bytes]:
        statistics = dealers.statistics(self.as_of)
        if rest == "list/timeseries.json":
            return 200, NYFED_JSON, dealers.render_list(self.as_of)
        parts = rest.removesuffix(".json").split("/")
        if parts[0] != "get" or not rest.endswith(".json"):
            return 404, "text/plain", f"no such endpoint: {rest}".encode()
        if len(parts) == 4 and parts[2] == "timeseries":  # get/{seriesbreak}/timeseries/{keyid}.json
            series_break, keyids = parts[1], [parts[3]]
        elif len(parts) == 2:  # get/{keyid}.json or get/{k1}_{k2}_...json
            series_break, keyids = "current", parts[1].split("_")
        else:
            return 404, "text/plain", f"no such endpoint: {rest}".encode()
        # An unknown keyid answers 200 with an empty list, as the API does.
        records = [(d, k, v) for k in keyids for d, v in statistics.get((series_break, k), [])]
        records.sort(key=lambda r: (r[0], r[1]))  # by date, then keyid in alphabetical order
        return 200, NYFED_JSON, dealers.render_timeseries(records)

    def _funding(self, rest: str, params: dict[str, str]) -> tuple[int, str, bytes]:
        parts = rest.removesuffix(".json").split("/")
        start, end = params.get("startDate"), params.get("endDate")
        if parts[0] == "rates" and parts[1:] == ["all", "latest"]:
            rates = funding.reference_rates(self.as_of)
            return (
                200,
                NYFED_JSON,
                funding.render_rates([rates[t][-1] for t in ("EFFR", "OBFR", "TGCR", "BGCR", "SOFR")]),
            )
        if parts[0] == "rates" and len(parts) == 4 and parts[3] == "search":
            family, rate_type = parts[1], parts[2].upper()
            rates = funding.reference_rates(self.as_of)
            if rate_type not in rates or funding.FAMILY[rate_type] != family:
                return 404, "text/plain", f"no such rate: {family}/{rate_type}".encode()
            return 200, NYFED_JSON, funding.render_rates(funding.search(rates[rate_type], "effectiveDate", start, end))
        if parts[:4] == ["rp", "all", "all", "results"]:
            operations = funding.repo_operations(self.as_of)
            if parts[4:] == ["search"]:
                return (
                    200,
                    NYFED_JSON,
                    funding.render_operations(funding.search(operations, "operationDate", start, end)),
                )
            if len(parts) == 6 and parts[4] == "last" and parts[5].isdigit():
                return 200, NYFED_JSON, funding.render_operations(operations[: int(parts[5])])
        return 404, "text/plain", f"no such endpoint: {rest}".encode()

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
        "primary_dealers": root + PD_ROOT,
        "funding_rates": root + NYFED_ROOT,
        "fed_custody": root + FRED_ROOT,
        "treasury_debt": root + FISCALDATA_ROOT,
    }
