"""Synthetic CFTC Traders in Financial Futures (futures only), June 2006 to the as-of date, as an Arrow table.

About 100 contracts: the six Treasury futures, rates, equity index and currency contracts, and
synthetic fillers (named as such); k times as many fillers at the emulator's scale k (`TREASURY_SAMPLE_SCALE`). Positions are built so the report's identities hold exactly for
every contract and week:

    open_interest_all = sum of all reportable longs + all spreading + non-reportable longs
                      = sum of all reportable shorts + all spreading + non-reportable shorts
    tot_rept_positions_long_all = dealer + asset manager + leveraged + other longs + their spreading

Reports are as of Tuesday and released on the Friday after (the next business day when it is a
holiday); only reports released by the as-of date are served. April 2025 follows the published record:
leveraged funds' shorts in the 10-year and 5-year note futures rose over the month (ZN about 1.99m to
2.07m contracts, ZF about 3.78m to 4.10m, 2025-04-01 to 2025-04-29); there was no basis-trade unwind.
`revised=True` republishes one recent week of the 10-year note with a corrected leveraged short.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from emulator import socrata
from ingestion.calendar import is_business_day, previous_business_day
from ingestion.cftc_tff.fields import CHANGES, CONCENTRATION, DATASET_ID, PCT_OF_OI, POSITIONS, TFF_FIELDS, TRADERS
from ingestion.cftc_tff.releases import release_date as cftc_release_date
from ingestion.common.records import DATE_TS, DECIMAL, INT

HISTORY_START = date(2006, 6, 13)
GROUPS = ("dealer", "asset_mgr", "lev_money", "other_rept")
CBOT, CME = "CHICAGO BOARD OF TRADE", "CHICAGO MERCANTILE EXCHANGE"
TREASURY_RENAMED = date(2022, 2, 8)  # the CFTC shortened the Treasury market names


@dataclass(frozen=True)
class Contract:
    code: str
    name: str
    old_name: str | None  # before TREASURY_RENAMED
    exchange: str
    commodity: str
    subgroup: str  # commodity_subgroup_name
    units: str
    start: date
    oi_2025: float  # open interest (contracts) around 2025
    # Shares of open interest: longs and shorts per group (dealer, asset manager, leveraged, other).
    long_mix: tuple[float, float, float, float]
    short_mix: tuple[float, float, float, float]
    treasury: bool = False


# The named contracts (the six Treasury futures, rates, equity index and currency contracts): code, names, exchange,
# units, first report, open interest around 2025 and the long and short shares per group. Data, not code.
CONTRACTS_CSV = Path(__file__).with_name("data") / "cftc_contracts.csv"


def _read_contracts() -> list[Contract]:
    with CONTRACTS_CSV.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return [
        Contract(
            row["code"],
            row["name"],
            row["old_name"] or None,
            row["exchange"],
            row["commodity"],
            row["subgroup"],
            row["units"],
            date.fromisoformat(row["start"]),
            float(row["oi_2025"]),
            tuple(float(row[f"long_{group}"]) for group in GROUPS),
            tuple(float(row[f"short_{group}"]) for group in GROUPS),
            row["treasury"] == "yes",
        )
        for row in rows
    ]


_BASE = _read_contracts()


FILLERS = 78  # synthetic fillers at scale 1: about 100 contracts in all, as the real dataset has


@lru_cache(maxsize=4)
def contracts(scale: int = 1) -> tuple[Contract, ...]:
    """The named contracts plus synthetic fillers: about 100 in all at scale 1, `scale` times as many at scale k
    (the added ones are fillers too, named SYNTHETIC, so a larger data set stays labelled)."""
    out = list(_BASE)
    subgroups = [("INTEREST RATES", CBOT), ("STOCK INDICES", CME), ("CURRENCY", CME)]
    for i in range(FILLERS + (scale - 1) * (FILLERS + len(_BASE))):
        rng = np.random.default_rng(zlib.crc32(f"filler|{i}".encode()))
        subgroup, exchange = subgroups[i % 3]
        longs = tuple(float(x) for x in rng.dirichlet([2, 3, 3, 1.5]) * 0.85)
        shorts = tuple(float(x) for x in rng.dirichlet([3, 2, 3, 1.5]) * 0.85)
        start = HISTORY_START + timedelta(weeks=int(rng.integers(0, 700)))
        out.append(
            Contract(
                # 9xx7yz for the first hundred (the codes of scale 1), then 8xx.., 7xx..: never a real code's form.
                f"{9 - i // 100}{i % 100:02d}7{i % 10}{(i * 7) % 10}",
                f"SYNTHETIC {subgroup.split()[0]} CONTRACT {i:02d}",
                None,
                exchange,
                f"SYNTHETIC CONTRACT {i:02d}",
                subgroup,
                "(SYNTHETIC UNITS)",
                start,
                float(10 ** rng.uniform(3.3, 5.8)),
                longs,
                shorts,
            )
        )
    return tuple(out)


def report_dates(as_of: date) -> list[tuple[date, date]]:
    """(report date, release date) of every weekly report released on or before `as_of`."""
    out = []
    tuesday = HISTORY_START
    while True:
        report = tuesday if is_business_day(tuesday) else previous_business_day(tuesday)
        release = cftc_release_date(tuesday)
        if release > as_of:
            return out
        out.append((report, release))
        tuesday += timedelta(days=7)


def _ar1(shocks: np.ndarray, phi: float) -> np.ndarray:
    """x_t = phi * x_{t-1} + e_t: each value depends only on the past."""
    out = np.empty_like(shocks)
    level = 0.0
    for i, e in enumerate(shocks):
        level = phi * level + e
        out[i] = level
    return out


# April 2025 follows the CFTC's published TFF: leveraged funds' shorts in the 10-year (ZN) and 5-year (ZF) note
# futures rose over the month (report dates 2025-04-01 and 2025-04-29, contracts). The NY Fed's account of that
# week (Perli, 2025-05-09) found no evidence of a basis-trade unwind. Where the record gives no figure the
# contracts stay as generated.
PUBLISHED_LEVERAGED_SHORTS = {
    "043602": {date(2025, 4, 1): 1.99e6, date(2025, 4, 29): 2.07e6},
    "044601": {date(2025, 4, 1): 3.78e6, date(2025, 4, 29): 4.10e6},
}


def _published_scale(code: str, weeks: list[date], generated_lev_short) -> np.ndarray:
    """Open-interest scale per week that puts the generated leveraged shorts on the published figures: the contract
    is sized once so the first figure is met (the whole history scales with it), then grows linearly between the
    two report dates to meet the second, and stays so (where the record is silent, nothing more is invented)."""
    anchors = PUBLISHED_LEVERAGED_SHORTS.get(code)
    if not anchors:
        return np.ones(len(weeks))
    (first, v1), (second, v2) = sorted(anchors.items())
    b1, b2 = generated_lev_short(first), generated_lev_short(second)
    rise = (v2 / v1) / (b2 / b1)
    progress = np.array([min(max((w - first).days / (second - first).days, 0.0), 1.0) for w in weeks])
    return (v1 / b1) * (1 + (rise - 1) * progress)


def _series(contract: Contract, weeks: list[date]) -> dict[str, np.ndarray]:
    """Positions for one contract over `weeks` (plus one week before, for the changes), on the published record
    where there is one (`PUBLISHED_LEVERAGED_SHORTS`)."""
    if contract.code not in PUBLISHED_LEVERAGED_SHORTS:
        return _generated(contract, weeks)
    # Size the contract on the published figures, from the generated history reaching past them (draws are
    # prefix-stable, so the history up to any as-of date does not depend on how far it reaches).
    last = max(PUBLISHED_LEVERAGED_SHORTS[contract.code])
    reach = list(weeks)
    while reach[-1] < last:
        reach.append(reach[-1] + timedelta(days=7))
    generated = _generated(contract, reach)
    position = {w: i for i, w in enumerate(reach)}
    oi_scale = _published_scale(
        contract.code, reach, lambda day: float(generated["lev_money_positions_short"][position[day]])
    )
    calibrated = _generated(contract, reach, oi_scale=oi_scale)
    return {k: v[: len(weeks)] for k, v in calibrated.items()}


def _generated(contract: Contract, weeks: list[date], *, oi_scale: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Generated positions for one contract over `weeks`; `oi_scale` multiplies open interest week by week."""
    n = len(weeks)

    def rng(purpose: str) -> np.random.Generator:
        # One generator per array: the first k draws never depend on how many weeks exist, so the
        # history before the as-of date does not change when the as-of date moves.
        return np.random.default_rng(zlib.crc32(f"tff|{contract.code}|{purpose}".encode()))

    years = np.array([(w - date(2025, 1, 1)).days / 365.25 for w in weeks])
    growth = np.exp(0.07 * years) if contract.treasury else np.exp(0.03 * years)
    oi_target = contract.oi_2025 * growth * np.exp(_ar1(rng("oi").normal(0, 0.025, n), 0.97))

    def drift(purpose: str) -> np.ndarray:
        return np.clip(_ar1(rng(purpose).normal(0, 0.01, n), 0.995), -0.25, 0.25)

    long_w = np.stack(
        [np.clip(m * (1 + drift(f"long{g}")), 0.005, None) for g, m in enumerate(contract.long_mix)], axis=1
    )
    short_w = np.stack(
        [np.clip(m * (1 + drift(f"short{g}")), 0.005, None) for g, m in enumerate(contract.short_mix)], axis=1
    )
    spread_w = np.stack(
        [
            np.clip(rng(f"spreadlevel{g}").uniform(0.005, 0.06) * (1 + drift(f"spread{g}")), 0.0, None)
            for g in range(len(GROUPS))
        ],
        axis=1,
    )
    if oi_scale is not None:
        oi_target = oi_target * oi_scale
    # Normalise so reportable longs + spreading stay below 100% of open interest.
    long_total = long_w.sum(axis=1) + spread_w.sum(axis=1)
    scale = np.minimum(1.0, 0.94 / long_total)[:, None]
    long_w, spread_w_l = long_w * scale, spread_w * scale
    short_total = short_w.sum(axis=1) + spread_w_l.sum(axis=1)
    short_w = short_w * np.minimum(1.0, 0.94 / short_total)[:, None]
    oi = np.maximum(np.round(oi_target), 50).astype(np.int64)
    longs = np.round(oi[:, None] * long_w).astype(np.int64)
    shorts = np.round(oi[:, None] * short_w).astype(np.int64)
    spreads = np.round(oi[:, None] * spread_w_l).astype(np.int64)
    out: dict[str, np.ndarray] = {"open_interest_all": oi}
    for g, name in enumerate(GROUPS):
        suffix = "_all" if name == "dealer" else ""
        out[f"{name}_positions_long{suffix}"] = longs[:, g]
        out[f"{name}_positions_short{suffix}"] = shorts[:, g]
        out[f"{name}_positions_spread{suffix}"] = spreads[:, g]
    out["tot_rept_positions_long_all"] = longs.sum(axis=1) + spreads.sum(axis=1)
    out["tot_rept_positions_short"] = shorts.sum(axis=1) + spreads.sum(axis=1)
    out["nonrept_positions_long_all"] = oi - out["tot_rept_positions_long_all"]
    out["nonrept_positions_short_all"] = oi - out["tot_rept_positions_short"]
    traders_scale = np.clip(np.log10(oi) * 25 - 60, 8, 600)
    for f in TRADERS:
        if f.startswith(("traders_tot_all", "traders_tot_rept")):
            continue
        r = rng(f)
        share = r.uniform(0.05, 0.4)
        counts = np.round(traders_scale * share * (1 + r.normal(0, 0.03, n))).astype(np.int64)
        out[f] = np.maximum(counts, 0)
    # Totals count each trader once; a trader can be in several categories, so take a discounted sum.
    for side in ("long", "short"):
        parts = [f for f in TRADERS if side in f and not f.startswith("traders_tot")] + [
            f for f in TRADERS if f.endswith(("spread", "spread_all"))
        ]
        out[f"traders_tot_rept_{side}_all"] = np.round(sum(out[f] for f in parts) * 0.7).astype(np.int64)
    out["traders_tot_all"] = np.maximum(out["traders_tot_rept_long_all"], out["traders_tot_rept_short_all"]) + rng(
        "traders_tot"
    ).integers(1, 10, n)
    # Concentration (% of OI held by the largest 4 or 8 traders): the largest 8 hold at least what the largest 4 do.
    for kind in ("gross", "net"):
        for side in ("long", "short"):
            tail = "" if kind == "gross" else "_all"
            r = rng(f"conc{kind}{side}")
            four = np.round(np.clip(r.uniform(20, 55) + _ar1(r.normal(0, 0.4, n), 1.0) * 0.3, 5, 90), 1)
            net_cut = 0.0 if kind == "gross" else 3.0
            out[f"conc_{kind}_le_4_tdr_{side}{tail}"] = np.round(np.maximum(four - net_cut, 1.0), 1)
            out[f"conc_{kind}_le_8_tdr_{side}{tail}"] = np.round(
                np.minimum(four - net_cut + rng(f"conc8{kind}{side}").uniform(6, 15), 99.0), 1
            )
    return out


@lru_cache(maxsize=4)
def tff_table(as_of: date, revised: bool = False, scale: int = 1) -> pa.Table:
    """Every report row released by `as_of`, typed, with nulls where the CFTC leaves values out (`scale` times as
    many contracts at scale k)."""
    dates = report_dates(as_of)
    all_weeks = [HISTORY_START - timedelta(days=7)] + [d for d, _ in dates]
    columns: dict[str, list] = {f: [] for f in TFF_FIELDS}
    for contract in contracts(scale):
        s = _series(contract, all_weeks)
        keep = np.array([w >= contract.start for w in all_weeks[1:]])
        if not keep.any():
            continue
        weeks = [w for w, k in zip(all_weeks[1:], keep) if k]
        rows = len(weeks)
        cur = {k: v[1:][keep] for k, v in s.items()}
        prev = {k: v[:-1][keep] for k, v in s.items()}
        first = np.zeros(rows, dtype=bool)
        first[0] = True  # the first week of a contract has no prior week: changes are null
        if revised and contract.code == "043602":
            i = rows - 3
            bump = int(cur["lev_money_positions_short"][i] * 0.025)
            for key, sign in (
                ("lev_money_positions_short", 1),
                ("nonrept_positions_short_all", -1),
                ("tot_rept_positions_short", 1),
            ):
                cur[key] = cur[key].copy()
                cur[key][i] += sign * bump
        oi = cur["open_interest_all"]
        for field, position in zip(CHANGES, POSITIONS):
            columns[field].append(pa.array(cur[position] - prev[position], mask=first))
        for field, position in zip(PCT_OF_OI, POSITIONS):
            columns[field].append(pa.array(np.round(100.0 * cur[position] / oi, 1)))
        for field in POSITIONS:
            columns[field].append(pa.array(cur[field]))
        small = oi < 20000
        for field in TRADERS:
            # The CFTC leaves trader counts below four out (privacy): null here, missing in the JSON.
            values = cur[field]
            columns[field].append(pa.array(values, mask=(values < 4) | (small & ("spread" in field) & (values < 8))))
        for field in CONCENTRATION:
            columns[field].append(pa.array(cur[field]))
        name = contract.name
        names = [
            f"{contract.old_name if contract.old_name and w < TREASURY_RENAMED else name} - {contract.exchange}"
            for w in weeks
        ]
        text = {
            "id": [f"{w:%y%m%d}{contract.code}F" for w in weeks],
            "market_and_exchange_names": names,
            "report_date_as_yyyy_mm_dd": [f"{w.isoformat()}T00:00:00.000" for w in weeks],
            "yyyy_report_week_ww": [f"{w.year} Report Week {w.isocalendar()[1]}" for w in weeks],
            "contract_market_name": [n.split(" - ")[0] for n in names],
            "cftc_contract_market_code": [contract.code] * rows,
            "cftc_market_code": [("CBT " if contract.exchange == CBOT else "CME ")] * rows,
            "cftc_region_code": ["CHI"] * rows,
            "cftc_commodity_code": [contract.code[:3] + " "] * rows,
            "commodity_name": [contract.commodity] * rows,
            "contract_units": [contract.units] * rows,
            "cftc_subgroup_code": [
                {"INTEREST RATES": "F20", "STOCK INDICES": "F30", "CURRENCY": "F10"}[contract.subgroup]
            ]
            * rows,
            "commodity": [contract.commodity] * rows,
            "commodity_subgroup_name": [contract.subgroup] * rows,
            "commodity_group_name": ["FINANCIAL INSTRUMENTS"] * rows,
            "futonly_or_combined": ["FutOnly"] * rows,
        }
        for field, values in text.items():
            columns[field].append(pa.array(values, type=pa.string()))
    arrays, names = [], []
    for field, kind in TFF_FIELDS.items():
        chunks = columns[field]
        target = (
            pa.string()
            if kind == DATE_TS
            else pa.int64()
            if kind == INT
            else pa.float64()
            if kind == DECIMAL
            else pa.string()
        )
        arrays.append(pa.chunked_array([c.cast(target) for c in chunks], type=target))
        names.append(field)
    return pa.Table.from_arrays(arrays, names=names)


# --- endpoints ----------------------------------------------------------------------------------------------

BASE_PATH = ""  # Socrata serves the dataset at the host's root
RESOURCE_PATH = f"{socrata.RESOURCE}{DATASET_ID}.json"


def route(emulator, path: str, params: dict[str, str]):
    """The TFF dataset through Socrata's SoQL API (None: not an endpoint of this source)."""
    if path != RESOURCE_PATH:
        return None
    rows, headers = socrata.query(tff_table(emulator.as_of, emulator.revised, emulator.scale), params)
    return 200, "application/json", (orjson.dumps(rows), headers)
