"""Synthetic daily par yield curve, 1990 to the as-of date.

Four key tenors (3m, 2y, 10y, 30y) follow Brownian bridges between dated anchor levels close to the
real history, with correlated daily shocks; the other tenors are shaped from them. Each segment
between anchors draws from its own seed, so extending the as-of date never changes earlier values.
The April 2025 episode of design.md is pinned day by day.
"""

from __future__ import annotations

import zlib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np

from ingestion.calendar import business_days
from ingestion.par_yield_curve.parser import column_for_label
from ingestion.par_yield_curve.parser import is_published as tenor_published

# Published CSV labels with their maturity in years, in the column order home.treasury.gov uses.
TENORS: list[tuple[str, float]] = [
    ("1 Mo", 1 / 12),
    ("1.5 Month", 1.5 / 12),
    ("2 Mo", 2 / 12),
    ("3 Mo", 0.25),
    ("4 Mo", 4 / 12),
    ("6 Mo", 0.5),
    ("1 Yr", 1.0),
    ("2 Yr", 2.0),
    ("3 Yr", 3.0),
    ("5 Yr", 5.0),
    ("7 Yr", 7.0),
    ("10 Yr", 10.0),
    ("20 Yr", 20.0),
    ("30 Yr", 30.0),
]
TENOR_YEARS = np.array([t for _, t in TENORS])
KEY_YEARS = np.array([0.25, 2.0, 10.0, 30.0])

HISTORY_START = date(1990, 1, 2)

# Periods in which a tenor was published (start inclusive, end inclusive, None = open).

# (date, 3m, 2y, 10y, 30y) in percent: levels near the real history.
ANCHORS: list[tuple[date, float, float, float, float]] = [
    (date(1990, 1, 2), 7.83, 7.87, 7.94, 8.00),
    (date(1991, 1, 2), 6.60, 7.10, 7.90, 8.20),
    (date(1992, 1, 2), 3.90, 5.00, 6.70, 7.40),
    (date(1993, 1, 4), 3.10, 4.20, 6.60, 7.30),
    (date(1994, 1, 3), 3.05, 4.20, 5.80, 6.40),
    (date(1995, 1, 3), 5.70, 7.70, 7.90, 7.90),
    (date(1996, 1, 2), 5.10, 5.20, 5.60, 6.00),
    (date(1997, 1, 2), 5.20, 5.90, 6.40, 6.70),
    (date(1998, 1, 2), 5.30, 5.60, 5.70, 5.90),
    (date(1999, 1, 4), 4.50, 4.60, 4.70, 5.10),
    (date(2000, 1, 3), 5.50, 6.40, 6.50, 6.60),
    (date(2001, 1, 2), 5.90, 5.10, 5.00, 5.40),
    (date(2002, 1, 2), 1.70, 3.10, 5.10, 5.50),
    (date(2003, 1, 2), 1.20, 1.70, 4.00, 4.90),
    (date(2004, 1, 2), 0.90, 1.90, 4.40, 5.10),
    (date(2005, 1, 3), 2.30, 3.10, 4.20, 4.70),
    (date(2006, 1, 3), 4.10, 4.30, 4.40, 4.60),
    (date(2007, 1, 3), 5.00, 4.80, 4.70, 4.80),
    (date(2008, 1, 2), 3.30, 2.90, 3.90, 4.40),
    (date(2009, 1, 2), 0.10, 0.80, 2.50, 2.80),
    (date(2010, 1, 4), 0.05, 1.10, 3.80, 4.60),
    (date(2011, 1, 3), 0.12, 0.60, 3.40, 4.40),
    (date(2012, 1, 3), 0.02, 0.25, 1.97, 2.98),
    (date(2013, 1, 2), 0.08, 0.25, 1.86, 3.04),
    (date(2014, 1, 2), 0.07, 0.39, 3.00, 3.92),
    (date(2015, 1, 2), 0.02, 0.66, 2.12, 2.69),
    (date(2016, 1, 4), 0.22, 1.05, 2.24, 3.01),
    (date(2017, 1, 3), 0.53, 1.22, 2.45, 3.04),
    (date(2018, 1, 2), 1.39, 1.92, 2.46, 2.81),
    (date(2019, 1, 2), 2.37, 2.49, 2.66, 2.97),
    (date(2020, 1, 2), 1.55, 1.58, 1.88, 2.33),
    (date(2020, 3, 16), 0.24, 0.36, 0.73, 1.34),
    (date(2021, 1, 4), 0.09, 0.11, 0.93, 1.66),
    (date(2022, 1, 3), 0.08, 0.78, 1.63, 2.01),
    (date(2023, 1, 3), 4.42, 4.40, 3.79, 3.88),
    (date(2023, 10, 19), 5.58, 5.20, 4.98, 5.11),
    (date(2024, 1, 2), 5.40, 4.33, 3.95, 4.08),
    (date(2024, 4, 25), 5.45, 4.99, 4.70, 4.82),
    (date(2024, 9, 16), 5.00, 3.57, 3.62, 3.94),
    (date(2025, 1, 2), 4.37, 4.25, 4.57, 4.79),
    (date(2025, 1, 14), 4.37, 4.37, 4.79, 4.96),
    (date(2025, 3, 31), 4.32, 3.89, 4.23, 4.59),
    # April 2025: tariff shock, basis-trade unwind, the 30-year briefly at 5%.
    (date(2025, 4, 1), 4.32, 3.88, 4.17, 4.55),
    (date(2025, 4, 2), 4.32, 3.90, 4.20, 4.57),
    (date(2025, 4, 3), 4.30, 3.70, 4.06, 4.52),
    (date(2025, 4, 4), 4.29, 3.68, 4.01, 4.41),
    (date(2025, 4, 7), 4.30, 3.73, 4.17, 4.63),
    (date(2025, 4, 8), 4.32, 3.79, 4.29, 4.77),
    (date(2025, 4, 9), 4.33, 3.91, 4.46, 5.02),
    (date(2025, 4, 10), 4.32, 3.88, 4.42, 4.93),
    (date(2025, 4, 11), 4.33, 3.96, 4.49, 4.97),
    (date(2025, 4, 14), 4.33, 3.86, 4.38, 4.83),
    (date(2025, 4, 15), 4.33, 3.84, 4.34, 4.79),
    (date(2025, 7, 1), 4.35, 3.78, 4.26, 4.83),
    (date(2026, 1, 2), 3.62, 3.50, 4.15, 4.80),
]

# Daily shocks: a common level factor plus an idiosyncratic part per key tenor (percentage points).
_LEVEL_SD = 0.045
_LEVEL_LOADINGS = np.array([0.3, 0.9, 1.0, 0.9])
_IDIO_SD = np.array([0.02, 0.025, 0.022, 0.02])
_MEAN_REVERSION = 0.01  # per day, after the last anchor


def _seed(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def _shocks(rng: np.random.Generator, n: int, level: float) -> np.ndarray:
    scale = float(np.clip(level / 5.0, 0.45, 1.2))
    common = rng.normal(0.0, _LEVEL_SD, n)[:, None] * _LEVEL_LOADINGS
    idio = rng.normal(0.0, 1.0, (n, 4)) * _IDIO_SD
    return (common + idio) * scale


def _shape(keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Full curve (len(TENORS) columns) from the key tenors, per row."""
    log_key = np.log(KEY_YEARS)
    out = np.empty((keys.shape[0], len(TENORS)))
    for j, years in enumerate(TENOR_YEARS):
        if years < 0.25:
            # Below 3 months the curve hugs the 3-month rate, a touch lower when rates are positive.
            out[:, j] = keys[:, 0] - 0.05 * (0.25 - years) / 0.25 * np.sign(keys[:, 0])
        else:
            k1 = int(min(np.searchsorted(log_key, np.log(years)), len(log_key) - 1))
            k0 = max(k1 - 1, 0)
            w = 0.0 if k1 == k0 else (np.log(years) - log_key[k0]) / (log_key[k1] - log_key[k0])
            out[:, j] = (1 - w) * keys[:, k0] + w * keys[:, k1]
    hump_20y = TENOR_YEARS == 20.0
    out[:, hump_20y] += 0.10
    key_cols = np.isin(TENOR_YEARS, KEY_YEARS)
    out[:, ~key_cols] += rng.normal(0.0, 0.012, (keys.shape[0], int((~key_cols).sum())))
    return np.maximum(out, 0.0)


@dataclass(frozen=True)
class Curve:
    dates: list[date]
    yields: np.ndarray  # shape (len(dates), len(TENORS)), unrounded percent

    def index_of(self, day: date) -> int | None:
        i = bisect_right(self.dates, day) - 1
        return i if i >= 0 and self.dates[i] == day else None

    def close_on_or_before(self, day: date) -> np.ndarray:
        """The latest curve published on or before `day` (rounded as published)."""
        i = bisect_right(self.dates, day) - 1
        return np.round(self.yields[max(i, 0)], 2)

    def yield_at(self, day: date, years: float) -> float:
        """Par yield interpolated at a maturity, from the close on or before `day`."""
        return float(np.interp(years, TENOR_YEARS, self.close_on_or_before(day)))


def is_published(label: str, day: date) -> bool:
    """The Treasury's publication eras of each tenor (the parser's table, by CSV label)."""
    return tenor_published(column_for_label(label), day)


@lru_cache(maxsize=4)
def build_curve(end: date) -> Curve:
    """The synthetic curve for every business day from 1990-01-02 through `end`."""
    horizon = max(end, ANCHORS[-1][0])
    days = business_days(HISTORY_START, horizon)
    position = {d: i for i, d in enumerate(days)}
    keys = np.empty((len(days), 4))
    for (d0, *y0), (d1, *y1) in zip(ANCHORS, ANCHORS[1:]):
        i0, i1 = position[d0], position[d1]
        n = i1 - i0
        start, stop = np.array(y0), np.array(y1)
        rng = np.random.default_rng(_seed("bridge", d0))
        walk = np.vstack([np.zeros(4), np.cumsum(_shocks(rng, n, float(start[2])), axis=0)])
        frac = np.linspace(0.0, 1.0, n + 1)[:, None]
        keys[i0 : i1 + 1] = start + (stop - start) * frac + walk - frac * walk[-1]
    # After the last anchor: mean-reverting walk, one seed per calendar year.
    last = position[ANCHORS[-1][0]]
    target = keys[last].copy()
    year_rng: dict[int, np.random.Generator] = {}
    for i in range(last + 1, len(days)):
        year = days[i].year
        rng = year_rng.setdefault(year, np.random.default_rng(_seed("walk", year)))
        shock = _shocks(rng, 1, float(keys[i - 1, 2]))[0]
        keys[i] = keys[i - 1] + _MEAN_REVERSION * (target - keys[i - 1]) + shock
    keys = np.maximum(keys, 0.01)
    full = np.empty((len(days), len(TENORS)))
    # Shape per anchor segment with its own seed so the shape noise is prefix-stable too.
    bounds = [position[a[0]] for a in ANCHORS] + [len(days)]
    for lo, hi in zip([0] + bounds[1:], bounds[1:] + [len(days)]):
        if hi > lo:
            full[lo:hi] = _shape(keys[lo:hi], np.random.default_rng(_seed("shape", days[lo])))
    # Pinned key tenors keep their exact anchor values.
    key_cols = [int(np.where(TENOR_YEARS == k)[0][0]) for k in KEY_YEARS]
    full[:, key_cols] = keys
    cut = bisect_right(days, end)
    return Curve(dates=days[:cut], yields=full[:cut])


def daily_rows(curve: Curve, year: int) -> tuple[list[str], list[tuple[date, list[float | None]]]]:
    """Labels published in `year` and its rows (newest first), None where a tenor was not published."""
    rows = []
    for i, day in enumerate(curve.dates):
        if day.year != year:
            continue
        values = [
            round(float(curve.yields[i, j]), 2) if is_published(label, day) else None
            for j, (label, _) in enumerate(TENORS)
        ]
        rows.append((day, values))
    rows.reverse()
    present = [label for j, (label, _) in enumerate(TENORS) if any(v[j] is not None for _, v in rows)]
    keep = [j for j, (label, _) in enumerate(TENORS) if label in present]
    return present, [(d, [v[j] for j in keep]) for d, v in rows]


# --- endpoints ----------------------------------------------------------------------------------------------

BASE_PATH = "/resource-center/data-chart-center/interest-rates"
YIELD_CSV_PREFIX = BASE_PATH + "/daily-treasury-rates.csv/"


def route(emulator, path: str, params: dict[str, str]):
    """The daily par yield curve CSV, one year or all (None: not an endpoint of this source)."""
    if not path.startswith(YIELD_CSV_PREFIX):
        return None
    parts = path[len(YIELD_CSV_PREFIX) :].strip("/").split("/")
    if params.get("type") != "daily_treasury_yield_curve":
        return 404, "text/plain", b"unknown type"
    if parts[0] == "all":
        years = range(HISTORY_START.year, emulator.as_of.year + 1)
    elif parts[0].isdigit():
        years = [int(parts[0])]
    else:
        return 404, "text/plain", b"unknown year"
    return 200, "text/csv; charset=utf-8", render_csv(emulator.as_of, list(years)).encode()


def render_csv(as_of: date, years: list[int]) -> str:
    """The years' curves as the Treasury serves them: newest first, only the tenors published in those years."""
    curve = build_curve(as_of)
    present: list[str] = []
    rows: list[tuple[date, dict[str, float | None]]] = []
    for year in sorted(years, reverse=True):
        labels, year_rows = daily_rows(curve, year)
        present = [label for label, _ in TENORS if label in set(present) | set(labels)]
        rows.extend((d, dict(zip(labels, values))) for d, values in year_rows)
    if not present:
        present = [label for label, _ in TENORS if is_published(label, as_of)]
    header = "Date," + ",".join(f'"{label}"' for label in present)
    lines = [header]
    for day, values in rows:
        cells = ["" if values.get(label) is None else f"{values[label]:.2f}" for label in present]
        lines.append(f"{day:%m/%d/%Y}," + ",".join(cells))
    # As served: LF line ends and no final newline.
    return "\n".join(lines)
