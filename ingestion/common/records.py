"""Turn string-encoded API records into typed Arrow tables.

The public APIs send every value as text ("86000000000", "2026-01-05", "Yes", and "null" or "" for
missing). Conversion is vectorised with pyarrow; when a column fails to convert, the offending record
is found and named in the error. Fields the spec does not know (schema drift upstream) are loaded as
text and reported, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.common.errors import SourceDataError

TEXT, DATE, DECIMAL, BOOL, INT = "text", "date", "decimal", "bool", "int"

# Exact decimals, wide enough for dollar amounts to 10^29 and rates/ratios to 9 places.
DECIMAL_TYPE = pa.decimal128(38, 9)
ARROW_TYPES = {TEXT: pa.string(), DATE: pa.date32(), DECIMAL: DECIMAL_TYPE, BOOL: pa.bool_(), INT: pa.int64()}
NULL_MARKERS = ("null", "", "N/A")
BOOL_VALUES = {"Yes": True, "No": False}


@dataclass
class DriftReport:
    """Fields seen upstream that the spec does not know, and known fields that never arrived."""

    new_fields: set[str] = field(default_factory=set)
    missing_fields: set[str] = field(default_factory=set)

    def merge(self, other: DriftReport) -> None:
        self.new_fields |= other.new_fields
        self.missing_fields |= other.missing_fields

    def __bool__(self) -> bool:
        return bool(self.new_fields or self.missing_fields)

    def describe(self) -> str:
        parts = []
        if self.new_fields:
            parts.append("new upstream fields loaded as text: " + ", ".join(sorted(self.new_fields)))
        if self.missing_fields:
            parts.append("fields absent upstream (NULL): " + ", ".join(sorted(self.missing_fields)))
        return "; ".join(parts)


def _describe_record(record: dict, key_fields: tuple[str, ...]) -> str:
    key = ", ".join(f"{k}={record.get(k)!r}" for k in key_fields if k in record)
    return f"record ({key})" if key else "record"


def _convert(values: list, kind: str) -> pa.Array:
    raw = pa.array(values, type=pa.string())
    is_null = pc.is_in(raw, value_set=pa.array(NULL_MARKERS))
    cleaned = pc.if_else(is_null, pa.scalar(None, pa.string()), pc.utf8_trim_whitespace(raw))
    if kind == TEXT:
        return pc.if_else(is_null, pa.scalar(None, pa.string()), raw)
    if kind == BOOL:
        known = pc.or_(pc.is_null(cleaned), pc.is_in(cleaned, value_set=pa.array(list(BOOL_VALUES))))
        if not pc.all(known).as_py():
            raise ValueError("expected Yes/No")
        return pc.equal(cleaned, "Yes")
    if kind == DECIMAL:
        # Casting via Decimal keeps every digit and rejects text that is not a number.
        return pa.array([None if v is None else Decimal(v) for v in cleaned.to_pylist()], type=DECIMAL_TYPE)
    return pc.cast(cleaned, ARROW_TYPES[kind])


def _first_bad(values: list, kind: str) -> int:
    for i, v in enumerate(values):
        try:
            _convert([v], kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, InvalidOperation, TypeError):
            return i
    return -1


def records_to_table(
    records: list[dict],
    spec: dict[str, str],
    *,
    source: str,
    where: str,
    key_fields: tuple[str, ...],
    required: tuple[str, ...] = (),
    drift: DriftReport | None = None,
) -> pa.Table:
    """A typed table with every spec column (NULL where absent) plus any unknown upstream fields as text."""
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise SourceDataError(source, where, f"row {i} is {type(record).__name__}, expected a JSON object")
        for name in required:
            value = record.get(name)
            if value is None or value in NULL_MARKERS:
                raise SourceDataError(
                    source, where, f"required field {name!r} is missing in {_describe_record(record, key_fields)}"
                )
    seen: set[str] = set()
    for record in records:
        seen.update(record)
    report = DriftReport(new_fields=seen - set(spec), missing_fields=set(spec) - seen if records else set())
    if drift is not None:
        drift.merge(report)
    columns, fields = [], []
    for name, kind in list(spec.items()) + [(n, TEXT) for n in sorted(report.new_fields)]:
        values = [r.get(name) for r in records]
        try:
            array = _convert(values, kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, InvalidOperation, TypeError) as exc:
            i = _first_bad(values, kind)
            record = records[i] if i >= 0 else {}
            raise SourceDataError(
                source,
                where,
                f"field {name!r} = {values[i] if i >= 0 else '?'!r} is not a valid {kind} "
                f"in {_describe_record(record, key_fields)}",
            ) from exc
        columns.append(array)
        fields.append(pa.field(name, ARROW_TYPES[kind], nullable=name not in required))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))
