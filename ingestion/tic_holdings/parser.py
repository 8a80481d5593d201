"""Parse the TIC "Major Foreign Holders of Treasury Securities" text files into one row per month x line.

Two files, both tab-delimited exports with CSV-style quoting (`"China, Mainland"`, `""` escapes),
rows padded with trailing tabs:

- `mfhhis01.txt` (history, March 2000 on): title lines, then one block per year, newest first. Each
  block has optional series-break rows, a month row (`\tDec\tNov...`) and a year row (`Country\t2025...`)
  that together date each column, a `------` rule, country rows (values newest month first), `All
  Other`, `Grand Total`, `Of which:` and the foreign-official memo lines. In a year with a survey series
  break a month appears twice: the second column is the old series, "for comparison only". After the
  last block come the release date (`3/18/26`), revision notes and footnotes.
- `slt_table5.txt` (current table): title lines, a `Country` header of 13 `YYYY-MM` columns newest
  first, country rows, `All Other`, `Grand Total`, three `Of Which:` memo lines, then `Notes:`.

Values are $bn as published. `n.a.` and `*` (less than $50 million) load as NULL with the marker kept
in `value_flag`. Footnote markers (`United Kingdom 2/`) and padding are stripped from the name, and the
label is also kept as published. A line the parser cannot place fails the parse, quoting the line.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from ingestion.common.errors import SourceDataError

MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
FLAGS = {"n.a.": "n.a.", "*": "*"}

# Row types: every line of the table is kept, and marked.
COUNTRY, ALL_OTHER, GRAND_TOTAL = "country", "all_other", "grand_total"
FOREIGN_OFFICIAL, OFFICIAL_BILLS, OFFICIAL_BONDS = (
    "foreign_official",
    "foreign_official_bills",
    "foreign_official_bonds_notes",
)
CANONICAL = {
    "all other": (ALL_OTHER, "All Other"),
    "grand total": (GRAND_TOTAL, "Grand Total"),
    "for. official": (FOREIGN_OFFICIAL, "Foreign Official"),
    "of which: foreign official": (FOREIGN_OFFICIAL, "Foreign Official"),
    "treasury bills": (OFFICIAL_BILLS, "Foreign Official Treasury Bills"),
    "of which: foreign official treasury bills": (OFFICIAL_BILLS, "Foreign Official Treasury Bills"),
    "t-bonds & notes": (OFFICIAL_BONDS, "Foreign Official T-Bonds & Notes"),
    "of which: foreign official t-bonds & notes": (OFFICIAL_BONDS, "Foreign Official T-Bonds & Notes"),
}
_FOOTNOTE = re.compile(r"\s+\d{1,2}/\s*$")
_ROMAN = re.compile(r"^[IVXLC]+$")


@dataclass(frozen=True)
class Holding:
    month_end: date
    country: str  # name without footnote markers and padding; canonical names for the memo lines
    label_as_published: str
    row_type: str
    is_comparison_series: bool  # the old-series duplicate column of a series break
    holdings_bn: Decimal | None
    value_flag: str | None  # "n.a." or "*" (less than $50 million) where the value is NULL
    source_file: str
    line_no: int


@dataclass
class ParsedFile:
    holdings: list[Holding]
    release_date: date | None = None
    revision_notes: tuple[str, ...] = ()


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def clean_name(label: str) -> tuple[str, str]:
    """(row type, name) for a published label."""
    name = re.sub(r"\s+", " ", _FOOTNOTE.sub("", label)).strip()
    return CANONICAL.get(name.lower(), (COUNTRY, name))


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells without trailing empties) for every row, CSV-style quoting honoured."""
    out = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter="\t")
    for cells in reader:
        while cells and not cells[-1].strip():
            cells.pop()
        out.append((reader.line_num, cells))
    return out


def _value(cell: str, *, source: str, where: str, line_no: int, line: list[str]) -> tuple[Decimal | None, str | None]:
    cell = cell.strip()
    if cell in FLAGS:
        return None, FLAGS[cell]
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise SourceDataError(
            source, where, f"line {line_no}: value {cell!r} is not a number, n.a. or *: {_quote(line)}"
        ) from None
    if not value.is_finite():
        raise SourceDataError(source, where, f"line {line_no}: value {cell!r} is not a number: {_quote(line)}")
    return value, None


def _quote(cells: list[str]) -> str:
    return repr("\t".join(cells))[:200]


def parse_history(text: str, *, source: str, where: str, source_file: str = "mfhhis01.txt") -> ParsedFile:
    rows = _rows(text)
    result = ParsedFile([])
    columns: list[tuple[date, bool]] | None = None  # per value column: (month end, is comparison series)
    pending_months: list[str] | None = None
    wrapped_label: tuple[int, str] | None = None
    in_footer = seen_block = False
    notes: list[str] = []
    for line_no, cells in rows:
        if in_footer:
            first = cells[0].strip() if cells else ""
            if result.release_date is None and re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}", first):
                fmt = "%m/%d/%y" if len(first.rsplit("/", 1)[1]) == 2 else "%m/%d/%Y"
                result.release_date = datetime.strptime(first, fmt).date()
            elif re.fullmatch(r"\(\d{4} revised .+\)", first):
                notes.append(first.strip("()"))
            continue
        if not cells or not any(c.strip() for c in cells):
            continue
        first = cells[0].strip()
        rest = [c.strip() for c in cells[1:]]
        if first.startswith("Department of the Treasury"):
            in_footer = True
            continue
        if not first and rest and all(c in MONTHS for c in rest if c) and len([c for c in rest if c]) >= 2:
            pending_months = rest
            columns = None
            seen_block = True
            continue
        if first == "Country":
            if pending_months is None:
                raise SourceDataError(
                    source, where, f"line {line_no}: a Country/year row without a month row above it: {_quote(cells)}"
                )
            if len(rest) != len(pending_months) or not all(c.isdigit() for c in rest):
                raise SourceDataError(
                    source,
                    where,
                    f"line {line_no}: {len(rest)} year cells under {len(pending_months)} month cells: {_quote(cells)}",
                )
            columns, seen = [], set()
            for month, year in zip(pending_months, rest):
                key = month_end(int(year), MONTHS[month])
                columns.append((key, key in seen))  # a month's second column is the old series
                seen.add(key)
            pending_months = None
            continue
        if not first and all(set(c) <= {"-"} for c in rest):
            continue  # the ------ rule under the header
        if not first and all(c.startswith("Series") or _ROMAN.match(c) or not c for c in rest):
            continue  # series-break markers above a month row
        if first.lower().rstrip(":") == "of which":
            continue
        if columns is None:
            if not seen_block and not any(re.fullmatch(r"[\d.]+", c) for c in rest):
                continue  # the centred title lines above the first block
            raise SourceDataError(source, where, f"line {line_no}: a row outside any year block: {_quote(cells)}")
        label = cells[0]
        if not any(rest):
            # A label with no values: the name is wrapped onto the next line.
            wrapped_label = (line_no, label.strip())
            continue
        if wrapped_label is not None:
            label = f"{wrapped_label[1]} {label.strip()}"
            wrapped_label = None
        values = rest[: len(columns)]
        if len(rest) < len(columns) or any(c == "" for c in values) or any(rest[len(columns) :]):
            raise SourceDataError(
                source,
                where,
                f"line {line_no}: {label.strip()!r} has {len([c for c in rest if c])} values for {len(columns)} month columns: {_quote(cells)}",
            )
        row_type, name = clean_name(label)
        for (month, comparison), cell in zip(columns, values):
            value, flag = _value(cell, source=source, where=where, line_no=line_no, line=cells)
            result.holdings.append(Holding(month, name, label, row_type, comparison, value, flag, source_file, line_no))
    if wrapped_label is not None:
        raise SourceDataError(
            source, where, f"line {wrapped_label[0]}: label {wrapped_label[1]!r} has no values on it or the next line"
        )
    if not result.holdings:
        raise SourceDataError(source, where, "no year blocks found: is this the MFH history file?")
    result.revision_notes = tuple(notes)
    _check_duplicates(result.holdings, source, where)
    return result


def parse_current(text: str, *, source: str, where: str, source_file: str = "slt_table5.txt") -> ParsedFile:
    rows = _rows(text)
    result = ParsedFile([])
    columns: list[date] | None = None
    for line_no, cells in rows:
        if not cells or not any(c.strip() for c in cells):
            continue
        first = cells[0].strip()
        rest = [c.strip() for c in cells[1:]]
        if first.lower().startswith("notes"):
            break
        if first == "Country":
            try:
                columns = [month_end(int(c[:4]), int(c[5:7])) for c in rest if c and re.fullmatch(r"\d{4}-\d{2}", c)]
            except ValueError:
                columns = []
            if not columns or len(columns) != len([c for c in rest if c]):
                raise SourceDataError(
                    source, where, f"line {line_no}: header columns are not all YYYY-MM: {_quote(cells)}"
                )
            continue
        if columns is None:
            continue  # title lines above the header
        values = rest[: len(columns)]
        if len(rest) < len(columns) or any(c == "" for c in values) or any(rest[len(columns) :]):
            raise SourceDataError(
                source,
                where,
                f"line {line_no}: {first!r} has {len([c for c in rest if c])} values for {len(columns)} month columns: {_quote(cells)}",
            )
        row_type, name = clean_name(cells[0])
        for month, cell in zip(columns, values):
            value, flag = _value(cell, source=source, where=where, line_no=line_no, line=cells)
            result.holdings.append(Holding(month, name, cells[0], row_type, False, value, flag, source_file, line_no))
    if columns is None:
        raise SourceDataError(source, where, "no Country header row with YYYY-MM columns found")
    _check_duplicates(result.holdings, source, where)
    return result


def _check_duplicates(holdings: list[Holding], source: str, where: str) -> None:
    seen: dict[tuple, int] = {}
    for h in holdings:
        key = (h.month_end, h.country, h.is_comparison_series)
        if key in seen:
            raise SourceDataError(
                source,
                where,
                f"line {h.line_no}: {h.country!r} for {h.month_end:%Y-%m} also appears on line {seen[key]}",
            )
        seen[key] = h.line_no


def combine(current: ParsedFile, history: ParsedFile) -> list[Holding]:
    """Both files, one row per (month, name, series): where both cover a month, the current table wins."""
    current_months = {h.month_end for h in current.holdings}
    kept = [h for h in history.holdings if h.month_end not in current_months]
    return current.holdings + kept
