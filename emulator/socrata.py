"""The SoQL subset the pipeline uses, over an Arrow table: $where, $order, $limit, $offset, $select.

As on publicreporting.cftc.gov: the answer is a bare JSON array, numbers are JSON strings, null fields
are left out of each object, `$limit` defaults to 1000, and the column names and types travel in the
`X-SODA2-Fields` / `X-SODA2-Types` headers. Anything outside the subset ($group, OR, functions,
parentheses) is a 400 with a SoQL-style error body, so a client relying on it fails loudly.
"""

from __future__ import annotations

import json
import re

import pyarrow as pa
import pyarrow.compute as pc

RESOURCE = "/resource/"  # a dataset is served at /resource/<id>.json
DEFAULT_LIMIT = 1000
MAX_LIMIT = 50000
SUPPORTED = {"$where", "$order", "$limit", "$offset", "$select"}

_COMPARISON = re.compile(r"^\s*([a-z0-9_]+)\s*(>=|<=|!=|=|>|<)\s*'([^']*)'\s*$", re.I)
_IN = re.compile(r"^\s*([a-z0-9_]+)\s+in\s*\(\s*('[^']*'(?:\s*,\s*'[^']*')*)\s*\)\s*$", re.I)
_BETWEEN = re.compile(r"^\s*([a-z0-9_]+)\s+between\s+'([^']*)'\s+and\s+'([^']*)'\s*$", re.I)


class SoQLError(ValueError):
    """An unsupported or malformed query: HTTP 400."""


_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,3}))?)?")
_CLAUSE = re.compile(
    r"\s*([a-z0-9_]+\s+between\s+'[^']*'\s+and\s+'[^']*'|[a-z0-9_]+\s+in\s*\([^)]*\)"
    r"|[a-z0-9_]+\s*(?:>=|<=|!=|=|>|<)\s*'[^']*')\s*(?:\band\b|$)",
    re.I,
)


def _literal(table: pa.Table, field: str, value: str) -> pa.Scalar:
    column_type = table.schema.field(field).type
    if field.endswith("yyyy_mm_dd"):
        # Floating timestamps compare in their full text form, so normalise the literal to it.
        match = _TIMESTAMP.fullmatch(value)
        if not match:
            raise SoQLError(f"'{value}' is not a floating timestamp for column {field}")
        return pa.scalar(f"{match[1]}T{match[2] or '00:00:00'}.{(match[3] or '000').ljust(3, '0')}")
    if pa.types.is_string(column_type):
        return pa.scalar(value, pa.string())
    try:
        return pa.scalar(float(value) if pa.types.is_floating(column_type) else int(value), column_type)
    except ValueError as exc:
        raise SoQLError(f"'{value}' is not a number for column {field}") from exc


def _clauses(where: str) -> list[str]:
    clauses, position = [], 0
    while position < len(where):
        match = _CLAUSE.match(where, position)
        if not match:
            raise SoQLError(
                f"unsupported $where at {where[position:]!r}: this server takes an AND of "
                "=, !=, <, <=, >, >= with quoted values, in('a','b') and between 'a' and 'b'"
            )
        clauses.append(match.group(1))
        position = match.end()
    return clauses


def _condition(table: pa.Table, clause: str) -> pa.ChunkedArray:
    for pattern in (_COMPARISON, _IN, _BETWEEN):
        match = pattern.match(clause)
        if match:
            break
    else:
        raise SoQLError(
            f"unsupported $where clause: {clause!r} (this server supports =, !=, <, <=, >, >=, in(...), between)"
        )
    field = match.group(1).lower()
    if field not in table.column_names:
        raise SoQLError(f"No such column: {field}")
    column = table[field]
    if pattern is _IN:
        values = [_literal(table, field, v.strip().strip("'")) for v in match.group(2).split(",")]
        return pc.is_in(column, value_set=pa.array([v.as_py() for v in values], type=column.type))
    if pattern is _BETWEEN:
        low, high = _literal(table, field, match.group(2)), _literal(table, field, match.group(3))
        return pc.and_(pc.greater_equal(column, low), pc.less_equal(column, high))
    op, value = match.group(2), _literal(table, field, match.group(3))
    fn = {
        "=": pc.equal,
        "!=": pc.not_equal,
        ">": pc.greater,
        ">=": pc.greater_equal,
        "<": pc.less,
        "<=": pc.less_equal,
    }[op]
    return fn(column, value)


def query(table: pa.Table, params: dict[str, str]) -> tuple[list[dict], dict[str, str]]:
    """(rows as Socrata sends them, response headers)."""
    unknown = [k for k in params if k.startswith("$") and k not in SUPPORTED]
    if unknown:
        raise SoQLError(f"unsupported parameter(s) on this server: {', '.join(unknown)}")
    table = _filtered_sorted(table, params.get("$where", "").strip(), params.get("$order", ""))
    try:
        limit = int(params.get("$limit", DEFAULT_LIMIT))
        offset = int(params.get("$offset", 0))
    except ValueError as exc:
        raise SoQLError("$limit and $offset must be integers") from exc
    if not 0 <= limit <= MAX_LIMIT or offset < 0:
        raise SoQLError(f"$limit must be 0..{MAX_LIMIT} and $offset >= 0")
    select = [s.strip().lower() for s in params.get("$select", "").split(",") if s.strip()]
    for field in select:
        if not re.fullmatch(r"[a-z0-9_]+", field) or field not in table.column_names:
            raise SoQLError(f"unsupported $select item (plain column names only): {field!r}")
    fields = select or table.column_names
    page = table.select(fields).slice(offset, limit)
    columns = [_as_text(page[f]).to_pylist() for f in fields]
    rows = [{k: v for k, v in zip(fields, values) if v is not None} for values in zip(*columns)]
    types = [
        "floating_timestamp"
        if f.endswith("yyyy_mm_dd")
        else "text"
        if pa.types.is_string(table.schema.field(f).type)
        else "number"
        for f in fields
    ]
    headers = {"X-SODA2-Fields": json.dumps(fields), "X-SODA2-Types": json.dumps(types)}
    return rows, headers


# Paging re-asks the same filter and order with a new offset: keep the last few results (with the table they came
# from: an id alone could name a newer table once the old one is gone).
_CACHE: dict[tuple[int, str, str], tuple[pa.Table, pa.Table]] = {}


def _filtered_sorted(table: pa.Table, where: str, order_text: str) -> pa.Table:
    key = (id(table), where, order_text)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is table:
        return cached[1]
    result = _apply(table, where, order_text)
    if len(_CACHE) > 8:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (table, result)
    return result


def clear_cache() -> None:
    _CACHE.clear()


def _apply(table: pa.Table, where: str, order_text: str) -> pa.Table:
    if where:
        mask = None
        for clause in _clauses(where):
            cond = _condition(table, clause)
            mask = cond if mask is None else pc.and_(mask, cond)
        table = table.filter(mask)
    order = [o.strip() for o in order_text.split(",") if o.strip()]
    if order:
        keys = []
        for item in order:
            parts = item.split()
            field = parts[0].lower()
            if field not in table.column_names:
                raise SoQLError(f"No such column: {field}")
            direction = "descending" if len(parts) > 1 and parts[1].lower() == "desc" else "ascending"
            keys.append((field, direction))
        table = table.sort_by(keys)
    return table


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Values as Socrata writes them: text, with floats keeping one decimal at least ("100.0")."""
    if pa.types.is_string(column.type):
        return column
    text = pc.cast(column, pa.string())
    if pa.types.is_floating(column.type):
        text = pc.if_else(pc.match_substring(text, "."), text, pc.binary_join_element_wise(text, ".0", ""))
    return text
