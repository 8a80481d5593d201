"""Paging through a FiscalData query (`{"data": [...], "meta": {...}, "links": {...}}`), shared by the sources that
read FiscalData: dlt's REST client with its page-number paginator, every page checked before it is used."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

from ingestion.common.http import http_errors, json_page_hook, rest_client

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
