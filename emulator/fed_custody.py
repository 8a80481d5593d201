"""Emulated FRED graph CSV (`fredgraph.csv?id=...&cosd=&coed=`) for WMTSECL1 and IORB.

WMTSECL1 (Treasuries held in custody for foreign official and international accounts, Wednesday level, $ millions)
follows the public record's broad path: about $0.9 trillion at the end of 2002, $3 trillion by 2012, a drift down to
about $2.9-3.0 trillion through 2020-25, with weekly noise and no invented April 2025 episode. A week is served from
the Thursday after its Wednesday (H.4.1 day). IORB is the policy path (policy.py), a row every calendar day from
2021-07-29. The newer `observation_date` header, an empty field for a missing value (none occur here), LF, a final
newline, as FRED serves today.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from emulator.policy import IORB_START, iorb

CUSTODY_START = date(2002, 12, 18)
_CUSTODY_ANCHORS = (
    (date(2002, 12, 18), 900_000),
    (date(2008, 6, 25), 1_850_000),
    (date(2012, 6, 27), 2_950_000),
    (date(2014, 6, 25), 3_300_000),
    (date(2017, 6, 28), 3_050_000),
    (date(2020, 3, 25), 2_950_000),
    (date(2022, 12, 28), 2_950_000),
    (date(2025, 4, 2), 2_950_000),
    (date(2026, 11, 25), 2_900_000),
)
SERIES = ("WMTSECL1", "IORB")


class UnknownSeries(KeyError):
    pass


@lru_cache(maxsize=4)
def _custody(as_of: date) -> dict[date, str]:
    weeks, day = [], CUSTODY_START
    while day + timedelta(days=1) <= as_of:  # published on the Thursday
        weeks.append(day)
        day += timedelta(days=7)
    ordinals = [a.toordinal() for a, _ in _CUSTODY_ANCHORS]
    trend = np.interp([w.toordinal() for w in weeks], ordinals, [v for _, v in _CUSTODY_ANCHORS])
    shocks = np.random.default_rng(zlib.crc32(b"WMTSECL1")).normal(0.0, 5_500, len(weeks))
    # Wander around the trend and come back to it; each week from the past only, so the history never changes as
    # the as-of date moves.
    deviation, level = np.empty(len(weeks)), 0.0
    for i, shock in enumerate(shocks):
        level = 0.96 * level + shock
        deviation[i] = level
    return {w: str(int(round(v))) for w, v in zip(weeks, trend + deviation)}


def _iorb(as_of: date) -> dict[date, str]:
    out, day = {}, IORB_START
    while day <= as_of:
        out[day] = f"{iorb(day):.2f}"
        day += timedelta(days=1)
    return out


def render_csv(series_ids: list[str], as_of: date, start: date | None = None, end: date | None = None) -> bytes:
    columns = []
    for series in series_ids:
        if series == "WMTSECL1":
            columns.append(_custody(as_of))
        elif series == "IORB":
            columns.append(_iorb(as_of))
        else:
            raise UnknownSeries(series)
    days = sorted(set().union(*columns))
    lines = ["observation_date," + ",".join(series_ids)]
    for day in days:
        if (start and day < start) or (end and day > end):
            continue
        lines.append(day.isoformat() + "," + ",".join(column.get(day, "") for column in columns))
    return ("\n".join(lines) + "\n").encode()


# --- endpoints ----------------------------------------------------------------------------------------------

BASE_PATH = "/graph"
CSV_PATH = BASE_PATH + "/fredgraph.csv"


def route(emulator, path: str, params: dict[str, str]):
    """FRED's graph CSV for a list of series ids (None: not an endpoint of this source)."""
    if path != CSV_PATH:
        return None
    ids = [i for i in params.get("id", "").split(",") if i]
    try:
        start, end = (date.fromisoformat(params[k]) if params.get(k) else None for k in ("cosd", "coed"))
        return 200, "text/csv", render_csv(ids, emulator.as_of, start, end)
    except (UnknownSeries, ValueError) as exc:
        return 404, "text/plain", f"series or dates not found: {exc}".encode()
