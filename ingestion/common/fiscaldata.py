"""Paging through a FiscalData query (`{"data": [...], "meta": {...}, "links": {...}}`), shared by the sources that
read FiscalData: dlt's REST client with its page-number paginator, every page checked before it is used, then typed
into an Arrow table with its keys and dates guarded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qs, urlparse

import pyarrow as pa
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

from ingestion.common.http import http_errors, json_page_hook, log, rest_client
from ingestion.common.records import DriftReport, KeyGuard, records_to_table, reject_after, schema_for_first_load

MAX_PAGE_SIZE = 10000


def _page_problem(body) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return "body has no 'data' list"
    meta = body.get("meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("total-pages"), int):
        return "body has no integer 'meta.total-pages'"
    return None


def fiscaldata_pages(
    source: str, base_url: str, endpoint: str, params: dict
) -> Iterator[tuple[list[dict], str, int, int]]:
    """(records, url, page number, total pages) for every page of a FiscalData query; `source` names the resource
    in errors (`treasury_debt.debt_to_the_penny`)."""
    client = rest_client(
        base_url,
        paginator=PageNumberPaginator(base_page=1, page_param="page[number]", total_path="meta.total-pages"),
        data_selector="data",
    )
    with http_errors(source, base_url):
        for page in client.paginate(
            endpoint, params=params, hooks={"response": [json_page_hook(source, _page_problem)]}
        ):
            response = page.response
            body = response.json()
            yield list(page), response.url, _page_number(response.url), body["meta"]["total-pages"]


def _page_number(url: str) -> int:
    values = parse_qs(urlparse(url).query).get("page[number]", ["1"])
    return int(values[0])


def typed_pages(
    source: str,
    base_url: str,
    endpoint: str,
    params: dict,
    *,
    spec: dict[str, str],
    key: tuple[str, ...],
    required: tuple[str, ...],
    drift: DriftReport,
    limits: dict[str, tuple[date, str]],
) -> Iterator[pa.Table]:
    """Typed pages of a FiscalData query (`source` = `<source>.<resource>`); fails on a key repeated in the fetch or
    on a record dated after its limit (`limits`: column -> (date, why))."""
    loaded = 0
    keys = KeyGuard(source, key)
    for records, url, number, total in fiscaldata_pages(source, base_url, endpoint, params):
        where = f"page {number} of {total} ({url})"
        # FiscalData sends every field in every record ("null" for no value): all of them are the contract.
        table = records_to_table(
            records, spec, source=source, where=where, key_fields=key, required=required, contract=spec, drift=drift
        )
        keys.check(table, where)
        for column, (limit, why) in limits.items():
            reject_after(table, column, limit, source=source, where=where, key_fields=key, why=why)
        loaded += table.num_rows
        log.info("%s: page %d/%d, %d rows (%d so far)", source, number, total, table.num_rows, loaded)
        if table.num_rows:
            yield table
    if not loaded:
        empty = records_to_table([], spec, source=source, where="no rows", key_fields=key, required=required)
        yield from schema_for_first_load([source.split(".")[-1]], empty)
