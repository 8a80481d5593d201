"""Parse the daily Treasury par yield curve CSV as home.treasury.gov serves it.

`Date,"1 Mo","2 Mo",...` with MM/DD/YYYY dates, newest first, percent values with 2 decimals, and an
empty cell (or `N/A`) where a tenor was not published. The column set changes over the years (2 Mo
from 2018, 4 Mo from 2022, "1.5 Month" from 2025) and a per-year file only carries that year's
columns, so columns are matched by header name, never by position. A tenor label this parser does not
know is loaded as a new column and reported as schema drift.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import pyarrow as pa

from ingestion.common.errors import SourceDataError
from ingestion.common.records import DECIMAL_TYPE, NULL_MARKERS, DriftReport

# Column names follow the XML feed of the same data set (BC_1MONTH ... BC_30YEAR), lower-cased.
TENOR_COLUMNS: dict[str, float] = {
    "bc_1month": 1 / 12,
    "bc_1_5month": 1.5 / 12,
    "bc_2month": 2 / 12,
    "bc_3month": 0.25,
    "bc_4month": 4 / 12,
    "bc_6month": 0.5,
    "bc_1year": 1.0,
    "bc_2year": 2.0,
    "bc_3year": 3.0,
    "bc_5year": 5.0,
    "bc_7year": 7.0,
    "bc_10year": 10.0,
    "bc_20year": 20.0,
    "bc_30year": 30.0,
}
# When each tenor was published (first day, last day or None); a tenor not listed here was published throughout.
# From the Treasury's files: 1 Mo from 2001-07-31, 2 Mo from 2018-10-16, 4 Mo from 2022-10-19, 1.5 Month from
# 2025-02-18, 20 Yr from 1993-10-01, and no 30 Yr from 2002-02-19 to 2006-02-08.
PUBLISHED: dict[str, list[tuple[date, date | None]]] = {
    "bc_1month": [(date(2001, 7, 31), None)],
    "bc_1_5month": [(date(2025, 2, 18), None)],
    "bc_2month": [(date(2018, 10, 16), None)],
    "bc_4month": [(date(2022, 10, 19), None)],
    "bc_20year": [(date(1993, 10, 1), None)],
    "bc_30year": [(date(1990, 1, 1), date(2002, 2, 15)), (date(2006, 2, 9), None)],
}


def is_published(column: str, day: date) -> bool:
    """Did the Treasury publish this tenor on `day`?"""
    periods = PUBLISHED.get(column)
    return periods is None or any(start <= day and (end is None or day <= end) for start, end in periods)


_LABEL = re.compile(r"^(\d+(?:\.\d+)?)\s*(mo|mos|month|months|yr|yrs|year|years)$")


def column_for_label(label: str) -> str | None:
    """`"1 Mo"` -> `bc_1month`, `"1.5 Month"` -> `bc_1_5month`, `"30 Yr"` -> `bc_30year`; None if not a tenor."""
    match = _LABEL.match(label.strip().lower())
    if not match:
        return None
    number, unit = match.groups()
    unit = "month" if unit.startswith("mo") else "year"
    return f"bc_{number.replace('.', '_')}{unit}"


def schema(extra: list[str] = ()) -> pa.Schema:
    return pa.schema(
        [pa.field("curve_date", pa.date32(), nullable=False)]
        + [pa.field(c, DECIMAL_TYPE) for c in TENOR_COLUMNS]
        + [pa.field(c, DECIMAL_TYPE) for c in extra]
    )


def parse_csv(text: str, *, source: str, where: str, drift: DriftReport | None = None) -> pa.Table:
    """A table with one row per date and every tenor column (NULL where the file has no value)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header or header[0].strip().lower() != "date":
        raise SourceDataError(source, where, f"line 1: expected a header starting with Date, got {header!r}")
    columns: list[str] = []
    unknown: list[str] = []
    for label in header[1:]:
        column = column_for_label(label)
        if column is None:
            raise SourceDataError(source, where, f"line 1: column {label!r} is not a tenor label")
        if column in columns:
            raise SourceDataError(source, where, f"line 1: tenor {label!r} appears twice")
        if column not in TENOR_COLUMNS:
            unknown.append(column)
        columns.append(column)
    if drift is not None and unknown:
        drift.new_fields.update(f"{c} (new tenor column)" for c in unknown)
    values: dict[str, list] = {c: [] for c in ["curve_date", *TENOR_COLUMNS, *unknown]}
    seen: set[date] = set()
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise SourceDataError(source, where, f"line {line_no}: {len(row)} cells, header has {len(header)}: {row!r}")
        try:
            day = datetime.strptime(row[0].strip(), "%m/%d/%Y").date()
        except ValueError as exc:
            raise SourceDataError(source, where, f"line {line_no}: date {row[0]!r} is not MM/DD/YYYY") from exc
        if day in seen:
            raise SourceDataError(source, where, f"line {line_no}: date {day} appears twice")
        seen.add(day)
        values["curve_date"].append(day)
        parsed: dict[str, Decimal | None] = {}
        for column, cell in zip(columns, row[1:]):
            cell = cell.strip()
            if cell in NULL_MARKERS:
                parsed[column] = None
                continue
            try:
                parsed[column] = Decimal(cell)
            except InvalidOperation as exc:
                raise SourceDataError(
                    source, where, f"line {line_no} ({day}): {column} = {cell!r} is not a number"
                ) from exc
        for column in values:
            if column != "curve_date":
                values[column].append(parsed.get(column))
    # A tenor the Treasury published on some day of the file, with no column in it, is drift that would blank the
    # yields already loaded for those days (the load merges on the date): fail, naming it.
    missing = [
        c for c in TENOR_COLUMNS if c not in columns and any(is_published(c, day) for day in values["curve_date"])
    ]
    if missing:
        if drift is not None:
            drift.missing_fields.update(missing)
        raise SourceDataError(
            source,
            where,
            f"tenor column(s) missing: {', '.join(missing)}, published on dates in this file; "
            "loading it would blank the yields already loaded for them",
        )
    return pa.Table.from_pydict(values, schema=schema(unknown))
