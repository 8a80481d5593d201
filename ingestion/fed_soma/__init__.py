"""The Fed's SOMA Treasury holdings from the NY Fed markets API (markets.newyorkfed.org/api/soma): what the Federal
Reserve holds of each Treasury security, weekly.

Plain dlt, no Dagster; runnable on its own: `python -m ingestion ingest --source fed_soma`.

- `as_of_dates`: the weekly as-of dates the NY Fed publishes (`asofdates/list.json`, newest first): Wednesdays, the
  Tuesday when a federal holiday falls on the Wednesday (2024-06-18, Juneteenth).
- `treasury_holdings`: one row per (as_of_date, cusip) from `tsy/get/all/asof/{date}.json`: `par_value` in dollars,
  `inflation_compensation` in dollars (TIPS only), `percent_outstanding` the Fed's share of the issue as published,
  `change_from_prior_week` and `change_from_prior_year` in dollars of par, `security_type` one of Bills, NotesBonds,
  FRN, TIPS; the coupon (percent) for coupon securities and the spread (percent) for FRNs. Every value arrives as a
  string, `""` for not applicable (NULL here).

Incremental by as-of date: each run reads the list and fetches the holdings of the dates from the latest loaded less
`lookback_days` (14: the last two or three weeks again, merged over what was loaded) on; a first load reads from
`start_date` (2019-01-01 in .dlt/config.toml: about 360 weekly requests; the NY Fed's history starts 2003-07-09). Point in time: the holdings as of
Wednesday W are published on Thursday W+1 (about 16:30 New York, with the H.4.1), so a build as of D keeps the dates
before D. A record dated other than the date asked for, or after what was published by the as-of date, fails the
load with the records named.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import dlt
import pyarrow as pa

from ingestion.common.errors import SourceDataError
from ingestion.common.http import http_errors, log, make_session, read_exact_json
from ingestion.common.records import (
    DATE,
    DECIMAL,
    MERGE_KEY_GUARDED,
    TEXT,
    DriftReport,
    KeyGuard,
    records_to_table,
    reject_after,
    schema_for_first_load,
)
from ingestion.common.source import Source
from ingestion.fed_soma import expectations, releases

NAME = "fed_soma"
KEY = ("as_of_date", "cusip")
# The API's field names and the columns they load into (the fields the API documents for every SOMA holding).
COLUMNS = {
    "asOfDate": "as_of_date",
    "cusip": "cusip",
    "maturityDate": "maturity_date",
    "issuer": "issuer",
    "spread": "spread",
    "coupon": "coupon",
    "parValue": "par_value",
    "inflationCompensation": "inflation_compensation",
    "percentOutstanding": "percent_outstanding",
    "changeFromPriorWeek": "change_from_prior_week",
    "changeFromPriorYear": "change_from_prior_year",
    "securityType": "security_type",
}
FIELDS = {
    "as_of_date": DATE,
    "cusip": TEXT,
    "security_type": TEXT,
    "maturity_date": DATE,
    "issuer": TEXT,
    "coupon": DECIMAL,
    "spread": DECIMAL,
    "par_value": DECIMAL,
    "inflation_compensation": DECIMAL,
    "percent_outstanding": DECIMAL,
    "change_from_prior_week": DECIMAL,
    "change_from_prior_year": DECIMAL,
}
# A field the API always sends that stops arriving fails the page rather than loading as NULL.
CONTRACT = ("as_of_date", "cusip", "security_type", "par_value")


def _soma(body, source: str, where: str, key: str) -> list:
    if not isinstance(body, dict) or not isinstance(body.get("soma"), dict):
        raise SourceDataError(source, where, "body has no 'soma' object")
    value = body["soma"].get(key)
    if not isinstance(value, list):
        raise SourceDataError(source, where, f"body has no 'soma.{key}' list")
    return value


def parse_as_of_dates(body, *, where: str) -> list[date]:
    """`asofdates/list.json`: the published as-of dates, oldest first."""
    source = f"{NAME}.as_of_dates"
    days = []
    for i, value in enumerate(_soma(body, source, where, "asOfDates")):
        try:
            days.append(date.fromisoformat(value))
        except (TypeError, ValueError) as exc:
            raise SourceDataError(source, where, f"as-of date {i} is {value!r}, not YYYY-MM-DD") from exc
    return sorted(set(days))


def parse_holdings(body, *, as_of_date: date | None, where: str, drift: DriftReport | None = None) -> pa.Table:
    """A `get/.../asof/{date}.json` answer as a typed table, one row per (as_of_date, cusip); every record must be
    dated `as_of_date` when it is given."""
    source = f"{NAME}.treasury_holdings"
    records = []
    for i, record in enumerate(_soma(body, source, where, "holdings")):
        if not isinstance(record, dict):
            raise SourceDataError(source, where, f"record {i} is {type(record).__name__}, expected a JSON object")
        records.append({COLUMNS.get(k, k): v for k, v in record.items()})
    table = records_to_table(
        records, FIELDS, source=source, where=where, key_fields=KEY, required=KEY, contract=CONTRACT, drift=drift
    )
    if as_of_date is not None and table.num_rows:
        dated = set(table["as_of_date"].to_pylist())
        if dated != {as_of_date}:
            other = sorted(str(d) for d in dated - {as_of_date})
            raise SourceDataError(source, where, f"asked for {as_of_date}, records dated {', '.join(other)}")
    return table


@dlt.source(name=NAME)
def fed_soma(
    as_of: date,
    base_url: str = dlt.config.value,
    start_date: str = "2019-01-01",
    lookback_days: int = 14,
    drift: DriftReport | None = None,
):
    """The SOMA as-of dates and the Treasury holdings on each, published by `as_of`."""
    drift = drift if drift is not None else DriftReport()
    root = base_url.rstrip("/")
    published_through = as_of - timedelta(days=1)  # Wednesday's holdings come out on Thursday
    first = date.fromisoformat(start_date)
    session = make_session()
    dates: list[date] = []

    def published_dates() -> list[date]:
        if not dates:
            url = f"{root}/asofdates/list.json"
            with http_errors(f"{NAME}.as_of_dates", url):
                response = session.get(url)
            listed = parse_as_of_dates(read_exact_json(response, f"{NAME}.as_of_dates"), where=url)
            dates.extend(d for d in listed if d <= published_through)
        return dates

    @dlt.resource(
        name="as_of_dates",
        primary_key="as_of_date",
        write_disposition="merge",
        columns={"as_of_date": {"nullable": False}},
    )
    def as_of_dates() -> Iterator[pa.Table]:
        yield pa.table({"as_of_date": pa.array(published_dates(), pa.date32())})

    @dlt.resource(
        name="treasury_holdings",
        primary_key=KEY,
        write_disposition=MERGE_KEY_GUARDED,  # every fetch passes a KeyGuard
        columns={k: {"nullable": False} for k in KEY},
    )
    def treasury_holdings(
        # The weeks from the latest loaded less the look-back are fetched again (a corrected week is merged over the
        # one loaded); the merge on the key de-duplicates them, so the cursor keeps no per-row state.
        as_of_date=dlt.sources.incremental("as_of_date", initial_value=first, lag=lookback_days, primary_key=()),
    ) -> Iterator[pa.Table]:
        keys = KeyGuard(f"{NAME}.treasury_holdings", KEY)
        wanted = [d for d in published_dates() if d >= as_of_date.start_value and d >= first]
        loaded, table = 0, None
        for day in wanted:
            url = f"{root}/tsy/get/all/asof/{day.isoformat()}.json"
            with http_errors(f"{NAME}.treasury_holdings", url):
                response = session.get(url)
            table = parse_holdings(
                read_exact_json(response, f"{NAME}.treasury_holdings"), as_of_date=day, where=url, drift=drift
            )
            keys.check(table, url)
            reject_after(
                table,
                "as_of_date",
                published_through,
                source=f"{NAME}.treasury_holdings",
                where=url,
                key_fields=KEY,
                why="not yet published on the as-of date",
            )
            loaded += table.num_rows
            log.info("%s.treasury_holdings: %s, %d securities (%d rows so far)", NAME, day, table.num_rows, loaded)
            if table.num_rows:
                yield table
        if not loaded:
            empty = (
                table if table is not None else parse_holdings({"soma": {"holdings": []}}, as_of_date=None, where="")
            )
            yield from schema_for_first_load(["treasury_holdings"], empty)

    return as_of_dates, treasury_holdings


SOURCE = Source(
    name=NAME,
    summary="NY Fed SOMA: the Fed's Treasury holdings by CUSIP, weekly",
    dlt_source=fed_soma,
    suites=expectations.SUITES,
    assess=releases.assess,
    refresh=releases.REFRESH,
    published_at=releases.PUBLISHED_AT,
    cutoffs=releases.cutoffs,
)
