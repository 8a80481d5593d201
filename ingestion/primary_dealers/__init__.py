"""NY Fed Primary Dealer Statistics (FR 2004) from markets.newyorkfed.org/api/pd: dealers' net positions in
Treasuries by maturity bucket, their repo and reverse-repo financing, and fails, weekly as of Wednesday.

Plain dlt, no Dagster; runnable on its own: `python -m ingestion ingest --source primary_dealers`.

- `dealer_statistics`: one row per (keyid, asofdate), `value` in $ millions as published (net = long - short for
  positions), NULL where the NY Fed publishes `"*"` (suppressed), never 0. `series_break` says which schema period
  the row came from: `current` (`get/{keyid}.json`, keyids from 2013-04-03) or an older period's id (`SBP2013`:
  `get/SBP2013/timeseries/{keyid}.json`, the coarser pre-April-2013 buckets, kept as published and never mapped onto
  the new ones). Rows are keyed on `keyid`, never on the free-text description (one description is wrong).

What each keyid measures is in the dbt seed `primary_dealer_series` (bucket, maturity range, unit), written from the
NY Fed's list (`list/timeseries.json`), whose free-text descriptions are not loaded: they are loose, and one is wrong.

The API serves a keyid's whole history with no date parameters, so every run reads it and the incremental cursor
(`asofdate`, with a look-back of `lookback_days` for revisions) keeps the rows to merge. Point in time: the week
ended Wednesday W is published on Thursday W + 8 (about 16:15 New York), so a build as of D keeps the weeks with
W + 8 <= D; later weeks in an answer are left for a later run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import dlt
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.common.errors import SourceDataError
from ingestion.common.http import http_errors, log, make_session, parse_json_once
from ingestion.common.records import DATE, DECIMAL, TEXT, DriftReport, KeyGuard, records_to_table, schema_for_first_load
from ingestion.common.source import Source
from ingestion.primary_dealers import expectations, releases

NAME = "primary_dealers"
HISTORY_START = date(1998, 1, 1)
KEY = ("keyid", "asofdate")
SUPPRESSED = "*"  # the NY Fed's missing-value token
CURRENT = "current"
PUBLICATION_LAG_DAYS = 8  # Wednesday's statistics come out on the Thursday of the following week
FIELDS = {"asofdate": DATE, "keyid": TEXT, "value": DECIMAL}

# Treasury series (excluding TIPS): the published total, bills, the coupon buckets, transactions, repo and reverse
# repo, securities borrowed and lent, fails to deliver and to receive. The TIPS and FRN position keyids are not in
# any recorded list (`list/timeseries.json` names TIPS transactions only), so they are not guessed here: add them to
# `sources.primary_dealers.keyids` once confirmed.
# PDPOSGSC-G11 (over 11 years) was split into G11L21 and G21 from 2022-01-05; the NY Fed no longer lists it, but it
# still answers for 2013-04-03 .. 2021-12-29.
CURRENT_KEYIDS = (
    "PDPOSGST-TOT",
    "PDPOSGS-B",
    "PDPOSGSC-L2",
    "PDPOSGSC-G2L3",
    "PDPOSGSC-G3L6",
    "PDPOSGSC-G6L7",
    "PDPOSGSC-G7L11",
    "PDPOSGSC-G11",
    "PDPOSGSC-G11L21",
    "PDPOSGSC-G21",
    "PDGSWOEXTTOT",
    "PDSORA-UTSETTOT",
    "PDSIRRA-UTSETTOT",
    "PDSIOSB-UTSETTOT",
    "PDSOOS-UTSETTOT",
    "PDFTD-USTET",
    "PDFTR-USTET",
)
# The July 2001 .. March 2013 period: bills and four coupon buckets (<=3, 3-6, 6-11, >11 years), net outright.
SERIES_BREAK_KEYIDS = {
    "SBP2013": ("PDPUSGTBNOP", "PDPUSGCS3LNOP", "PDPUSGCS36NOP", "PDPUSGCS611NOP", "PDPUSGCSM11NOP"),
}


def _timeseries(body, source: str, where: str, key: str) -> list:
    if not isinstance(body, dict) or not isinstance(body.get("pd"), dict):
        raise SourceDataError(source, where, "body has no 'pd' object")
    rows = body["pd"].get(key)
    if not isinstance(rows, list):
        raise SourceDataError(source, where, f"body has no 'pd.{key}' list")
    return rows


def parse_timeseries(body, *, keyid: str, series_break: str, where: str, drift: DriftReport | None = None) -> pa.Table:
    """One `get/.../{keyid}.json` answer as a typed table (asofdate, keyid, value $m, series_break)."""
    source = f"{NAME}.dealer_statistics"
    records = _timeseries(body, source, where, "timeseries")
    for record in records:
        if isinstance(record, dict) and record.get("keyid") != keyid:
            raise SourceDataError(
                source,
                where,
                f"record (asofdate={record.get('asofdate')!r}) has keyid {record.get('keyid')!r}, asked for {keyid!r}",
            )
    cleaned = [{**r, "value": None} if isinstance(r, dict) and r.get("value") == SUPPRESSED else r for r in records]
    table = records_to_table(
        cleaned, FIELDS, source=source, where=where, key_fields=KEY, required=KEY, contract=FIELDS, drift=drift
    )
    return table.append_column(
        pa.field("series_break", pa.string(), nullable=False), pa.array([series_break] * table.num_rows, pa.string())
    )


def keyid_url(base_url: str, keyid: str, series_break: str = CURRENT) -> str:
    root = base_url.rstrip("/")
    return (
        f"{root}/get/{keyid}.json" if series_break == CURRENT else f"{root}/get/{series_break}/timeseries/{keyid}.json"
    )


@dlt.source(name=NAME)
def primary_dealers(
    as_of: date,
    base_url: str = dlt.config.value,
    keyids: Sequence[str] = CURRENT_KEYIDS,
    series_breaks: dict[str, list[str]] | None = None,
    lookback_days: int = 28,
    drift: DriftReport | None = None,
):
    """Primary dealer statistics for `keyids` (and the older periods' keyids in `series_breaks`), as of `as_of`."""
    drift = drift if drift is not None else DriftReport()
    breaks = SERIES_BREAK_KEYIDS if series_breaks is None else series_breaks
    published_through = as_of - timedelta(days=PUBLICATION_LAG_DAYS)
    requests = [(k, CURRENT) for k in keyids] + [(k, b) for b, ks in breaks.items() for k in ks]

    @dlt.resource(
        name="dealer_statistics",
        primary_key=KEY,
        write_disposition="merge",
        columns={"asofdate": {"nullable": False}, "keyid": {"nullable": False}, "value": {"nullable": True}},
    )
    def dealer_statistics(
        asofdate=dlt.sources.incremental("asofdate", initial_value=HISTORY_START, lag=lookback_days),
    ) -> Iterator[pa.Table]:
        session = make_session()
        keys = KeyGuard(f"{NAME}.dealer_statistics", KEY)
        loaded, empty = 0, None
        for keyid, series_break in requests:
            url = keyid_url(base_url, keyid, series_break)
            with http_errors(f"{NAME}.dealer_statistics", url):
                response = session.get(url)
            try:
                body = parse_json_once(response)
            except ValueError as exc:
                raise SourceDataError(f"{NAME}.dealer_statistics", url, f"body is not JSON ({exc})") from exc
            table = parse_timeseries(body, keyid=keyid, series_break=series_break, where=url, drift=drift)
            empty = table.slice(0, 0)
            if table.num_rows == 0:
                drift.missing_fields.add(f"keyid {keyid} ({series_break}: no observations)")
                log.warning("%s.dealer_statistics: %s answered no observations (%s)", NAME, keyid, url)
                continue
            keys.check(table, url)
            # Weeks not yet published on the as-of date (a build of an earlier date, or this week's Wednesday).
            table = table.filter(pc.less_equal(table["asofdate"], pa.scalar(published_through, pa.date32())))
            loaded += table.num_rows
            log.info("%s.dealer_statistics: %s, %d weeks (%d rows so far)", NAME, keyid, table.num_rows, loaded)
            if table.num_rows:
                yield table
        if not loaded and empty is not None:
            yield from schema_for_first_load(["dealer_statistics"], empty)

    return dealer_statistics


SOURCE = Source(
    name=NAME,
    summary="NY Fed primary dealer statistics",
    dlt_source=primary_dealers,
    suites=expectations.SUITES,
    assess=releases.assess,
    refresh=releases.REFRESH,
    published_at=releases.PUBLISHED_AT,
)
