"""Emulated FiscalData debt tables: Debt to the Penny (v2, daily) and MSPD table 1 (v1, monthly).

Levels follow the public record's path: $4.2 trillion total debt in 1993, $36.2 trillion in January 2025, flat
under the debt limit from January to early July 2025, then a jump past $37 trillion and growth to about $38
trillion by late 2025; debt held by the public about 79% of it. Every value is a string, amounts in dollars with
cents (Debt to the Penny) or $ millions with up to 8 decimals (MSPD); public + intragovernmental = total exactly in
Debt to the Penny, and the MSPD marketable classes miss their published total by up to $2 million, as they do.
Debt to the Penny for day D is served from D + 1; the MSPD month from its fourth business day.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import numpy as np
import orjson

from emulator import fiscaldata
from ingestion.calendar import federal_holidays
from ingestion.treasury_debt.fields import DEBT_TO_THE_PENNY_FIELDS, MSPD_TABLE_1_FIELDS
from ingestion.treasury_debt.releases import latest_mspd_month_released

DEBT_START = date(1993, 4, 1)
MSPD_START = date(2001, 1, 31)
_TOTAL_ANCHORS = (  # total public debt outstanding, $ trillions
    (date(1993, 4, 1), 4.2),
    (date(2001, 1, 31), 5.7),
    (date(2008, 9, 30), 10.0),
    (date(2012, 12, 31), 16.4),
    (date(2017, 12, 29), 20.5),
    (date(2019, 12, 31), 23.2),
    (date(2020, 6, 30), 26.5),
    (date(2022, 12, 30), 31.4),
    (date(2024, 12, 31), 36.2),
    (date(2025, 7, 3), 36.2),
    (date(2025, 7, 7), 36.6),
    (date(2025, 10, 31), 38.0),
    (date(2026, 11, 30), 39.8),
)
PUBLIC_SHARE = 0.79
MARKETABLE_SHARE_OF_PUBLIC = 0.995
MARKETABLE_CLASSES = {  # share of marketable debt in 2025 (Treasury Inflation-Protected Securities named as now)
    "Bills": 0.22,
    "Notes": 0.52,
    "Bonds": 0.17,
    "Treasury Inflation-Protected Securities": 0.07,
    "Floating Rate Notes": 0.02,
}
NONMARKETABLE_CLASSES = {  # share of nonmarketable debt held by the public; the GAS is the intragovernmental part
    "Government Account Series": 0.0,
    "State and Local Government Series": 0.30,
    "United States Savings Securities": 0.50,
    "Other": 0.20,
}


def _total_trillions(day: date) -> float:
    ordinals = [a.toordinal() for a, _ in _TOTAL_ANCHORS]
    return float(np.interp(day.toordinal(), ordinals, [v for _, v in _TOTAL_ANCHORS]))


def _federal_business_days(start: date, end: date) -> list[date]:
    out, day = [], start
    while day <= end:
        if day.weekday() < 5 and day not in federal_holidays(day.year):
            out.append(day)
        day += timedelta(days=1)
    return out


def _calendar_fields(day: date) -> dict[str, str]:
    fiscal_year = day.year + 1 if day.month >= 10 else day.year
    fiscal_quarter = ((day.month - 10) % 12) // 3 + 1
    return {
        "src_line_nbr": "1",
        "record_fiscal_year": str(fiscal_year),
        "record_fiscal_quarter": str(fiscal_quarter),
        "record_calendar_year": str(day.year),
        "record_calendar_quarter": str((day.month - 1) // 3 + 1),
        "record_calendar_month": f"{day.month:02d}",
        "record_calendar_day": f"{day.day:02d}",
    }


@lru_cache(maxsize=4)
def debt_to_the_penny(as_of: date) -> tuple[dict[str, str], ...]:
    days = _federal_business_days(DEBT_START, as_of - timedelta(days=1))
    # One generator per draw, so that each day's values do not depend on how many days follow (the as-of date).
    noise = np.random.default_rng(zlib.crc32(b"debt_to_the_penny")).normal(0.0, 0.0004, len(days))
    cents = np.random.default_rng(zlib.crc32(b"debt_to_the_penny cents")).integers(0, 100, (len(days), 2))
    rows = []
    for i, day in enumerate(days):
        total = _total_trillions(day) * (1 + noise[i]) * 1e12
        public = Decimal(int(total * PUBLIC_SHARE)) + Decimal(int(cents[i, 0])) / 100
        intragov = Decimal(int(total * (1 - PUBLIC_SHARE))) + Decimal(int(cents[i, 1])) / 100
        rows.append(
            {
                "record_date": day.isoformat(),
                "debt_held_public_amt": f"{public:.2f}",
                "intragov_hold_amt": f"{intragov:.2f}",
                "tot_pub_debt_out_amt": f"{public + intragov:.2f}",
                **_calendar_fields(day),
            }
        )
    return tuple(rows)


def _month_ends(start: date, end: date) -> list[date]:
    out, month = [], start.replace(day=1)
    while True:
        month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        if month_end > end:
            return out
        out.append(month_end)
        month = month_end + timedelta(days=1)


def _millions(value: float, places: int = 4) -> str:
    return f"{value:.{places}f}".rstrip("0").rstrip(".")


@lru_cache(maxsize=4)
def mspd_table_1(as_of: date) -> tuple[dict[str, str], ...]:
    months = _month_ends(MSPD_START, latest_mspd_month_released(as_of))
    rng = np.random.default_rng(zlib.crc32(b"mspd"))
    rows = []
    for month_end in months:
        total = _total_trillions(month_end) * 1e6  # $ millions
        public, intragov = total * PUBLIC_SHARE, total * (1 - PUBLIC_SHARE)
        classes = {k: v for k, v in MARKETABLE_CLASSES.items() if k != "Floating Rate Notes" or month_end.year >= 2014}
        weights = np.array(list(classes.values())) / sum(classes.values())
        marketable = [
            (name, round(public * MARKETABLE_SHARE_OF_PUBLIC * w, 4), round(float(rng.uniform(0, 5_000)), 4))
            for name, w in zip(classes, weights)
        ]
        rounding = float(rng.choice([-2.0, -1.0, 0.0, 0.0, 1.0, 2.0]))  # the published total misses its parts
        market_public = sum(p for _, p, _ in marketable) + rounding
        market_intragov = sum(g for _, _, g in marketable)
        non_public, non_intragov = public - market_public, intragov - market_intragov
        nonmarketable = [
            (name, round(non_public * share, 4), round(non_intragov if name == "Government Account Series" else 0.0, 4))
            for name, share in NONMARKETABLE_CLASSES.items()
        ]
        lines = [
            *[("Marketable", name, p, g) for name, p, g in marketable],
            ("Total Marketable", "_", market_public, market_intragov),
            *[("Nonmarketable", name, p, g) for name, p, g in nonmarketable],
            ("Total Nonmarketable", "_", non_public, non_intragov),
            ("Total Public Debt Outstanding", "_", market_public + non_public, market_intragov + non_intragov),
        ]
        for line, (type_desc, class_desc, public_m, intragov_m) in enumerate(lines, start=1):
            rows.append(
                {
                    "record_date": month_end.isoformat(),
                    "security_type_desc": type_desc,
                    "security_class_desc": class_desc,
                    "debt_held_public_mil_amt": _millions(public_m),
                    "intragov_hold_mil_amt": _millions(intragov_m),
                    "total_mil_amt": _millions(public_m + intragov_m),
                    **_calendar_fields(month_end),
                    "src_line_nbr": str(line),
                }
            )
    return tuple(rows)


# --- endpoints ----------------------------------------------------------------------------------------------

BASE_PATH = fiscaldata.ROOT
DEBT_TO_THE_PENNY_PATH = BASE_PATH + "/v2/accounting/od/debt_to_penny"
MSPD_TABLE_1_PATH = BASE_PATH + "/v1/debt/mspd/mspd_table_1"


def route(emulator, path: str, params: dict[str, str]):
    """FiscalData's Debt to the Penny and MSPD table 1 (None: not an endpoint of this source)."""
    if path == DEBT_TO_THE_PENNY_PATH:
        answer = fiscaldata.query(debt_to_the_penny(emulator.as_of), DEBT_TO_THE_PENNY_FIELDS, params)
        return 200, "application/json", orjson.dumps(answer)
    if path == MSPD_TABLE_1_PATH:
        answer = fiscaldata.query(mspd_table_1(emulator.as_of), MSPD_TABLE_1_FIELDS, params)
        return 200, "application/json", orjson.dumps(answer)
    return None
