"""HTTP for every source: dlt's retrying requests client and REST client, with bounded waits.

Retries cover HTTP 429 and 5xx, timeouts and dropped connections, with exponential backoff. A
`Retry-After` header is honoured but capped at `runtime.request_max_retry_delay`, so a server asking
for an hour cannot stall a run. Attempts, backoff, cap and timeout come from dlt's `[runtime]` config
(`RUNTIME__REQUEST_MAX_ATTEMPTS`, `..._BACKOFF_FACTOR`, `..._MAX_RETRY_DELAY`, `..._TIMEOUT`).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from dlt.common.json import json
from dlt.sources.helpers.requests.retry import DEFAULT_RETRY_STATUS, Client
from dlt.sources.helpers.requests.session import Session
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import HTTPError, RequestException, Response

from ingestion.common.errors import SourceDataError, SourceHTTPError

log = logging.getLogger("treasury.ingest")


def make_session(*, raise_for_status: bool = True) -> Session:
    """A requests session with the project's retry policy, configured from dlt's runtime config. dlt's own client
    honours Retry-After and caps it at `request_max_retry_delay`, so a server asking for an hour cannot stall a run."""
    client = Client(raise_for_status=raise_for_status)
    client.configure()
    session = client.session
    session.hooks["response"].append(_log_retryable)
    return session


def _log_retryable(response: Response, *args, **kwargs) -> None:
    """Say so when an answer is one dlt's client retries (it waits and asks again without a word, until
    `request_max_attempts` is used up)."""
    if response.status_code in DEFAULT_RETRY_STATUS:  # the statuses dlt's client retries
        retry_after = response.headers.get("Retry-After")
        log.warning(
            "HTTP %s from %s: retried while attempts remain%s",
            response.status_code,
            response.url,
            f" (server asks for {retry_after}s; capped at request_max_retry_delay)" if retry_after else "",
        )


def rest_client(base_url: str, paginator: BasePaginator | None = None, data_selector: str | None = None) -> RESTClient:
    # RESTClient raises for status in its response hooks (see `raise_then`), after the retries.
    return RESTClient(
        base_url=base_url,
        session=make_session(raise_for_status=False),
        paginator=paginator,
        data_selector=data_selector,
    )


def raise_then(check):
    """A response hook: raise HTTPError for an error status (retried by the session), else run `check`."""

    def hook(response: Response, *args, **kwargs) -> None:
        _log_retryable(response)  # a request's own hooks replace the session's
        response.raise_for_status()
        check(response)

    return hook


def json_page_hook(source: str, problem_with):
    """A response hook for JSON APIs: raise for an error status (retried by the session), then parse the body
    once and fail, naming the page URL, if it is not JSON or `problem_with(body)` returns a problem."""

    def check(response: Response) -> None:
        try:
            body = parse_json_once(response)
        except ValueError as exc:
            raise SourceDataError(source, f"page {response.url}", f"body is not JSON ({exc})") from exc
        problem = problem_with(body)
        if problem:
            raise SourceDataError(source, f"page {response.url}", problem)

    return raise_then(check)


def parse_json_once(response: Response):
    """Parse the body and make later `response.json()` calls (RESTClient's) reuse it: pages run to 10+ MB."""
    body = json.loadb(response.content)  # dlt's JSON (orjson): several times faster than requests' on 10+ MB pages
    response.json = lambda **kwargs: body  # type: ignore[method-assign]
    return body


def read_exact_json(response: Response, source: str):
    """The body with every JSON number as an exact Decimal or int (`5.00` must not become 5.0 on the way); a body
    that is not JSON fails naming the source and the page."""
    import json as stdlib_json
    from decimal import Decimal

    try:
        return stdlib_json.loads(response.content, parse_float=Decimal)
    except ValueError as exc:
        raise SourceDataError(source, f"page {response.url}", f"body is not JSON ({exc})") from exc


def describe_response(response: Response) -> str:
    return f"HTTP {response.status_code} {response.reason}: {response.text[:200]!r}"


@contextmanager
def http_errors(source: str, url: str):
    """Turn what is left of an HTTP failure after the retries into an error naming the source and URL."""
    try:
        yield
    except HTTPError as exc:
        response = exc.response
        if response is None:
            raise SourceHTTPError(source, url, str(exc)) from exc
        raise SourceHTTPError(
            source, response.url, f"{describe_response(response)} (after retries)", response.status_code
        ) from exc
    except RequestException as exc:
        raise SourceHTTPError(source, getattr(exc.request, "url", None) or url, f"{type(exc).__name__}: {exc}") from exc
