"""Synthetic TIC Major Foreign Holders data, rendered as `mfhhis01.txt` and `slt_table5.txt`.

About 35 countries from March 2000, with levels near the real ones, the old aggregates
(`Belgium-Luxembourg` before June 2002, `Carib Bnkng Ctrs 4/` and `Oil Exporters 3/` until February
2016), footnote markers, quoted names with commas, `n.a.` (Belgium and Luxembourg before June 2002) and `*` cells, and
survey series breaks whose old-series column is repeated "for comparison only". Country rows plus "All
Other" sum to the grand total within rounding. Month m is published on the 18th of month m+2 (the
next business day if that is a holiday). The history file runs to the December before the latest
published month's year; the current table holds the latest 13 months. `revised=True` publishes an
annual benchmark revision of the last full year in the history file.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np

from ingestion.calendar import next_business_day
from ingestion.tic_holdings.parser import MONTHS, month_end
from ingestion.tic_holdings.releases import expected_release as tic_expected_release

HISTORY_START = date(2000, 3, 31)
MONTH_NAMES = {v: k for k, v in MONTHS.items()}


@dataclass(frozen=True)
class Holder:
    label: str  # as published in the history file (footnote markers, padding, commas)
    current_label: str  # as published in the current table
    anchors: tuple[float, float, float]  # $bn in 2000, 2013, 2025
    start: date = HISTORY_START
    end: date | None = None


HOLDERS = [
    Holder("Japan", "Japan", (317.7, 1150.0, 1185.5)),
    Holder("China, Mainland", "China, Mainland", (60.3, 1300.0, 683.5)),
    Holder("United Kingdom 2/", "United Kingdom", (50.2, 160.0, 866.0)),
    Holder("Belgium-Luxembourg ", "", (29.6, 0, 0), end=date(2002, 5, 31)),
    Holder("Belgium  5/", "Belgium", (15.0, 170.0, 477.3), start=date(2002, 6, 30)),
    Holder("Luxembourg", "Luxembourg", (12.0, 140.0, 435.1), start=date(2002, 6, 30)),
    Holder("Canada", "Canada", (14.2, 50.0, 468.2)),
    Holder("Cayman Islands", "Cayman Islands", (12.0, 180.0, 421.2)),
    Holder("France", "France", (25.1, 60.0, 368.9)),
    Holder("Ireland", "Ireland", (5.0, 120.0, 340.7)),
    Holder("Taiwan", "Taiwan", (33.4, 180.0, 310.6)),
    Holder("Switzerland", "Switzerland", (16.4, 175.0, 294.1)),
    Holder("Singapore", "Singapore", (27.9, 90.0, 278.4)),
    Holder("Hong Kong", "Hong Kong", (38.0, 155.0, 267.8)),
    Holder("Norway", "Norway", (5.0, 80.0, 208.1)),
    Holder("India", "India", (3.0, 68.0, 182.9)),
    Holder("Brazil", "Brazil", (5.0, 250.0, 168.7)),
    Holder("Saudi Arabia", "Saudi Arabia", (10.0, 60.0, 149.5)),
    Holder("Korea, South ", "Korea, South", (29.6, 55.0, 140.6)),
    Holder("Israel", "Israel", (3.0, 10.0, 105.7)),
    Holder("Germany", "Germany", (50.0, 60.0, 103.1)),
    Holder("Bermuda", "Bermuda", (5.0, 30.0, 101.4)),
    Holder("United Arab Emirates", "United Arab Emirates", (2.0, 35.0, 95.6)),
    Holder("El Salvador", "El Salvador", (0.02, 0.5, 93.8)),
    Holder("Mexico", "Mexico", (15.3, 60.0, 85.4)),
    Holder("Thailand", "Thailand", (13.8, 55.0, 82.8)),
    Holder("Spain ", "Spain", (19.0, 25.0, 73.6)),
    Holder("Australia", "Australia", (5.0, 30.0, 72.3)),
    Holder("Netherlands", "Netherlands", (11.4, 40.0, 70.0)),
    Holder("Kuwait", "Kuwait", (2.0, 30.0, 66.1)),
    Holder("Italy", "Italy", (20.8, 30.0, 62.1)),
    Holder("Philippines", "Philippines", (3.0, 38.0, 62.0)),
    Holder("Poland", "Poland", (2.0, 40.0, 60.5)),
    Holder("Sweden", "Sweden", (5.0, 35.0, 50.1)),
    Holder("Colombia", "Colombia", (2.0, 30.0, 44.2)),
    Holder("Chile", "Chile", (3.0, 20.0, 39.6)),
    Holder("Oil Exporters 3/", "", (45.0, 260.0, 0), end=date(2016, 2, 29)),
    Holder("Carib Bnkng Ctrs 4/", "", (40.0, 290.0, 0), end=date(2016, 2, 29)),
]
# June of these years (March in 2000) carries a survey series break with an old-series duplicate.
BREAKS = {2000: 3, **{y: 6 for y in range(2002, 2012)}}


def release_date(month: date) -> date:
    """When month `month` is first published: the expected day (the 18th of the month after next) or the next
    business day after it."""
    return next_business_day(tic_expected_release(month))


def months_between(start: date, end: date) -> list[date]:
    out, m = [], start
    while m <= end:
        out.append(m)
        m = month_end(m.year + (m.month == 12), m.month % 12 + 1)
    return out


def latest_month(as_of: date) -> date:
    m = month_end(as_of.year, as_of.month)
    while release_date(m) > as_of:
        m = month_end(m.year - (m.month == 1), (m.month - 2) % 12 + 1)
    return m


def _path(holder: Holder, months: list[date]) -> np.ndarray:
    """Monthly $bn: geometric interpolation through the anchors with persistent noise."""
    rng = np.random.default_rng(zlib.crc32(f"tic|{holder.label}".encode()))
    t = np.array([(m - date(2000, 3, 31)).days / 365.25 for m in months])
    a2000, a2013, a2025 = (max(a, 0.01) for a in holder.anchors)
    log_level = np.interp(t, [0.0, 13.0, 25.5], np.log([a2000, a2013, a2025]))
    # AR(1) noise: it wanders and returns to the anchor path, and each month depends only on the past.
    noise = np.empty(len(months))
    level = 0.0
    for i, e in enumerate(rng.normal(0, 0.018, len(months))):
        level = 0.92 * level + e
        noise[i] = level
    return np.exp(log_level + noise)


@dataclass
class TicData:
    months: list[date]
    values: dict[str, list[float | None]]  # history label -> value per month (None: not published)
    comparison: dict[str, dict[date, float]]  # old-series values at series breaks
    latest: date
    history_end: date
    history_release: date
    revision_notes: list[str]


@lru_cache(maxsize=4)
def tic_data(as_of: date, revised: bool = False) -> TicData:
    latest = latest_month(as_of)
    months = months_between(HISTORY_START, latest)
    values: dict[str, list[float | None]] = {}
    for holder in HOLDERS:
        path = _path(holder, months)
        values[holder.label] = [
            # Below $50 million the files print "*": keep such values unrounded so they render that way.
            (round(float(v), 1) if v >= 0.05 else float(v))
            if holder.start <= m and (holder.end is None or m <= holder.end)
            else None
            for m, v in zip(months, path)
        ]
    history_end = month_end(latest.year - 1, 12)
    if revised:
        year = history_end.year
        for label, series in values.items():
            rng = np.random.default_rng(zlib.crc32(f"revision|{label}".encode()))
            factor = 1 + rng.normal(0, 0.015)
            for i, m in enumerate(months):
                if m.year == year and series[i] is not None and series[i] == series[i]:
                    series[i] = round(series[i] * factor, 1)
    totals = np.zeros(len(months))
    for series in values.values():
        totals += np.array([0.0 if v is None or v != v else v for v in series])
    rng = np.random.default_rng(zlib.crc32(b"tic|other"))
    all_other = np.round(
        totals * (0.09 + 0.02 * np.sin(np.arange(len(months)) / 20)) * (1 + rng.normal(0, 0.01, len(months))), 1
    )
    values["All Other"] = list(all_other)
    values["Grand Total"] = list(np.round(totals + all_other, 1))
    # Foreign official share of holdings: about 60% in 2000 falling to 42% by 2025 (by date, not by position).
    official_share = np.interp(
        [(m - HISTORY_START).days for m in months], [0, (date(2025, 12, 31) - HISTORY_START).days], [0.60, 0.42]
    )
    official = np.round((totals + all_other) * official_share, 1)
    bills = np.round(official * (0.10 + 0.03 * np.cos(np.arange(len(months)) / 15)), 1)
    values["For. Official"] = list(official)
    values["Treasury Bills"] = list(bills)
    values["T-Bonds & Notes"] = list(np.round(official - bills, 1))
    comparison: dict[str, dict[date, float]] = {}
    for year, month in BREAKS.items():
        m = month_end(year, month)
        if m not in months:
            continue
        i = months.index(m)
        rng = np.random.default_rng(zlib.crc32(f"break|{year}".encode()))
        for label, series in values.items():
            if series[i] is not None and series[i] == series[i]:
                comparison.setdefault(label, {})[m] = round(float(series[i]) * (1 + rng.normal(0, 0.03)), 1)
    history_release = release_date(month_end(latest.year, 1)) if latest.month >= 1 else release_date(latest)
    notes = [
        f"({y} revised {release_date(month_end(y + 1, 1)):%B %-d, %Y})"
        for y in range(history_end.year, max(history_end.year - 4, 2000), -1)
    ]
    if revised:
        notes[0] = f"({history_end.year} revised {as_of:%B %-d, %Y})"
        history_release = as_of
    return TicData(months, values, comparison, latest, history_end, history_release, notes)


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    if value != value:
        return "n.a."
    if 0 < value < 0.05:
        return "*"
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _quoted(text: str) -> str:
    # An Excel tab-delimited export quotes any cell holding a comma or a quote.
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if ("," in text or '"' in text) else text


MEMO_LABELS = {
    "For. Official": "  For. Official",
    "Treasury Bills": "    Treasury Bills",
    "T-Bonds & Notes": "    T-Bonds & Notes",
}


def render_history(data: TicData) -> str:
    width = 13
    lines = [
        "\t\t\tMAJOR FOREIGN HOLDERS OF TREASURY SECURITIES" + "\t" * 10,
        "\t\t\t\t    (in billions of dollars)" + "\t" * 9,
        "\t\t\t\tHOLDINGS 1/ AT END OF PERIOD" + "\t" * 9,
        "\t" * width,
        "\t" * width,
    ]

    def pad(cells: list[str]) -> str:
        return "\t".join(cells + [""] * max(width + 1 - len(cells), 0))

    index = {m: i for i, m in enumerate(data.months)}
    for year in range(data.history_end.year, 1999, -1):
        cols: list[tuple[date, bool]] = []
        for month in range(12, 0, -1):
            m = month_end(year, month)
            if m not in index or m > data.history_end:
                continue
            cols.append((m, False))
            if BREAKS.get(year) == month:
                cols.append((m, True))
        if not cols:
            continue
        if year in BREAKS:
            series_row = ["" for _ in range(len(cols) + 1)]
            roman_row = list(series_row)
            at = next(i for i, (_, comparison) in enumerate(cols) if comparison)
            series_row[at], series_row[at + 1] = f"Series {year - 1994}/", "Series"
            roman_row[at], roman_row[at + 1] = f" {_roman(year - 1997)}", f" {_roman(year - 1998)}"
            lines += [pad(series_row), pad(roman_row)]
        lines.append(pad([""] + [MONTH_NAMES[m.month] for m, _ in cols]))
        lines.append(pad(["Country"] + [str(m.year) for m, _ in cols]))
        lines.append(pad([""] + ["------"] * len(cols)))
        lines.append("\t" * width)

        def cell(label: str, m: date, comparison: bool) -> str:
            if comparison:
                return _fmt(data.comparison.get(label, {}).get(m))
            return _fmt(data.values[label][index[m]])

        newest = cols[0][0]
        countries = [h.label for h in HOLDERS if any(data.values[h.label][index[m]] is not None for m, _ in cols)]
        countries.sort(
            key=lambda label: (
                -(data.values[label][index[newest]] or 0)
                if data.values[label][index[newest]] == data.values[label][index[newest]]
                else 0
            )
        )
        for label in countries + ["All Other", "Grand Total"]:
            lines.append(pad([_quoted(label)] + [cell(label, m, c) or "n.a." for m, c in cols]))
        lines.append("\t" * width)
        lines.append(pad(["Of which:"]))
        for label in ("For. Official", "Treasury Bills", "T-Bonds & Notes"):
            shown = MEMO_LABELS[label] if year < 2013 else label
            lines.append(pad([shown] + [cell(label, m, c) for m, c in cols]))
        lines += ["\t" * width, "\t" * width]
    lines.append(pad(["Department of the Treasury/Federal Reserve Board"]))
    lines.append(pad([f"{data.history_release.month}/{data.history_release.day}/{data.history_release:%y}"]))
    lines += [pad([_quoted(note)]) for note in data.revision_notes]
    lines += [
        "\t" * width,
        pad(
            [
                "1/    Estimated foreign holdings of U.S. Treasury marketable and non-marketable bills, bonds, and notes reported under the Treasury International Capital (TIC) reporting system are based on annual Surveys of Foreign Holdings of U.S. Securities and on monthly data."
            ]
        ),
        pad(["2/    United Kingdom includes Channel Islands and Isle of Man."]),
        pad(
            [
                "3/    Oil exporters include Ecuador, Venezuela, Indonesia, Bahrain, Iran, Iraq, Kuwait, Oman, Qatar, Saudi Arabia, and the United Arab Emirates, Algeria, Gabon, Libya, and Nigeria."
            ]
        ),
        pad(
            [
                "4/    Caribbean Banking Centers include Bahamas, Bermuda, Cayman Islands, Netherlands Antilles and Panama."
            ]
        ),
        pad(
            [
                '5/    Data for Belgium and Luxembourg are shown separately from June 2002; the "Belgium-Luxembourg" row ends in May 2002.'
            ]
        ),
        pad(['"*    Less than $50 million; ""n.a."" not available."']),
    ]
    # Excel writes CRLF; the saved public copy was normalised to LF. Serve LF.
    return "\n".join(lines) + "\n"


def current_table_head(months: list[date]) -> list[str]:
    """The title lines and the `Country` header of slt_table5.txt for `months` (newest first)."""
    return [
        "Table 5: Major Foreign Holders of Treasury Securities\t\t",
        "Holdings at end of time period\t\t",
        "Billions of dollars\t\t",
        "Link: https://ticdata.treasury.gov/resource-center/data-chart-center/tic/Documents/slt_table5.txt\t\t",
        "",
        "Country\t" + "\t".join(f"{m:%Y-%m}" for m in months),
    ]


def render_current(data: TicData) -> str:
    months = months_between(month_end(data.latest.year - 1, data.latest.month), data.latest)[::-1]
    index = {m: i for i, m in enumerate(data.months)}
    lines = current_table_head(months)
    holders = [h for h in HOLDERS if h.current_label and data.values[h.label][index[data.latest]] is not None]
    holders.sort(key=lambda h: -(data.values[h.label][index[data.latest]] or 0))
    rows = [(h.current_label, h.label) for h in holders] + [
        ("All Other", "All Other"),
        ("Grand Total", "Grand Total"),
        ("Of Which: Foreign Official", "For. Official"),
        ("Of Which: Foreign Official Treasury Bills", "Treasury Bills"),
        ("Of Which: Foreign Official T-Bonds & Notes", "T-Bonds & Notes"),
    ]
    for shown, label in rows:
        lines.append(shown + "\t" + "\t".join(_fmt(data.values[label][index[m]]) or "n.a." for m in months))
    lines += [
        "",
        "Notes:",
        "Estimated foreign holdings of U.S. Treasury marketable and non-marketable bills, bonds, and notes. Data are by country of the custodian, not of the beneficial owner.",
    ]
    return "\n".join(lines) + "\n"


def _roman(n: int) -> str:
    out = ""
    for value, numeral in ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += numeral
            n -= value
    return out


# --- endpoints ----------------------------------------------------------------------------------------------

BASE_PATH = "/resource-center/data-chart-center/tic/Documents"
CURRENT_FILE = BASE_PATH + "/slt_table5.txt"
HISTORY_FILE = BASE_PATH + "/mfhhis01.txt"


def route(emulator, path: str, params: dict[str, str]):  # noqa: ARG001 - the route's signature
    """TIC's current table and its history file (None: not an endpoint of this source)."""
    if path not in (CURRENT_FILE, HISTORY_FILE):
        return None
    if latest_month(emulator.as_of) < HISTORY_START:
        # Before the first published month (March 2000) the files did not exist.
        return 404, "text/plain", f"no such file before {HISTORY_START:%B %Y}: {path}".encode()
    data = tic_data(emulator.as_of, emulator.revised)
    return 200, "text/plain", (render_current(data) if path == CURRENT_FILE else render_history(data)).encode()
