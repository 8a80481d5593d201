"""Federal debt outstanding from FiscalData: Debt to the Penny (v2, daily) and MSPD table 1 (v1, monthly).

Plain dlt, no Dagster; runnable on its own: `python -m ingestion ingest --source treasury_debt`.

- `debt_to_the_penny`: one row per business day, key `record_date`: debt held by the public, intragovernmental
  holdings and their total, in dollars with cents, as published (the identity public + intragovernmental = total
  is checked, not enforced).
- `mspd_table_1`: the Monthly Statement of the Public Debt's summary, one row per month, security type and class,
  key (record_date, security_type_desc, security_class_desc), $ millions. The marketable total is the row whose
  type is `Total Marketable` (class `_`); a class with nothing outstanding has no row at all.

Incremental on record_date with a look-back window (`lookback_days`) that re-reads recent records (FiscalData
revises the latest figures now and then). Point in time: Debt to the Penny for day D is published on the next
business day, so a build as of D reads up to D - 1; the MSPD for month M comes out on the fourth business day of
M + 1, so a build reads the months published by its as-of date. A record past those bounds fails the load, named.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import dlt
import pyarrow as pa

from ingestion.common.fiscaldata import MAX_PAGE_SIZE, typed_pages
from ingestion.common.records import DriftReport
from ingestion.common.source import Source
from ingestion.treasury_debt import expectations, releases
from ingestion.treasury_debt.fields import (
    DEBT_TO_THE_PENNY_FIELDS,
    DEBT_TO_THE_PENNY_REQUIRED,
    MSPD_TABLE_1_FIELDS,
    MSPD_TABLE_1_REQUIRED,
)

NAME = "treasury_debt"
DEBT_TO_THE_PENNY_ENDPOINT = "v2/accounting/od/debt_to_penny"
MSPD_TABLE_1_ENDPOINT = "v1/debt/mspd/mspd_table_1"
DEBT_TO_THE_PENNY_START = date(1993, 4, 1)  # the first record FiscalData serves
MSPD_START = date(2001, 1, 31)
MSPD_KEY = ("record_date", "security_type_desc", "security_class_desc")
NOT_YET_PUBLISHED = "not yet published on the as-of date"


@dlt.source(name=NAME)
def treasury_debt(
    as_of: date,
    base_url: str = dlt.config.value,
    page_size: int = MAX_PAGE_SIZE,
    lookback_days: int = 45,
    drift: DriftReport | None = None,
):
    """Debt to the Penny and MSPD table 1, as published by `as_of`."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
    drift = drift if drift is not None else DriftReport()

    @dlt.resource(
        name="debt_to_the_penny",
        primary_key="record_date",
        write_disposition="merge",
        columns={f: {"nullable": False} for f in DEBT_TO_THE_PENNY_REQUIRED},
    )
    def debt_to_the_penny(
        record_date=dlt.sources.incremental("record_date", initial_value=DEBT_TO_THE_PENNY_START, lag=lookback_days),
    ) -> Iterator[pa.Table]:
        published_through = as_of - timedelta(days=1)  # day D is published on the next business day
        params = {
            "filter": f"record_date:gte:{record_date.start_value.isoformat()},"
            f"record_date:lte:{published_through.isoformat()}",
            "sort": "record_date",
            "page[size]": page_size,
        }
        yield from typed_pages(
            f"{NAME}.debt_to_the_penny",
            base_url,
            DEBT_TO_THE_PENNY_ENDPOINT,
            params,
            spec=DEBT_TO_THE_PENNY_FIELDS,
            key=("record_date",),
            required=DEBT_TO_THE_PENNY_REQUIRED,
            drift=drift,
            limits={"record_date": (published_through, NOT_YET_PUBLISHED)},
        )

    @dlt.resource(
        name="mspd_table_1",
        primary_key=MSPD_KEY,
        write_disposition="merge",
        columns={f: {"nullable": False} for f in MSPD_TABLE_1_REQUIRED},
    )
    def mspd_table_1(
        record_date=dlt.sources.incremental("record_date", initial_value=MSPD_START, lag=lookback_days),
    ) -> Iterator[pa.Table]:
        published_through = releases.latest_mspd_month_released(as_of)
        params = {
            "filter": f"record_date:gte:{record_date.start_value.isoformat()},"
            f"record_date:lte:{published_through.isoformat()}",
            "sort": "record_date,src_line_nbr",
            "page[size]": page_size,
        }
        yield from typed_pages(
            f"{NAME}.mspd_table_1",
            base_url,
            MSPD_TABLE_1_ENDPOINT,
            params,
            spec=MSPD_TABLE_1_FIELDS,
            key=MSPD_KEY,
            required=MSPD_TABLE_1_REQUIRED,
            drift=drift,
            limits={"record_date": (published_through, NOT_YET_PUBLISHED)},
        )

    return debt_to_the_penny, mspd_table_1


SOURCE = Source(
    name=NAME,
    summary="Debt to the Penny and the MSPD (FiscalData)",
    dlt_source=treasury_debt,
    suites=expectations.SUITES,
    assess=releases.assess,
    refresh=releases.REFRESH,
    published_at=releases.PUBLISHED_AT,
    cutoffs=releases.cutoffs,
)
