"""Emulated NY Fed Primary Dealer Statistics, in the API's wire format (`{"pd": { "timeseries": [ ... ] } }`).

Weekly Wednesdays, $ millions as JSON strings. Dealers' net Treasury position rises over the years from about $60bn
in 2013 to the elevated $350-400bn of 2024-25 (the public record has dealers entering April 2025 with inventories
already high; the emulator adds no April story of its own), bills swing around it, and the coupon buckets share the
rest. The published total exceeds the sum of bills and buckets by a few $ billions, as the real one does. The >11-year
bucket is split into 11-21 and >21 years from 2022-01-05, and the pre-April-2013 period (`SBP2013`) has its own
coarser keyids. Securities lent is suppressed (`"*"`) in some weeks, as published.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

CURRENT_START = date(2013, 4, 3)
SBP2013_START = date(2001, 7, 4)
SPLIT_DAY = date(2022, 1, 5)  # PDPOSGSC-G11 split into G11L21 and G21
PUBLICATION_LAG_DAYS = 8

# Net Treasury position (excluding TIPS), $ millions, at anchor dates.
_TOTAL_ANCHORS = (
    (date(2001, 7, 4), -20_000),
    (date(2007, 6, 27), -60_000),
    (date(2009, 6, 24), 40_000),
    (date(2013, 4, 3), 60_000),
    (date(2016, 6, 29), 90_000),
    (date(2018, 12, 26), 200_000),
    (date(2020, 3, 25), 300_000),
    (date(2021, 6, 30), 170_000),
    (date(2023, 6, 28), 260_000),
    (date(2024, 12, 25), 360_000),
    (date(2025, 4, 2), 390_000),
    (date(2026, 6, 24), 350_000),
)
COUPON_SHARES = {  # of the coupon part of the position
    "PDPOSGSC-L2": 0.30,
    "PDPOSGSC-G2L3": 0.12,
    "PDPOSGSC-G3L6": 0.22,
    "PDPOSGSC-G6L7": 0.06,
    "PDPOSGSC-G7L11": 0.18,
    "PDPOSGSC-G11": 0.12,
}
SBP2013_SHARES = {"PDPUSGCS3LNOP": 0.42, "PDPUSGCS36NOP": 0.22, "PDPUSGCS611NOP": 0.24, "PDPUSGCSM11NOP": 0.12}
DESCRIPTIONS = {
    "PDPOSGST-TOT": "Total - U.S. TREASURY SECURITIES (EXCLUDING TREASURY INFLATION-PROTECTED SECURITIES (TIPS)) : "
    "DEALER POSITION - LONG. - U.S. TREASURY SECURITIES (EXCLUDING TREASURY INFLATION-PROTECTED SECURITIES (TIPS)) : "
    "DEALER POSITION - SHORT.",
    "PDPOSGS-B": "U.S. TREASURY SECURITIES (EXCLUDING TREASURY INFLATION-PROTECTED SECURITIES (TIPS)) BILLS: DEALER "
    "POSITION - LONG. - U.S. TREASURY SECURITIES (EXCLUDING TREASURY INFLATION-PROTECTED SECURITIES (TIPS)) BILLS : "
    "DEALER POSITION - SHORT.",
    "PDPOSGSC-L2": "U.S. TREASURY SECURITIES (EXCLUDING TIPS) COUPONS DUE IN LESS THAN OR EQUAL TO 2 YEARS : NET",
    "PDPOSGSC-G2L3": "U.S. TREASURY SECURITIES (EXCLUDING TIPS) COUPONS DUE IN MORE THAN 2 YEARS BUT LESS THAN OR EQUAL "
    "TO 3 YEARS : NET",
    "PDPOSGSC-G3L6": "U.S. TREASURY SECURITIES (EXCLUDING TIPS) COUPONS DUE IN MORE THAN 3 YEARS BUT LESS THAN OR EQUAL "
    "TO 6 YEARS : NET",
    "PDPOSGSC-G6L7": "U.S. TREASURY SECURITIES (EXCLUDING TIPS) COUPONS DUE IN MORE THAN 6 YEARS BUT LESS THAN OR EQUAL "
    "TO 7 YEARS : NET",
    "PDPOSGSC-G7L11": "U.S. TREASURY SECURITIES (EXCLUDING TIPS) COUPONS DUE IN MORE THAN 7 YEARS BUT LESS THAN OR EQUAL "
    "TO 11 YEARS : NET",
    "PDPOSGSC-G11L21": "U.S. TREASURY SECURITIES (EXCLUDING TIPS): COUPONS DUE IN MORE THAN 11 YEARS BUT LESS THAN OR "
    "EQUAL TO 21 YEARS - OUTRIGHT POSITIONS LONG - SHORT",
    "PDPOSGSC-G21": "U.S. TREASURY SECURITIES (EXCLUDING TIPS): COUPONS DUE IN MORE THAN 21 YEARS - OUTRIGHT POSITIONS "
    "LONG - SHORT",
    "PDGSWOEXTTOT": "Total - U.S. TREASURY SECURITIES (EXCLUDING TIPS) - DEALER TRANSACTIONS WITH INTER-DEALER BROKERS + "
    "Total - DEALER TRANSACTIONS WITH OTHERS",
    "PDSORA-UTSETTOT": "Total - Repurchase Agreements: U.S. Treasury securities (excluding TIPS)",
    "PDSIRRA-UTSETTOT": "Total - Reverse Repurchase Agreements: U.S. Treasury securities (excluding TIPS)",
    "PDSIOSB-UTSETTOT": "Total - U.S. TREASURY SECURITIES (EXCLUDING TIPS) OTHER FINANCING ACTIVITY - DEALER FINANCING "
    "SECURITIES BORROWED",
    "PDSOOS-UTSETTOT": "Total - U.S. TREASURY SECURITIES (EXCLUDING TIPS) OTHER FINANCING ACTIVITY - DEALER FINANCING "
    "SECURITIES LENT",
    "PDFTD-USTET": "U.S. TREASURY SECURITIES (EXCLUDING TREASURY INFLATION-PROTECTED SECURITIES (TIPS) : DEALER "
    "FINANCING FAILS TO DELIVER",
    "PDFTR-USTET": "U.S. TREASURY SECURITIES (EXCLUDING TREASURY INFLATION-PROTECTED SECURITIES (TIPS) : DEALER "
    "FINANCING FAILS TO RECEIVE",
}
# Financing, transactions and fails: (level in 2013, level in 2025), $ millions.
_FLOWS = {
    "PDGSWOEXTTOT": (500_000, 900_000),
    "PDSORA-UTSETTOT": (1_300_000, 2_600_000),
    "PDSIRRA-UTSETTOT": (1_000_000, 2_200_000),
    "PDSIOSB-UTSETTOT": (250_000, 420_000),
    "PDSOOS-UTSETTOT": (40_000, 70_000),
    "PDFTD-USTET": (60_000, 110_000),
    "PDFTR-USTET": (55_000, 100_000),
}


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("|".join(map(str, parts)).encode()))


def _wednesdays(start: date, end: date) -> list[date]:
    out, day = [], start
    while day <= end:
        out.append(day)
        day += timedelta(days=7)
    return out


def _ar1(rng: np.random.Generator, n: int, sd: float, persistence: float = 0.85) -> np.ndarray:
    shocks = rng.normal(0.0, sd, n)
    out = np.empty(n)
    level = 0.0
    for i in range(n):
        level = persistence * level + shocks[i]
        out[i] = level
    return out


@lru_cache(maxsize=4)
def statistics(as_of: date) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(series break, keyid) -> [(asofdate, value text)] published by `as_of` (oldest first)."""
    last = as_of - timedelta(days=PUBLICATION_LAG_DAYS)
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    weeks = _wednesdays(SBP2013_START, last)
    ordinals = [a.toordinal() for a, _ in _TOTAL_ANCHORS]
    trend = np.interp([w.toordinal() for w in weeks], ordinals, [v for _, v in _TOTAL_ANCHORS])
    total = trend + _ar1(_rng("total"), len(weeks), 9_000)
    bills = 0.15 * trend + _ar1(_rng("bills"), len(weeks), 8_000, 0.7)
    coupons = total - bills
    gap = _rng("gap").uniform(2_000, 11_500, len(weeks))  # the published total's excess over its parts
    bucket_noise = {k: _ar1(_rng(k), len(weeks), 3_000, 0.6) for k in (*COUPON_SHARES, *SBP2013_SHARES)}
    rows: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def add(series_break: str, keyid: str, day: date, value: float | None) -> None:
        rows.setdefault((series_break, keyid), []).append(
            (day.isoformat(), "*" if value is None else str(int(round(value))))
        )

    # By date, not by position: the history must not change as the as-of date moves.
    span = [CURRENT_START.toordinal(), date(2025, 12, 31).toordinal()]
    growth = {k: np.interp([w.toordinal() for w in weeks], span, [lo, hi]) for k, (lo, hi) in _FLOWS.items()}
    flow_noise = {k: _rng(k).normal(0.0, 0.05, len(weeks)) for k in _FLOWS}
    suppressed = _rng("suppressed").random(len(weeks)) < 0.08
    for i, day in enumerate(weeks):
        if day < CURRENT_START:
            add("SBP2013", "PDPUSGTBNOP", day, bills[i])
            for keyid, share in SBP2013_SHARES.items():
                add("SBP2013", keyid, day, coupons[i] * share + bucket_noise[keyid][i])
            continue
        buckets = {k: coupons[i] * s + bucket_noise[k][i] for k, s in COUPON_SHARES.items()}
        buckets["PDPOSGSC-G7L11"] -= sum(bucket_noise[k][i] for k in COUPON_SHARES)  # the parts still add up
        if day >= SPLIT_DAY:
            long_end = buckets.pop("PDPOSGSC-G11")
            buckets["PDPOSGSC-G11L21"] = long_end * 0.45
            buckets["PDPOSGSC-G21"] = long_end * 0.55
        add("current", "PDPOSGS-B", day, bills[i])
        for keyid, value in buckets.items():
            add("current", keyid, day, value)
        add("current", "PDPOSGST-TOT", day, bills[i] + sum(buckets.values()) + gap[i])
        for keyid in _FLOWS:
            value = growth[keyid][i] * (1 + flow_noise[keyid][i])
            add("current", keyid, day, None if keyid == "PDSOOS-UTSETTOT" and suppressed[i] else value)
    out.update(rows)
    return out


def listed_keyids(as_of: date) -> list[str]:
    """What `list/timeseries.json` names: the current keyids, not the retired >11-year bucket."""
    return [k for (b, k) in statistics(as_of) if b == "current" and k != "PDPOSGSC-G11"]


def render_timeseries(records: list[tuple[str, str, str]]) -> bytes:
    """`{"pd": { "timeseries": [ { "asofdate": ..., "keyid": ..., "value": ... } , ... ] } }` on one line."""
    body = " , ".join(f'{{ "asofdate": "{d}", "keyid": "{k}", "value": "{v}" }}' for d, k, v in records)
    return f'{{"pd": {{ "timeseries": [ {body} ] }} }}'.encode() if records else b'{"pd": { "timeseries": [ ] } }'


def render_list(as_of: date) -> bytes:
    entries = " , ".join(
        f'{{ "seriesbreak": "SBN2024", "keyid": "{k}", "description": "{DESCRIPTIONS[k]}" }}'
        for k in listed_keyids(as_of)
    )
    return f'{{"pd": {{ "timeseries": [ {entries} ] }} }}'.encode()


# --- endpoints ----------------------------------------------------------------------------------------------

BASE_PATH = "/api/pd"
JSON = "application/json; charset=utf-8"


def route(emulator, path: str, params: dict[str, str]):  # noqa: ARG001 - the route's signature
    """The NY Fed's primary dealer API: the keyid list and time series (None: not an endpoint of this source)."""
    if not path.startswith(BASE_PATH + "/"):
        return None
    rest = path[len(BASE_PATH) + 1 :]
    if rest == "list/timeseries.json":
        return 200, JSON, render_list(emulator.as_of)
    parts = rest.removesuffix(".json").split("/")
    if parts[0] != "get" or not rest.endswith(".json"):
        return 404, "text/plain", f"no such endpoint: {rest}".encode()
    if len(parts) == 4 and parts[2] == "timeseries":  # get/{seriesbreak}/timeseries/{keyid}.json
        series_break, keyids = parts[1], [parts[3]]
    elif len(parts) == 2:  # get/{keyid}.json or get/{k1}_{k2}_...json
        series_break, keyids = "current", parts[1].split("_")
    else:
        return 404, "text/plain", f"no such endpoint: {rest}".encode()
    # An unknown keyid answers 200 with an empty list, as the API does.
    published = statistics(emulator.as_of)
    records = [(d, k, v) for k in keyids for d, v in published.get((series_break, k), [])]
    records.sort(key=lambda r: (r[0], r[1]))  # by date, then keyid in alphabetical order
    return 200, JSON, render_timeseries(records)
