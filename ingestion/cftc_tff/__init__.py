"""CFTC Traders in Financial Futures, futures only, from the CFTC Public Reporting Environment (Socrata).

Plain dlt, no Dagster; runnable on its own: `python -m ingestion ingest --source cftc_tff`.

Every contract in the report is loaded (Treasuries, SOFR, equity index and currency futures; the
marts filter), with all position, change, percent-of-open-interest, trader-count and concentration
columns, typed. Key: (report date, CFTC contract market code). The contract market code stays text:
it has leading zeros (`042601`) and letters (`13874A`).

Incremental on the report date with a look-back (`lookback_days`, default 28), because the CFTC
republishes corrected weeks. A corrected row replaces the value in `tff_futures_only`, and
`tff_futures_only_vintages` keeps both versions (see `ingestion.common.vintages`).

Point in time: the query's upper bound is the latest report released by the as-of date (a Tuesday's
positions come out on the Friday after, later in a week with a federal holiday; `ingestion.calendar`).
A row past it, or a key repeated in one fetch, fails the load with the rows named: it never reaches the
tables (no two current vintages of one key) nor moves the cursor.

History fallback: the CFTC's yearly zip files are not used. The Socrata dataset holds the full
history from 2006 and pages through it in a few requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import dlt
import pyarrow as pa
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator
from requests import Response

from ingestion.cftc_tff import expectations, releases
from ingestion.cftc_tff.fields import DATASET_ID, POSITIONS, REPORT_DATE, TFF_FIELDS, TFF_REQUIRED
from ingestion.common.http import http_errors, json_page_hook, log, rest_client
from ingestion.common.records import DriftReport, KeyGuard, records_to_table, reject_after, schema_for_first_load
from ingestion.common.source import Source
from ingestion.common.vintages import ROW_HASH, current_and_vintages

NAME = "cftc_tff"
HISTORY_START = date(2006, 1, 1)
KEY = (REPORT_DATE, "cftc_contract_market_code")


class SocrataPaginator(OffsetPaginator):
    """$limit/$offset paging; Socrata sends no total, so a page shorter than the limit is the last."""

    def update_state(self, response: Response, data=None) -> None:
        if data is not None and len(data) < self.limit:
            # The total is known now: the paginator's own bound ends paging (no request for an empty page).
            self.maximum_value = self.current_value + len(data)
        super().update_state(response, data)


def _socrata_page_problem(body) -> str | None:
    return None if isinstance(body, list) else f"expected a JSON array of rows, got {type(body).__name__}"


@dlt.source(name=NAME)
def cftc_tff(
    as_of: date,
    base_url: str = dlt.config.value,
    dataset_id: str = DATASET_ID,
    page_size: int = 10000,
    lookback_days: int = 28,
    drift: DriftReport | None = None,
):
    """TFF futures-only positions released by `as_of`: the current value per key and every published vintage."""
    drift = drift if drift is not None else DriftReport()
    resource = f"{NAME}.tff_futures_only"

    @dlt.resource(name="tff_pages", selected=False)
    def tff_pages(
        report_date=dlt.sources.incremental(REPORT_DATE, initial_value=HISTORY_START, lag=lookback_days),
    ) -> Iterator[pa.Table]:
        # When the pages are read (the release calendar loads pandas: not needed to declare the source).
        last_report = releases.latest_report_released(as_of)
        params = {
            "$where": f"{REPORT_DATE} >= '{report_date.start_value.isoformat()}T00:00:00' "
            f"AND {REPORT_DATE} <= '{last_report.isoformat()}T00:00:00'",
            "$order": f"{REPORT_DATE},id",
        }
        client = rest_client(
            base_url,
            paginator=SocrataPaginator(limit=page_size, offset_param="$offset", limit_param="$limit", total_path=None),
        )
        loaded = 0
        keys = KeyGuard(resource, KEY)
        with http_errors(resource, base_url):
            for number, page in enumerate(
                client.paginate(
                    f"resource/{dataset_id}.json",
                    params=params,
                    hooks={"response": [json_page_hook(resource, _socrata_page_problem)]},
                ),
                start=1,
            ):
                records = list(page)
                where = f"page {number} ({page.response.url})"
                table = records_to_table(
                    records,
                    TFF_FIELDS,
                    source=resource,
                    where=where,
                    key_fields=("id", REPORT_DATE, "cftc_contract_market_code"),
                    required=TFF_REQUIRED,
                    # Socrata leaves null fields out, so only the positions (never null) are the contract.
                    contract=(*TFF_REQUIRED, *POSITIONS),
                    drift=drift,
                    row_hash_column=ROW_HASH,
                )
                keys.check(table, where)
                reject_after(
                    table,
                    REPORT_DATE,
                    last_report,
                    source=resource,
                    where=where,
                    key_fields=KEY,
                    why="not yet released on the as-of date",
                )
                loaded += table.num_rows
                log.info("%s: page %d, %d rows (%d so far)", resource, number, table.num_rows, loaded)
                if table.num_rows:
                    yield table
        if not loaded:
            empty = records_to_table(
                [],
                TFF_FIELDS,
                source=resource,
                where="no rows",
                key_fields=KEY,
                required=TFF_REQUIRED,
                row_hash_column=ROW_HASH,
            )
            yield from schema_for_first_load(["tff_futures_only", "tff_futures_only_vintages"], empty)

    columns = {k: {"nullable": False} for k in TFF_REQUIRED}
    current, vintages = current_and_vintages(
        tff_pages, "tff_futures_only", primary_key=KEY, merge_key=REPORT_DATE, columns=columns
    )
    return tff_pages, current, vintages


SOURCE = Source(
    name=NAME,
    summary="CFTC Traders in Financial Futures positions (Socrata)",
    dlt_source=cftc_tff,
    suites=expectations.SUITES,
    assess=releases.assess,
    refresh=releases.REFRESH,
    published_at=releases.PUBLISHED_AT,
    cutoffs=releases.cutoffs,
)
