"""FRED series from its keyless graph CSV (`fred.stlouisfed.org/graph/fredgraph.csv?id=SERIES`): by default
WMTSECL1 (Treasury securities held in custody at the New York Fed for foreign official and international accounts,
Wednesday level, $ millions, from the weekly H.4.1) and IORB (interest on reserve balances, percent, daily).

Plain dlt, no Dagster; runnable on its own: `python -m ingestion ingest --source fed_custody`.

`observations`: one row per (series_id, observation_date), `value` as published (NULL where FRED writes `.` or
leaves the field empty: a holiday row of a business-day series). The series are configurable
(`sources.fed_custody.series_ids`), so a user can add others; each is read with its own header (the date column is
`DATE` in older downloads, `observation_date` in newer ones: column 0 either way) and the value column is found by
its series id, never by position.

Incremental per series: the resource keeps each series' latest loaded date in dlt's state and asks FRED from
`lookback_days` before it (`cosd`), so a series added to the list later loads its whole history, and a revised
recent value is merged. Point in time: `coed` is the as-of date. (H.4.1 comes out on Thursday with Wednesday's
level; FRED serves what it has, and the marts date each week's figure as known on the Thursday.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from ingestion.common.errors import SourceDataError
from ingestion.common.http import http_errors, log, make_session
from ingestion.common.records import DriftReport, KeyGuard, reject_after, schema_for_first_load
from ingestion.common.source import Source
from ingestion.fed_custody import expectations, releases

NAME = "fed_custody"
SERIES_IDS = ("WMTSECL1", "IORB")
KEY = ("series_id", "observation_date")
DATE_HEADERS = ("observation_date", "DATE")
MISSING = (".", "")
# FRED's aggregated values carry up to 20 decimals; whole-number $ millions need 18 digits at most before the point.
VALUE_TYPE = pa.decimal128(38, 20)
HISTORY_START = date(1776, 7, 4)  # FRED's own default for cosd: the whole history


def parse_fredgraph(text: str, series_ids: list[str] | tuple[str, ...], *, where: str) -> pa.Table:
    """A fredgraph.csv body as a long table (series_id, observation_date, value) for `series_ids`."""
    source = f"{NAME}.observations"
    if not text.strip():
        raise SourceDataError(source, where, "empty body (expected a CSV with a date column and the series)")
    names = text.split("\n", 1)[0].strip().split(",")
    try:
        # Every column read as text: Arrow's inference would turn 20-decimal values into doubles.
        raw = pv.read_csv(
            pa.py_buffer(text.encode()),
            convert_options=pv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise SourceDataError(source, where, f"not a FRED graph CSV ({exc})") from exc
    header = raw.column_names
    if header[0] not in DATE_HEADERS:
        raise SourceDataError(
            source, where, f"first column is {header[0]!r}, expected one of {', '.join(DATE_HEADERS)}"
        )
    missing = [s for s in series_ids if s not in header[1:]]
    if missing:
        raise SourceDataError(source, where, f"series {', '.join(missing)} not in the header {header}")
    try:
        days = pc.cast(raw[header[0]], pa.date32())
    except pa.ArrowInvalid as exc:
        bad = next(v for v in raw[header[0]].to_pylist() if not _is_date(v))
        raise SourceDataError(source, where, f"{header[0]} {bad!r} is not a YYYY-MM-DD date") from exc
    tables = []
    for series in series_ids:
        text_values = raw[series]
        is_missing = pc.is_in(text_values, value_set=pa.array(MISSING))
        cleaned = pc.if_else(is_missing, pa.scalar(None, pa.string()), text_values)
        try:
            values = pc.cast(cleaned, VALUE_TYPE)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            i = next(i for i, v in enumerate(cleaned.to_pylist()) if v is not None and not _is_number(v))
            raise SourceDataError(
                source, where, f"{series} on {days[i].as_py()}: {text_values[i].as_py()!r} is not a number"
            ) from exc
        tables.append(
            pa.table(
                {
                    "series_id": pa.array([series] * raw.num_rows, pa.string()),
                    "observation_date": days,
                    "value": values,
                },
                schema=pa.schema(
                    [
                        pa.field("series_id", pa.string(), nullable=False),
                        pa.field("observation_date", pa.date32(), nullable=False),
                        pa.field("value", VALUE_TYPE),
                    ]
                ),
            )
        )
    return pa.concat_tables(tables)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_number(value: str) -> bool:
    try:
        pc.cast(pa.array([value]), VALUE_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


@dlt.source(name=NAME)
def fed_custody(
    as_of: date,
    base_url: str = dlt.config.value,
    series_ids: Sequence[str] = SERIES_IDS,
    lookback_days: int = 35,
    drift: DriftReport | None = None,
):
    """The FRED series `series_ids`, observations up to `as_of`."""
    url = f"{base_url.rstrip('/')}/fredgraph.csv"

    @dlt.resource(
        name="observations",
        primary_key=KEY,
        write_disposition="merge",
        columns={k: {"nullable": False} for k in KEY},
    )
    def observations() -> Iterator[pa.Table]:
        state = dlt.current.resource_state().setdefault("latest_by_series", {})
        session = make_session()
        keys = KeyGuard(f"{NAME}.observations", KEY)
        empty = None
        for series in series_ids:
            latest = state.get(series)
            start = date.fromisoformat(latest) - timedelta(days=lookback_days) if latest else HISTORY_START
            params = {"id": series, "cosd": start.isoformat(), "coed": as_of.isoformat()}
            with http_errors(f"{NAME}.observations", url):
                response = session.get(url, params=params)
            table = parse_fredgraph(response.text, [series], where=response.url)
            keys.check(table, response.url)
            reject_after(
                table,
                "observation_date",
                as_of,
                source=f"{NAME}.observations",
                where=response.url,
                key_fields=KEY,
                why="after the as-of date",
            )
            # The start bound is the server's to apply; rows before it would only be merged again.
            table = table.filter(pc.greater_equal(table["observation_date"], pa.scalar(start, pa.date32())))
            log.info("%s.observations: %s, %d rows from %s", NAME, series, table.num_rows, start)
            if table.num_rows:
                newest = pc.max(table["observation_date"]).as_py()
                state[series] = max(newest, date.fromisoformat(latest) if latest else newest).isoformat()
                yield table
            else:
                empty = table
        if empty is not None:
            yield from schema_for_first_load(["observations"], empty)

    return observations


SOURCE = Source(
    name=NAME,
    summary="FRED: Fed custody holdings for foreign official accounts, IORB",
    dlt_source=fed_custody,
    suites=expectations.SUITES,
    assess=releases.assess,
    refresh=releases.REFRESH,
    published_at=releases.PUBLISHED_AT,
)
