"""Treasury auction results and the auction calendar from FiscalData (`auctions_query`, `upcoming_auctions`).

Plain dlt, no Dagster; runnable on its own: `python -m ingestion ingest --source treasury_auctions`.

Key: (cusip, auction_date). A CUSIP is auctioned again when a security is reopened, so the CUSIP
alone is not unique; `record_date` changes as FiscalData refreshes a row (announcement, then
results), so it is not part of the key. Rows are merged on the key, so a row announced with "null"
results is updated in place when the results arrive.

Incremental on auction_date with a look-back window (`lookback_days`, default 30): each run re-reads
the auctions from (latest loaded auction date - lookback) on, which picks up late-filled fields.

Point in time: every query has an upper bound, the as-of date (`TREASURY_AS_OF`, default today in New
York). Auctions are read up to it by auction date, and the calendar up to it by record date, the day
FiscalData published the row: an auction announced by then is kept even when it is held later.

A record past those bounds (a server that ignored them, or a date like 2099) fails the load with the
records named, so it never reaches the tables nor moves the cursor; so does a key repeated in one fetch.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import dlt
import pyarrow as pa

from ingestion.common.fiscaldata import MAX_PAGE_SIZE, typed_pages
from ingestion.common.records import DriftReport
from ingestion.common.source import Source
from ingestion.treasury_auctions import expectations, releases
from ingestion.treasury_auctions.fields import (
    AUCTIONS_QUERY_FIELDS,
    AUCTIONS_REQUIRED,
    UPCOMING_AUCTIONS_FIELDS,
    UPCOMING_REQUIRED,
)

NAME = "treasury_auctions"
AUCTIONS_ENDPOINT = "v1/accounting/od/auctions_query"
UPCOMING_ENDPOINT = "v1/accounting/od/upcoming_auctions"
HISTORY_START = date(1979, 1, 1)
KEY = ("cusip", "auction_date")
# The auction calendar lists auctions ahead by design, never further than this.
CALENDAR_HORIZON_DAYS = 400


@dlt.source(name=NAME)
def treasury_auctions(
    as_of: date,
    base_url: str = dlt.config.value,
    page_size: int = MAX_PAGE_SIZE,
    lookback_days: int = 30,
    drift: DriftReport | None = None,
):
    """Auction results (`auctions_query`) and the announced calendar (`upcoming_auctions`), as of `as_of`."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
    drift = drift if drift is not None else DriftReport()
    end = as_of.isoformat()

    @dlt.resource(
        name="auctions_query",
        primary_key=("cusip", "auction_date"),
        write_disposition="merge",
        columns={f: {"nullable": False} for f in AUCTIONS_REQUIRED},
    )
    def auctions_query(
        auction_date=dlt.sources.incremental("auction_date", initial_value=HISTORY_START, lag=lookback_days),
    ) -> Iterator[pa.Table]:
        params = {
            "filter": f"auction_date:gte:{auction_date.start_value.isoformat()},auction_date:lte:{end}",
            "sort": "auction_date,cusip",
            "page[size]": page_size,
        }
        limits = {"auction_date": (as_of, "not yet auctioned on the as-of date")}
        yield from typed_pages(
            f"{NAME}.auctions_query",
            base_url,
            AUCTIONS_ENDPOINT,
            params,
            spec=AUCTIONS_QUERY_FIELDS,
            key=KEY,
            required=AUCTIONS_REQUIRED,
            drift=drift,
            limits=limits,
        )

    @dlt.resource(
        name="upcoming_auctions",
        primary_key=("cusip", "auction_date"),
        write_disposition="merge",
        columns={f: {"nullable": False} for f in UPCOMING_REQUIRED},
    )
    def upcoming_auctions(
        record_date=dlt.sources.incremental("record_date", initial_value=date(2000, 1, 1), lag=lookback_days),
    ) -> Iterator[pa.Table]:
        params = {
            "filter": f"record_date:gte:{record_date.start_value.isoformat()},record_date:lte:{end}",
            "sort": "record_date,auction_date,cusip",
            "page[size]": page_size,
        }
        limits = {
            "record_date": (as_of, "not yet published on the as-of date"),
            "auction_date": (
                as_of + timedelta(days=CALENDAR_HORIZON_DAYS),
                f"announced more than {CALENDAR_HORIZON_DAYS} days ahead",
            ),
        }
        yield from typed_pages(
            f"{NAME}.upcoming_auctions",
            base_url,
            UPCOMING_ENDPOINT,
            params,
            spec=UPCOMING_AUCTIONS_FIELDS,
            key=KEY,
            required=UPCOMING_REQUIRED,
            drift=drift,
            limits=limits,
        )

    return auctions_query, upcoming_auctions


SOURCE = Source(
    name=NAME,
    summary="Treasury auction results and the auction calendar (FiscalData)",
    dlt_source=treasury_auctions,
    suites=expectations.SUITES,
    assess=releases.assess,
    refresh=releases.REFRESH,
    published_at=releases.PUBLISHED_AT,
)
