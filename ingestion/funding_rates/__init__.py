"""NY Fed funding-market data from markets.newyorkfed.org/api: the reference rates and the Desk's repo and
reverse-repo operations (the Standing Repo Facility and the overnight reverse repo facility).

Plain dlt, no Dagster; runnable on its own: `python -m ingestion ingest --source funding_rates`.

- `reference_rates`: SOFR, BGCR and TGCR (secured) and EFFR and OBFR (unsecured), one row per (type,
  effective_date): the rate and its 1st/25th/75th/99th volume-weighted percentiles in percent, volume in $
  billions, EFFR's target range. From `rates/{secured|unsecured}/{type}/search.json?startDate=&endDate=`.
- `repo_operations`: one row per operation (`operationId`), amounts in whole dollars; `repo_operation_details`
  (per security type: amounts, offering/award rates for reverse repos, minimum bid/high/low/stop-out/weighted
  rates for repos; a field the NY Fed leaves out is NULL) and `repo_operation_propositions` (RRP take-up by
  counterparty type), both keyed on the operation. From `rp/all/all/results/search.json?startDate=&endDate=`.

The API sends numbers as JSON numbers: they are read as exact decimals (`5.00` stays 5.00). Rates for day D are
published on the next business day (SOFR about 08:00 New York), so a build as of D reads up to D - 1. The NY Fed
adds propositions to reverse-repo operations weeks after the operation, and a rate can be revised, so every run
re-reads the last `refetch_days` and merges.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import dlt
import pyarrow as pa

from ingestion.common.errors import SourceDataError
from ingestion.common.http import http_errors, log, make_session, read_exact_json
from ingestion.common.records import (
    DATE,
    DECIMAL,
    INT,
    TEXT,
    DriftReport,
    KeyGuard,
    records_to_table,
    reject_after,
    schema_for_first_load,
)
from ingestion.common.source import Source
from ingestion.funding_rates import expectations, releases

NAME = "funding_rates"
RATE_TYPES = {"sofr": "secured", "bgcr": "secured", "tgcr": "secured", "effr": "unsecured", "obfr": "unsecured"}
RATES_START = date(2016, 3, 1)  # OBFR's first day and EFFR's current method; SOFR, BGCR and TGCR begin 2018-04-02
OPERATIONS_START = date(2013, 9, 23)  # the first overnight reverse repo operations
RATE_KEY = ("type", "effective_date")
OPERATION_KEY = ("operation_id",)

RATE_FIELDS = {
    "effective_date": DATE,
    "type": TEXT,
    "percent_rate": DECIMAL,
    "percent_percentile1": DECIMAL,
    "percent_percentile25": DECIMAL,
    "percent_percentile75": DECIMAL,
    "percent_percentile99": DECIMAL,
    "target_rate_from": DECIMAL,  # EFFR only
    "target_rate_to": DECIMAL,
    "volume_in_billions": DECIMAL,
    "revision_indicator": TEXT,
}
RATE_CONTRACT = ("effective_date", "type", "percent_rate", "volume_in_billions")
OPERATION_FIELDS = {
    "operation_id": TEXT,
    "auction_status": TEXT,
    "operation_date": DATE,
    "settlement_date": DATE,
    "maturity_date": DATE,
    "operation_type": TEXT,
    "operation_method": TEXT,
    "settlement_type": TEXT,
    "term_calender_days": INT,
    "term": TEXT,
    "release_time": TEXT,
    "close_time": TEXT,
    "note": TEXT,
    "last_updated": TEXT,
    "participating_cpty": INT,  # reverse repos
    "accepted_cpty": INT,
    "operation_limit": DECIMAL,  # repos
    "total_amt_submitted": DECIMAL,
    "total_amt_accepted": DECIMAL,
}
OPERATION_CONTRACT = ("operation_id", "operation_date", "operation_type", "total_amt_submitted", "total_amt_accepted")
DETAIL_FIELDS = {
    "operation_id": TEXT,
    "operation_date": DATE,
    "security_type": TEXT,
    "amt_submitted": DECIMAL,
    "amt_accepted": DECIMAL,
    "minimum_bid_rate": DECIMAL,
    "percent_offering_rate": DECIMAL,
    "percent_award_rate": DECIMAL,
    "percent_high_rate": DECIMAL,
    "percent_low_rate": DECIMAL,
    "percent_stop_out_rate": DECIMAL,
    "percent_weighted_average_rate": DECIMAL,
}
DETAIL_KEY = ("operation_id", "security_type")
PROPOSITION_FIELDS = {"operation_id": TEXT, "operation_date": DATE, "counterparty_type": TEXT, "amt_accepted": DECIMAL}
PROPOSITION_KEY = ("operation_id", "counterparty_type")

# Fields only some records carry (EFFR's target range; RRP counterparties; the repo limit; rates by operation kind):
# their absence from a page is the API's layout, not schema drift.
OPTIONAL_FIELDS = {
    "target_rate_from",
    "target_rate_to",
    "participating_cpty",
    "accepted_cpty",
    "operation_limit",
    *[f for f in DETAIL_FIELDS if f.startswith(("percent_", "minimum_"))],
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(name: str) -> str:
    """`percentPercentile99` -> `percent_percentile99`, `termCalenderDays` -> `term_calender_days` (dlt's naming)."""
    return _CAMEL.sub("_", name).lower()


def _text(value):
    """JSON numbers as their exact text (they were parsed as Decimal / int), strings as sent."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, list, dict)):
        return value
    return str(value)


def _flat(record: dict) -> dict:
    return {snake(k): _text(v) for k, v in record.items()}


def _merge(drift: DriftReport | None, seen: DriftReport) -> None:
    seen.missing_fields -= OPTIONAL_FIELDS
    if drift is not None:
        drift.merge(seen)


def parse_rates(body, *, where: str, drift: DriftReport | None = None) -> pa.Table:
    """A `rates/.../search.json` (or `all/latest.json`) answer: one row per (type, effective_date)."""
    source = f"{NAME}.reference_rates"
    if not isinstance(body, dict) or not isinstance(body.get("refRates"), list):
        raise SourceDataError(source, where, "body has no 'refRates' list")
    records = [_flat(r) if isinstance(r, dict) else r for r in body["refRates"]]
    # SOFR averages and index (SOFRAI) are a different record: not loaded here.
    records = [r for r in records if not (isinstance(r, dict) and r.get("type") == "SOFRAI")]
    seen = DriftReport()
    table = records_to_table(
        records,
        RATE_FIELDS,
        source=source,
        where=where,
        key_fields=RATE_KEY,
        required=RATE_KEY,
        contract=RATE_CONTRACT,
        drift=seen,
    )
    _merge(drift, seen)
    return table


def parse_operations(body, *, where: str, drift: DriftReport | None = None) -> tuple[pa.Table, pa.Table, pa.Table]:
    """A `rp/.../results/*.json` answer: (operations, details, propositions)."""
    source = f"{NAME}.repo_operations"
    repo = body.get("repo") if isinstance(body, dict) else None
    if not isinstance(repo, dict) or not isinstance(repo.get("operations"), list):
        raise SourceDataError(source, where, "body has no 'repo.operations' list")
    operations, details, propositions = [], [], []
    for raw in repo["operations"]:
        if not isinstance(raw, dict):
            raise SourceDataError(source, where, f"operation is {type(raw).__name__}, expected a JSON object")
        nested = {k: raw.get(k) for k in ("details", "propositions")}
        operation = _flat({k: v for k, v in raw.items() if k not in nested})
        operations.append(operation)
        parent = {"operation_id": operation.get("operation_id"), "operation_date": operation.get("operation_date")}
        for name, rows, into in (
            ("details", nested["details"], details),
            ("propositions", nested["propositions"], propositions),
        ):
            if rows is None:
                continue
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise SourceDataError(
                    source, where, f"operation {parent['operation_id']!r}: '{name}' is not a list of objects"
                )
            into.extend({**parent, **_flat(r)} for r in rows)
    seen = DriftReport()
    common = {"source": source, "where": where, "drift": seen}
    tables = (
        records_to_table(
            operations,
            OPERATION_FIELDS,
            key_fields=OPERATION_KEY,
            required=OPERATION_KEY,
            contract=OPERATION_CONTRACT,
            **common,
        ),
        records_to_table(details, DETAIL_FIELDS, key_fields=DETAIL_KEY, required=DETAIL_KEY, **common),
        records_to_table(
            propositions, PROPOSITION_FIELDS, key_fields=PROPOSITION_KEY, required=PROPOSITION_KEY, **common
        ),
    )
    _merge(drift, seen)
    return tables


@dlt.source(name=NAME)
def funding_rates(
    as_of: date,
    base_url: str = dlt.config.value,
    rate_types: Sequence[str] = tuple(RATE_TYPES),
    refetch_days: int = 90,
    drift: DriftReport | None = None,
):
    """Reference rates and repo/reverse-repo operations, as published by `as_of`."""
    drift = drift if drift is not None else DriftReport()
    root = base_url.rstrip("/")
    published_through = as_of - timedelta(days=1)  # day D's rates come out the next business morning
    unknown = sorted(set(rate_types) - set(RATE_TYPES))
    if unknown:
        raise ValueError(f"unknown rate type(s) {', '.join(unknown)}; choose from {', '.join(RATE_TYPES)}")

    @dlt.resource(
        name="reference_rates",
        primary_key=RATE_KEY,
        write_disposition="merge",
        columns={k: {"nullable": False} for k in RATE_KEY},
    )
    def reference_rates(
        effective_date=dlt.sources.incremental("effective_date", initial_value=RATES_START, lag=refetch_days),
    ) -> Iterator[pa.Table]:
        session = make_session()
        keys = KeyGuard(f"{NAME}.reference_rates", RATE_KEY)
        loaded, table = 0, None
        for rate in rate_types:
            url = f"{root}/rates/{RATE_TYPES[rate]}/{rate}/search.json"
            params = {"startDate": effective_date.start_value.isoformat(), "endDate": published_through.isoformat()}
            with http_errors(f"{NAME}.reference_rates", url):
                response = session.get(url, params=params)
            table = parse_rates(read_exact_json(response, f"{NAME}.reference_rates"), where=response.url, drift=drift)
            keys.check(table, response.url)
            reject_after(
                table,
                "effective_date",
                published_through,
                source=f"{NAME}.reference_rates",
                where=response.url,
                key_fields=RATE_KEY,
                why="not yet published on the as-of date",
            )
            log.info("%s.reference_rates: %s, %d days", NAME, rate.upper(), table.num_rows)
            loaded += table.num_rows
            if table.num_rows:
                yield table
        if not loaded and table is not None:
            yield from schema_for_first_load(["reference_rates"], table)

    fetched: dict[date, tuple[pa.Table, pa.Table, pa.Table]] = {}

    def _operations(start: date) -> tuple[pa.Table, pa.Table, pa.Table]:
        """One fetch per window, shared by the three operation tables (their cursors move together)."""
        if start not in fetched:
            url = f"{root}/rp/all/all/results/search.json"
            params = {"startDate": start.isoformat(), "endDate": as_of.isoformat()}
            with http_errors(f"{NAME}.repo_operations", url):
                response = make_session().get(url, params=params)
            tables = parse_operations(
                read_exact_json(response, f"{NAME}.repo_operations"), where=response.url, drift=drift
            )
            KeyGuard(f"{NAME}.repo_operations", OPERATION_KEY).check(tables[0], response.url)
            KeyGuard(f"{NAME}.repo_operation_details", DETAIL_KEY).check(tables[1], response.url)
            KeyGuard(f"{NAME}.repo_operation_propositions", PROPOSITION_KEY).check(tables[2], response.url)
            for table, key in zip(tables, (OPERATION_KEY, DETAIL_KEY, PROPOSITION_KEY)):
                reject_after(
                    table,
                    "operation_date",
                    as_of,
                    source=f"{NAME}.repo_operations",
                    where=response.url,
                    key_fields=key,
                    why="after the as-of date",
                )
            log.info("%s.repo_operations: %d operations from %s", NAME, tables[0].num_rows, start)
            fetched[start] = tables
        return fetched[start]

    def _operation_resource(name: str, index: int, key: tuple[str, ...]):
        @dlt.resource(
            name=name,
            primary_key=key,
            write_disposition="merge",
            columns={k: {"nullable": False} for k in key},
        )
        def _resource(
            operation_date=dlt.sources.incremental("operation_date", initial_value=OPERATIONS_START, lag=refetch_days),
        ) -> Iterator[pa.Table]:
            table = _operations(operation_date.start_value)[index]
            if table.num_rows:
                yield table
            else:
                yield from schema_for_first_load([name], table)

        return _resource

    return (
        reference_rates,
        _operation_resource("repo_operations", 0, OPERATION_KEY),
        _operation_resource("repo_operation_details", 1, DETAIL_KEY),
        _operation_resource("repo_operation_propositions", 2, PROPOSITION_KEY),
    )


SOURCE = Source(
    name=NAME,
    summary="NY Fed reference rates and repo operations",
    dlt_source=funding_rates,
    suites=expectations.SUITES,
    assess=releases.assess,
    refresh=releases.REFRESH,
    published_at=releases.PUBLISHED_AT,
    cutoffs=releases.cutoffs,
)
