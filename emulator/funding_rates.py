"""Emulated NY Fed reference rates and repo / reverse-repo operations, in the API's wire format.

The levels follow the public record where it is known: the FOMC's target range (policy.py), IORB 10 bp below its
top, EFFR 8 bp above its bottom since 2022, SOFR a few bp under IORB with month-end and quarter-end pressure, the
September 2019 repo spike, the ON RRP facility's rise to over $2 trillion in 2022-23 and its drain to near zero in
2025, and the Standing Repo Facility's take-up on 30 June 2025 ($11.1bn) and 31 October 2025 ($50.35bn). Around
April 2025 funding stayed calm (the NY Fed's account: repo funding resilient), and so does the emulator. Everything
else is smooth noise, seeded, the same for every run.

Calendars differ by family, as in the real data: the secured rates (SOFR, BGCR, TGCR) exist on bond-market
business days, the unsecured ones (EFFR, OBFR) on federal business days, so Good Friday has an EFFR and no SOFR.
"""

from __future__ import annotations

import json
import zlib
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import numpy as np

from emulator.policy import IORB_START, iorb, rrp_rate, target_range
from ingestion.calendar import federal_holidays, is_business_day
from ingestion.common.source import published_through
from ingestion.funding_rates.releases import OPERATION_RESULTS_AT

SECURED_START = date(2018, 4, 2)
UNSECURED_START = date(2016, 3, 1)
RRP_START = date(2013, 9, 23)
SRF_START = IORB_START  # the Standing Repo Facility was set up in July 2021
SRF_LIMIT = 500_000_000_000
KNOWN_SRF_TAKE_UP = {date(2025, 6, 30): 11_100_000_000, date(2025, 10, 31): 50_350_000_000}
FAMILY = {"SOFR": "secured", "BGCR": "secured", "TGCR": "secured", "EFFR": "unsecured", "OBFR": "unsecured"}
PROPOSITIONS_DELAY_DAYS = 50  # counterparty types are added weeks after the operation
# SOFR's record spike of 17 September 2019 (5.25%), and the days around it.
REPO_SPIKE_2019 = {date(2019, 9, 16): 2.43, date(2019, 9, 17): 5.25, date(2019, 9, 18): 2.55, date(2019, 9, 19): 1.95}


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("|".join(map(str, parts)).encode()))


def _federal_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def _days(start: date, end: date, is_open) -> list[date]:
    out, day = [], start
    while day <= end:
        if is_open(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def _month_end_pressure(day: date) -> float:
    """bp of upward pressure on repo rates on the last business days of a month (more at quarter-end)."""
    next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    days_left = (next_month - day).days
    if days_left > 2:
        return 0.0
    return 6.0 if next_month.month in (1, 4, 7, 10) else 3.0


def _sofr_minus_iorb_bp(day: date) -> float:
    """The level of SOFR against IORB (or IOER) through the years, in bp."""
    if day < date(2020, 3, 16):
        return -3.0
    if day < date(2022, 3, 17):
        return -9.0
    if day < date(2025, 1, 1):
        return -9.0 + 4.0 * (day - date(2022, 3, 17)).days / 1020
    if day < date(2025, 9, 1):
        return -4.0
    return 1.0  # autumn 2025: reserves less ample, SOFR at or above IORB


@lru_cache(maxsize=4)
def reference_rates(as_of: date) -> dict[str, list[dict]]:
    """Rate type -> records (oldest first) published by `as_of` (day D's rates come out on D + 1)."""
    end = as_of - timedelta(days=1)
    out: dict[str, list[dict]] = {}
    secured = _days(SECURED_START, end, is_business_day)
    unsecured = _days(UNSECURED_START, end, _federal_business_day)
    rng = _rng("sofr")
    noise = rng.normal(0.0, 1.0, len(secured))
    sofr: dict[date, float] = {}
    for day, e in zip(secured, noise):
        reference = iorb(day) if day >= IORB_START else target_range(day)[1] - 0.10
        rate = reference + (_sofr_minus_iorb_bp(day) + _month_end_pressure(day) + 1.0 * e) / 100
        sofr[day] = max(round(REPO_SPIKE_2019.get(day, rate), 2), 0.01)
    # By date, not by position: the history must not change as the as-of date moves.
    volume_trend = np.interp(
        [d.toordinal() for d in secured], [SECURED_START.toordinal(), date(2026, 12, 31).toordinal()], [800, 2900]
    )
    for rate_type, offset_bp, share in (("SOFR", 0.0, 1.0), ("BGCR", -1.0, 0.42), ("TGCR", -1.0, 0.40)):
        r = _rng(rate_type)
        rows = []
        for i, day in enumerate(secured):
            rate = max(round(sofr[day] + offset_bp / 100, 2), 0.01)
            spread = (8.0 + 2 * _month_end_pressure(day) + abs(r.normal(0, 2))) / 100
            rows.append(
                _rate_record(
                    day,
                    rate_type,
                    rate,
                    max(rate - spread * 0.6, 0.0),
                    max(rate - 0.01, 0.0),
                    rate + 0.02,
                    rate + spread,
                    round(volume_trend[i] * share * (1 + r.normal(0, 0.04))),
                )
            )
        out[rate_type] = rows
    for rate_type, offset_bp, volume in (("EFFR", 0.0, 100), ("OBFR", -1.0, 250)):
        r = _rng(rate_type)
        rows = []
        for day in unsecured:
            lower, upper = target_range(day)
            base = lower + (0.08 if day >= date(2022, 3, 17) else 0.09 if lower > 0 else 0.08)
            rate = max(round(base + offset_bp / 100 + r.normal(0, 0.003), 2), 0.04)
            extra = {"targetRateFrom": Decimal(f"{lower:.2f}"), "targetRateTo": Decimal(f"{upper:.2f}")}
            rows.append(
                _rate_record(
                    day,
                    rate_type,
                    rate,
                    rate - 0.03,
                    rate - 0.01,
                    rate + 0.01,
                    rate + 0.10,
                    round(volume * (1 + r.normal(0, 0.08))),
                    extra if rate_type == "EFFR" else None,
                )
            )
        out[rate_type] = rows
    return out


def _rate_record(day, rate_type, rate, p1, p25, p75, p99, volume, extra=None) -> dict:
    record = {
        "effectiveDate": day.isoformat(),
        "type": rate_type,
        "percentRate": Decimal(f"{rate:.2f}"),
        "percentPercentile1": Decimal(f"{p1:.2f}"),
        "percentPercentile25": Decimal(f"{p25:.2f}"),
        "percentPercentile75": Decimal(f"{p75:.2f}"),
        "percentPercentile99": Decimal(f"{p99:.2f}"),
    }
    if extra:
        record.update(extra)
    record.update({"volumeInBillions": int(volume), "revisionIndicator": ""})
    return record


def _rrp_take_up(day: date, e: float) -> float:
    """ON RRP take-up in dollars: near zero until 2021, over $2 trillion in 2022-23, drained by 2025."""
    anchors = (
        (date(2013, 9, 23), 5e9),
        (date(2015, 12, 31), 400e9),
        (date(2016, 3, 1), 80e9),
        (date(2018, 1, 1), 5e9),
        (date(2021, 3, 1), 5e9),
        (date(2021, 7, 1), 800e9),
        (date(2021, 12, 31), 1900e9),
        (date(2022, 6, 30), 2300e9),
        (date(2022, 12, 30), 2550e9),
        (date(2023, 5, 31), 2250e9),
        (date(2023, 12, 29), 1000e9),
        (date(2024, 6, 28), 450e9),
        (date(2024, 12, 31), 250e9),
        (date(2025, 4, 15), 120e9),
        (date(2025, 8, 29), 30e9),
        (date(2025, 11, 28), 10e9),
    )
    ordinals = [a.toordinal() for a, _ in anchors]
    level = float(np.interp(day.toordinal(), ordinals, [v for _, v in anchors]))
    return max(level * (1 + 0.06 * e), 0.0)


def _operation_id(day: date, n: int) -> str:
    return f"RP {day:%m%d%y} {n}"


@lru_cache(maxsize=4)
def repo_operations(as_of: date) -> list[dict]:
    """Operations up to `as_of`, newest first, as the API lists them."""
    operations = []
    days = _days(RRP_START, as_of, is_business_day)
    noise = _rng("rrp").normal(0.0, 1.0, len(days))
    srf = _rng("srf")
    for day, e in zip(days, noise):
        maturity = day + timedelta(days=1)
        while not is_business_day(maturity):
            maturity += timedelta(days=1)
        common = {
            "auctionStatus": "Results",
            "operationDate": day.isoformat(),
            "settlementDate": day.isoformat(),
            "maturityDate": maturity.isoformat(),
        }
        accepted = int(round(_rrp_take_up(day, e) / 1e6) * 1e6)
        counterparties = int(10 + accepted / 23e9) if accepted else 0  # about 105 at $2.29 trillion, as recorded
        rate = Decimal(f"{rrp_rate(day):.2f}")
        rrp = {
            "operationId": _operation_id(day, 1),
            **common,
            "operationType": "Reverse Repo",
            "operationMethod": "Fixed Rate",
            "settlementType": "Same Day",
            "termCalenderDays": (maturity - day).days,
            "term": "Overnight",
            "releaseTime": "12:45",
            "closeTime": "13:15",
            "note": "",
            "lastUpdated": f"{day.isoformat()} 13:15:49",
            "participatingCpty": counterparties,
            "acceptedCpty": counterparties,
            "totalAmtSubmitted": accepted,
            "totalAmtAccepted": accepted,
            "details": [
                {
                    "securityType": "Treasury",
                    "amtSubmitted": accepted,
                    "amtAccepted": accepted,
                    "percentOfferingRate": rate,
                    "percentAwardRate": rate,
                }
            ],
        }
        if day <= as_of - timedelta(days=PROPOSITIONS_DELAY_DAYS) and accepted:
            mmf = int(round(accepted * 0.88 / 1e6) * 1e6)
            gse = int(round(accepted * 0.07 / 1e6) * 1e6)
            bank = int(round(accepted * 0.03 / 1e6) * 1e6)
            rrp["propositions"] = [
                {"counterpartyType": "bank", "amtAccepted": bank},
                {"counterpartyType": "gse", "amtAccepted": gse},
                {"counterpartyType": "mmf", "amtAccepted": mmf},
                {"counterpartyType": "pd", "amtAccepted": accepted - mmf - gse - bank},
            ]
        day_ops = []
        if day >= SRF_START:
            take_up = KNOWN_SRF_TAKE_UP.get(day, 0)
            if not take_up and _month_end_pressure(day) >= 6.0 and srf.random() < 0.3:
                take_up = int(srf.integers(1, 12)) * 1_000_000  # the usual quarter-end trickle
            _, upper = target_range(day)
            minimum = Decimal(f"{upper:.2f}")
            details = []
            for security, share in (("Treasury", 0.6), ("Agency", 0.1), ("Mortgage-Backed", 0.3)):
                amount = int(round(take_up * share / 1e6) * 1e6)
                detail = {
                    "securityType": security,
                    "amtSubmitted": amount,
                    "amtAccepted": amount,
                    "minimumBidRate": minimum,
                }
                if amount:
                    detail.update(
                        {
                            "percentHighRate": minimum,
                            "percentLowRate": minimum,
                            "percentStopOutRate": minimum,
                            "percentWeightedAverageRate": minimum,
                        }
                    )
                details.append(detail)
            total = sum(d["amtAccepted"] for d in details)
            day_ops.append(
                {
                    "operationId": _operation_id(day, 2),
                    **common,
                    "operationType": "Repo",
                    "operationMethod": "Multiple Price",
                    "settlementType": "Same Day",
                    "termCalenderDays": (maturity - day).days,
                    "term": "Overnight",
                    "releaseTime": "13:30",
                    "closeTime": "13:45",
                    "note": "",
                    "lastUpdated": f"{day.isoformat()} 13:45:20",
                    "operationLimit": SRF_LIMIT,
                    "totalAmtSubmitted": total,
                    "totalAmtAccepted": total,
                    "details": details,
                }
            )
        day_ops.append(rrp)
        operations.extend(day_ops)
    operations.reverse()
    return operations


def _value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)  # Decimal keeps its text ("5.00"); int as is


# How many leading fields the NY Fed separates with ", " before it switches to " ," (its template's habit).
_PLAIN_FIELDS = {"effectiveDate": 2, "operationId": 14, "securityType": 3, "counterpartyType": 2}


def _object(record: dict) -> str:
    """`{ "effectiveDate": "2024-06-06", "type": "SOFR" ,"percentRate": 5.33 ,... }`: the NY Fed's spacing."""
    plain = _PLAIN_FIELDS.get(next(iter(record)), len(record))
    parts = []
    for i, (key, value) in enumerate(record.items()):
        if isinstance(value, list):
            text = f'"{key}": [ ' + ", ".join(_object(v) for v in value) + " ]"
            parts.append((" , " if i else "") + text)
            continue
        separator = "" if i == 0 else ", " if i < plain else " ,"
        parts.append(f'{separator}"{key}": {_value(value)}')
    return "{ " + "".join(parts) + " }"


def render_rates(records: list[dict]) -> bytes:
    return ('{ "refRates": [ ' + ", ".join(_object(r) for r in records) + " ] }").encode()


def render_operations(operations: list[dict]) -> bytes:
    return ('{ "repo": { "operations": [ ' + ", ".join(_object(o) for o in operations) + " ] } }").encode()


def search(records: list[dict], field: str, start: str | None, end: str | None) -> list[dict]:
    """Records with `field` in [start, end], newest first (the API's order)."""
    chosen = [r for r in records if (not start or r[field] >= start) and (not end or r[field] <= end)]
    return sorted(chosen, key=lambda r: r[field], reverse=True)


# --- endpoints ----------------------------------------------------------------------------------------------

BASE_PATH = "/api"
JSON = "application/json; charset=utf-8"


def route(emulator, path: str, params: dict[str, str]):
    """The NY Fed's reference rates and repo operations (None: not an endpoint of this source)."""
    if not (path.startswith(BASE_PATH + "/rates/") or path.startswith(BASE_PATH + "/rp/")):
        return None
    rest = path[len(BASE_PATH) + 1 :]
    parts = rest.removesuffix(".json").split("/")
    start, end = params.get("startDate"), params.get("endDate")
    if parts[0] == "rates" and parts[1:] == ["all", "latest"]:
        rates = reference_rates(emulator.as_of)
        return 200, JSON, render_rates([rates[t][-1] for t in ("EFFR", "OBFR", "TGCR", "BGCR", "SOFR")])
    if parts[0] == "rates" and len(parts) == 4 and parts[3] == "search":
        family, rate_type = parts[1], parts[2].upper()
        rates = reference_rates(emulator.as_of)
        if rate_type not in rates or FAMILY[rate_type] != family:
            return 404, "text/plain", f"no such rate: {family}/{rate_type}".encode()
        return 200, JSON, render_rates(search(rates[rate_type], "effectiveDate", start, end))
    if parts[:4] == ["rp", "all", "all", "results"]:
        # The day's operations are done and published by OPERATION_RESULTS_AT, later than the rates of the day before.
        at = emulator.requested_at
        operations = repo_operations(published_through(at, OPERATION_RESULTS_AT) if at else emulator.as_of)
        if parts[4:] == ["search"]:
            return 200, JSON, render_operations(search(operations, "operationDate", start, end))
        if len(parts) == 6 and parts[4] == "last" and parts[5].isdigit():
            return 200, JSON, render_operations(operations[: int(parts[5])])
    return 404, "text/plain", f"no such endpoint: {rest}".encode()
