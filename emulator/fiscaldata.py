"""The part of the FiscalData API the pipeline uses: filter, sort, fields, page[number]/page[size].

Behaviour follows the live API: every value is a string, `meta` carries count/total-count/total-pages
and labels/dataTypes/dataFormats, `links` are query fragments with JSON null for a missing prev/next,
and an unknown field or operator is a 400 with an error body.
"""

from __future__ import annotations

import math
from urllib.parse import quote

from ingestion.common.records import DATE, DECIMAL, DECIMAL_WIDE, INT

ROOT = "/services/api/fiscal_service"  # the path of every FiscalData endpoint
OPERATORS = ("eq", "gt", "gte", "lt", "lte", "in")
MAX_PAGE_SIZE = 10000
DEFAULT_PAGE_SIZE = 100


class QueryError(ValueError):
    """Bad query parameters: answered with HTTP 400 like the live API."""


def _api_type(kind: str) -> tuple[str, str]:
    if kind == DATE:
        return "DATE", "YYYY-MM-DD"
    if kind in (DECIMAL, DECIMAL_WIDE, INT):
        return "NUMBER", "10.2"
    return "STRING", "String"


def _label(field: str) -> str:
    return " ".join(
        w.upper() if w in ("cusip", "cmb", "frn", "soma", "fima", "nlp", "cpi") else w.capitalize()
        for w in field.split("_")
    )


def _comparable(value: str, kind: str):
    if kind in (DECIMAL, DECIMAL_WIDE, INT):
        try:
            return float(value)
        except ValueError:
            return None
    return value


def parse_filters(raw: str, spec: dict[str, str]) -> list[tuple[str, str, list[str]]]:
    filters = []
    if not raw:
        return filters
    # Commas separate filters, except inside an in:(a,b) list.
    parts, depth, current = [], 0, ""
    for ch in raw:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    for part in parts:
        pieces = part.split(":", 2)
        if len(pieces) != 3:
            raise QueryError(f"Invalid filter '{part}': expected field:operator:value")
        field, op, value = pieces
        if field not in spec:
            raise QueryError(f"Invalid query parameter 'filter' with value '{raw}': field '{field}' does not exist")
        if op not in OPERATORS:
            raise QueryError(f"Invalid filter operator '{op}' in '{part}'")
        values = value.strip("()").split(",") if op == "in" else [value]
        filters.append((field, op, values))
    return filters


def _matches(record: dict[str, str], filters, spec) -> bool:
    for field, op, values in filters:
        kind = spec[field]
        actual = record.get(field, "null")
        if actual == "null":
            return False
        left = _comparable(actual, kind)
        if op == "in":
            if left not in [_comparable(v, kind) for v in values]:
                return False
            continue
        right = _comparable(values[0], kind)
        if left is None or right is None:
            return False
        if op == "eq" and not left == right:
            return False
        if op == "gt" and not left > right:
            return False
        if op == "gte" and not left >= right:
            return False
        if op == "lt" and not left < right:
            return False
        if op == "lte" and not left <= right:
            return False
    return True


def query(records, spec: dict[str, str], params: dict[str, str]) -> dict:
    """Answer one FiscalData request over `records` (dicts of strings in API field order)."""
    filters = parse_filters(params.get("filter", ""), spec)
    rows = [r for r in records if _matches(r, filters, spec)]
    for key in reversed([k for k in params.get("sort", "").split(",") if k]):
        field = key.lstrip("-")
        if field not in spec:
            raise QueryError(f"Invalid query parameter 'sort' with value '{params['sort']}'")
        kind = spec[field]

        def sort_key(r, field=field, kind=kind):
            value = _comparable(r.get(field, "null"), kind)
            return (value is None or r.get(field) == "null", value if value is not None else 0)

        rows.sort(key=sort_key, reverse=key.startswith("-"))
    fields = [f for f in params.get("fields", "").split(",") if f] or list(spec)
    unknown = [f for f in fields if f not in spec]
    if unknown:
        raise QueryError(f"Invalid query parameter 'fields': unknown field(s) {', '.join(unknown)}")
    try:
        size = int(params.get("page[size]", DEFAULT_PAGE_SIZE))
        number = int(params.get("page[number]", 1))
    except ValueError as exc:
        raise QueryError("page[number] and page[size] must be integers") from exc
    if not 1 <= size <= MAX_PAGE_SIZE or number < 1:
        raise QueryError(f"page[size] must be 1..{MAX_PAGE_SIZE} and page[number] >= 1")
    total = len(rows)
    pages = max(math.ceil(total / size), 1) if total else 0
    page_rows = rows[(number - 1) * size : number * size]
    data = [{f: r.get(f, "null") for f in fields} for r in page_rows]

    def link(n: int | None) -> str | None:
        if n is None:
            return None
        return f"&{quote('page[number]')}={n}&{quote('page[size]')}={size}"

    types = {f: _api_type(spec[f]) for f in fields}
    return {
        "data": data,
        "meta": {
            "count": len(data),
            "labels": {f: _label(f) for f in fields},
            "dataTypes": {f: t for f, (t, _) in types.items()},
            "dataFormats": {f: fmt for f, (_, fmt) in types.items()},
            "total-count": total,
            "total-pages": pages,
        },
        "links": {
            "self": link(number),
            "first": link(1),
            "prev": link(number - 1) if number > 1 else None,
            "next": link(number + 1) if number < pages else None,
            "last": link(max(pages, 1)),
        },
    }
