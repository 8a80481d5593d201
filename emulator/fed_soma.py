"""Synthetic SOMA Treasury holdings in the NY Fed markets API's wire format (`/api/soma/...`).

The Fed's total Treasury holdings follow a rule-based path of monthly purchases and runoff shaped like the real one
(QE1-QE3, the 2017-2019 runoff, the 2020-2022 purchases, the runoff from June 2022 with its cap cut from $60bn to $25bn
a month in June 2024 and to $5bn in April 2025, the end of the runoff in December 2025); each week the total is spread
over the securities the synthetic auctions (emulator/treasury_auctions.py) have issued and not yet matured, in
proportion to their amounts outstanding with a fixed per-security tilt, never above 70% of an issue. So the CUSIPs
join the auction history, and the Fed's share of an issue is known.

As served: a JSON body `{"soma": {...}}` whose values are all strings, `""` for not applicable, par in dollars; the
as-of dates newest first, weekly Wednesdays (the Tuesday when the Wednesday is a federal holiday), published the day
after. The Treasury records carry the fields the API documents for every SOMA holding (the same as the recorded agency
body): asOfDate, cusip, maturityDate, issuer, spread, coupon, parValue, inflationCompensation, percentOutstanding (the
Fed's share of the issue, a fraction), changeFromPriorWeek, changeFromPriorYear, securityType (Bills, NotesBonds, FRN,
TIPS).
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import orjson

from emulator.treasury_auctions import auction_records
from ingestion.calendar import federal_holidays

FIRST_AS_OF = date(2003, 7, 9)
START_HOLDINGS_BN = 650.0  # Treasury holdings in July 2003, $bn
MAX_SHARE = 0.70  # the Fed holds at most 70% of an issue
# Monthly change of the holdings ($bn) from the first day of each month listed until the next entry.
POLICY = (
    (date(2003, 7, 1), 2.0),
    (date(2008, 1, 1), -25.0),  # bills sold to fund the crisis facilities
    (date(2009, 1, 1), 0.0),
    (date(2009, 3, 1), 37.0),  # QE1
    (date(2009, 11, 1), 0.0),
    (date(2010, 11, 1), 75.0),  # QE2
    (date(2011, 7, 1), 0.0),  # the maturity extension program: the total unchanged
    (date(2013, 1, 1), 40.0),  # QE3
    (date(2014, 11, 1), 0.0),
    (date(2017, 10, 1), -6.0),  # runoff, its cap raised each quarter
    (date(2018, 1, 1), -12.0),
    (date(2018, 4, 1), -18.0),
    (date(2018, 7, 1), -24.0),
    (date(2018, 10, 1), -30.0),
    (date(2019, 5, 1), -15.0),
    (date(2019, 8, 1), 0.0),
    (date(2019, 11, 1), 20.0),  # reserve management bill purchases
    (date(2020, 3, 1), 900.0),  # March 2020
    (date(2020, 4, 1), 600.0),
    (date(2020, 5, 1), 200.0),
    (date(2020, 6, 1), 80.0),
    (date(2021, 11, 1), 70.0),  # the taper
    (date(2021, 12, 1), 60.0),
    (date(2022, 1, 1), 40.0),
    (date(2022, 2, 1), 20.0),
    (date(2022, 3, 1), 0.0),
    (date(2022, 6, 1), -30.0),  # runoff: cap $30bn, then $60bn from September
    (date(2022, 9, 1), -60.0),
    (date(2024, 6, 1), -25.0),  # cap cut to $25bn
    (date(2025, 4, 1), -5.0),  # cap cut to $5bn (announced 19 March 2025)
    (date(2025, 12, 1), 0.0),  # runoff ended
)
SECURITY_TYPES = ("Bills", "NotesBonds", "FRN", "TIPS")


def as_of_dates(as_of: date) -> list[date]:
    """The SOMA as-of dates published by `as_of` (each the day after it), oldest first."""
    days, wednesday = [], FIRST_AS_OF
    while True:
        day = wednesday - timedelta(days=1) if wednesday in federal_holidays(wednesday.year) else wednesday
        if day + timedelta(days=1) > as_of:
            return days
        days.append(day)
        wednesday += timedelta(days=7)


def _monthly_change_bn(day: date) -> float:
    change = 0.0
    for start, amount in POLICY:
        if start <= day:
            change = amount
    return change


@lru_cache(maxsize=1)
def _securities(as_of: date) -> dict[str, np.ndarray]:
    """Every auction held by `as_of`, as arrays: CUSIP index, issue and maturity days, amount, and per CUSIP its type,
    coupon, spread, maturity and tilt."""
    held = [r for r in auction_records(as_of) if r["total_accepted"] not in ("null", "")]
    cusips = sorted({r["cusip"] for r in held})
    index = {c: i for i, c in enumerate(cusips)}
    last = {r["cusip"]: r for r in held}  # the latest auction of each CUSIP describes it
    first_issue: dict[str, date] = {}
    for r in held:
        first_issue.setdefault(r["cusip"], date.fromisoformat(r["issue_date"]))
    kind = np.array([_security_type(last[c]) for c in cusips])
    return {
        "cusips": np.array(cusips),
        "cusip": np.array([index[r["cusip"]] for r in held]),
        "issue": np.array([date.fromisoformat(r["issue_date"]).toordinal() for r in held]),
        "maturity": np.array([date.fromisoformat(r["maturity_date"]).toordinal() for r in held]),
        "amount": np.array([float(r["total_accepted"]) for r in held]),
        "kind": kind,
        "coupon": np.array([last[c]["int_rate"] if last[c]["int_rate"] != "null" else "" for c in cusips]),
        "spread": np.array([last[c]["spread"] if last[c]["spread"] != "null" else "" for c in cusips]),
        "matures": np.array([last[c]["maturity_date"] for c in cusips]),
        "dated": np.array([first_issue[c].toordinal() for c in cusips]),
        # A fixed tilt per security, so shares differ from issue to issue as they do in the real portfolio.
        "tilt": np.array([0.5 + (zlib.crc32(c.encode()) % 1000) / 1000 for c in cusips]),
    }


def _security_type(record: dict[str, str]) -> str:
    if record["security_type"] == "Bill":
        return "Bills"
    if record["floating_rate"] == "Yes":
        return "FRN"
    if record["inflation_index_security"] == "Yes":
        return "TIPS"
    return "NotesBonds"


@lru_cache(maxsize=1)
def _total_path(as_of: date) -> dict[date, float]:
    """The Fed's Treasury holdings ($) on each as-of date."""
    total, path, previous = START_HOLDINGS_BN, {}, None
    for day in as_of_dates(as_of):
        if previous is not None:
            total += _monthly_change_bn(day) * (day - previous).days / 30.4375
        path[day], previous = total * 1e9, day
    return path


@lru_cache(maxsize=8)
def _par(as_of: date, day: date) -> tuple[np.ndarray, np.ndarray]:
    """(the Fed's par per CUSIP, the amount outstanding per CUSIP) on `day`."""
    s = _securities(as_of)
    ordinal = day.toordinal()
    live = (s["issue"] <= ordinal) & (s["maturity"] > ordinal)
    outstanding = np.bincount(s["cusip"][live], weights=s["amount"][live], minlength=len(s["cusips"]))
    weight = outstanding * s["tilt"]
    target = _total_path(as_of).get(day, 0.0)
    par = np.minimum(MAX_SHARE * outstanding, target * weight / weight.sum()) if weight.sum() else weight
    return np.floor(par / 100) * 100, outstanding


def holdings(as_of: date, day: date) -> list[dict[str, str]]:
    """The Treasury holdings records on the as-of date `day`, by CUSIP."""
    s = _securities(as_of)
    par, outstanding = _par(as_of, day)
    week = _par(as_of, day - timedelta(days=7))[0] if day - timedelta(days=7) >= FIRST_AS_OF else np.zeros_like(par)
    year_day = day - timedelta(days=364)
    year = _par(as_of, year_day)[0] if year_day >= FIRST_AS_OF else np.zeros_like(par)
    records = []
    for i in np.flatnonzero(par > 0):
        tips = s["kind"][i] == "TIPS"
        # TIPS principal accrues with inflation: about 2.5% a year since the security was first issued.
        compensation = par[i] * (1.025 ** ((day.toordinal() - s["dated"][i]) / 365.25) - 1) if tips else None
        records.append(
            {
                "asOfDate": day.isoformat(),
                "cusip": str(s["cusips"][i]),
                "maturityDate": str(s["matures"][i]),
                "issuer": "",
                "spread": str(s["spread"][i]) if s["kind"][i] == "FRN" else "",
                "coupon": str(s["coupon"][i]) if s["kind"][i] != "Bills" else "",
                "parValue": f"{par[i]:.0f}",
                "inflationCompensation": f"{compensation:.0f}" if compensation is not None else "",
                "percentOutstanding": f"{par[i] / outstanding[i]:.4f}",
                "changeFromPriorWeek": f"{par[i] - week[i]:.0f}",
                "changeFromPriorYear": f"{par[i] - year[i]:.0f}",
                "securityType": str(s["kind"][i]),
            }
        )
    return records


# --- endpoints ----------------------------------------------------------------------------------------------

BASE_PATH = "/api/soma"
JSON = "application/json; charset=utf-8"
TREASURY_PREFIX = BASE_PATH + "/tsy/get/"


def route(emulator, path: str, params: dict[str, str]):  # noqa: ARG001 - the route's signature
    """The as-of dates and the Treasury holdings on one date (None: not an endpoint of this source)."""
    if path == BASE_PATH + "/asofdates/list.json":
        days = [d.isoformat() for d in reversed(as_of_dates(emulator.as_of))]
        return 200, JSON, orjson.dumps({"soma": {"asOfDates": days}})
    if not path.startswith(TREASURY_PREFIX) or not path.endswith(".json"):
        return None
    parts = path[len(TREASURY_PREFIX) : -len(".json")].split("/")  # {all|bills|notesbonds|frn|tips}/asof/{date}
    if len(parts) != 3 or parts[1] != "asof" or parts[0] not in ("all", *(t.lower() for t in SECURITY_TYPES)):
        return 404, "text/plain", f"no such endpoint: {path}".encode()
    try:
        day = date.fromisoformat(parts[2])
    except ValueError:
        return 400, JSON, orjson.dumps({"error": f"not a date: {parts[2]}"})
    if day not in set(as_of_dates(emulator.as_of)):
        return 200, JSON, orjson.dumps({"soma": {"holdings": []}})  # a date with no holdings published
    records = holdings(emulator.as_of, day)
    if parts[0] != "all":
        records = [r for r in records if r["securityType"].lower() == parts[0]]
    return 200, JSON, orjson.dumps({"soma": {"holdings": records}})
