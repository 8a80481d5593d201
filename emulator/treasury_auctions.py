"""Synthetic Treasury auction history in the FiscalData `auctions_query` wire format.

A rule-based calendar close to the real one: weekly bills (13/26-week since 1979, 4-week from 2001,
8-week from 2018, 17-week from 2022, 6-week from 2025), 52-week bills every four weeks, occasional
cash-management bills, monthly 2/5-year notes, the quarterly refunding (3/10/30-year) with monthly
reopenings, 7-year and 20-year eras, TIPS and FRNs. Bills maturing on the same day share one CUSIP,
so later auctions of that maturity are reopenings, as in the real data. Results derive from the
synthetic curve, and the published identities hold on every row:

    comp_accepted + noncomp_accepted + fima_noncomp_accepted + soma_accepted == total_accepted
    primary_dealer_accepted + direct_bidder_accepted + indirect_bidder_accepted == comp_accepted
    bid_to_cover_ratio == round((comp_tendered + noncomp_accepted + fima_noncomp_accepted)
                                / (comp_accepted + noncomp_accepted + fima_noncomp_accepted), 2)
"""

from __future__ import annotations

import json
import random
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import orjson

from emulator import fiscaldata
from emulator.par_yield_curve import Curve, build_curve
from ingestion.calendar import is_business_day, next_business_day, previous_business_day
from ingestion.common.cusip import cusip_check_digit
from ingestion.treasury_auctions.fields import AUCTIONS_QUERY_FIELDS, UPCOMING_AUCTIONS_FIELDS

HISTORY_START = date(1979, 1, 1)
# Bidder categories (primary dealer / direct / indirect) are reported from May 2003 on.
BIDDER_DETAIL_FROM = date(2003, 5, 1)
# How far past the as-of date announced auctions are generated (announcements run ~1 week ahead).
SCHEDULE_LEAD = timedelta(days=21)
MONTHS = ("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec").split()


def _cusip(prefix: str, serial: int) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    body = ""
    for _ in range(8 - len(prefix)):
        serial, r = divmod(serial, len(alphabet))
        body = alphabet[r] + body
    base = prefix + body
    return base + cusip_check_digit(base)


@dataclass
class Security:
    cusip: str
    security_type: str  # Bill | Note | Bond
    original_term: str
    issue_date: date
    maturity_date: date
    coupon: float | None = None
    kind: str = "nominal"  # nominal | tips | frn | cmb
    dated_date: date | None = None


@dataclass
class PlannedAuction:
    auction_date: date
    issue_date: date
    maturity_date: date
    term: str  # original term label, e.g. "10-Year", "13-Week", "42-Day"
    security_type: str
    kind: str
    offering: int
    years: float  # original tenor in years
    reopening_of: Security | None = None
    overrides: dict = field(default_factory=dict)


def _add_months(day: date, months: int, *, end_of_month: bool = False) -> date:
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    if end_of_month:
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        return nxt - timedelta(days=1)
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _term_remaining(issue: date, maturity: date) -> str:
    months = (maturity.year - issue.year) * 12 + (maturity.month - issue.month)
    if maturity.day < issue.day - 15:
        months -= 1
    years, rem = divmod(months, 12)
    if rem == 0:
        return f"{years}-Year"
    if years == 0:
        return f"{rem}-Month"
    return f"{years}-Year {rem}-Month"


def _amount(points: list[tuple[int, float]], year: int) -> float:
    """Piecewise-linear offering size ($bn) by year."""
    if year <= points[0][0]:
        return points[0][1]
    for (y0, a0), (y1, a1) in zip(points, points[1:]):
        if year <= y1:
            return a0 + (a1 - a0) * (year - y0) / (y1 - y0)
    return points[-1][1]


SIZES_BN: dict[str, list[tuple[int, float]]] = {
    "4-Week": [(2001, 10), (2008, 30), (2020, 40), (2024, 85)],
    "6-Week": [(2025, 70)],
    "8-Week": [(2018, 25), (2020, 40), (2024, 80)],
    "13-Week": [(1979, 3), (1990, 9), (2000, 11), (2008, 26), (2015, 24), (2024, 76)],
    "17-Week": [(2022, 30), (2024, 60)],
    "26-Week": [(1979, 3), (1990, 9), (2000, 11), (2008, 24), (2015, 24), (2024, 70)],
    "52-Week": [(1979, 4), (1990, 10), (2001, 8), (2008, 19), (2015, 20), (2024, 46)],
    "2-Year": [(1979, 3), (1990, 9), (2000, 9), (2008, 30), (2010, 40), (2013, 35), (2024, 69)],
    "3-Year": [(1979, 3), (1990, 10), (1998, 12), (2008, 28), (2010, 32), (2016, 24), (2024, 58)],
    "5-Year": [(1979, 2), (1990, 8), (2000, 12), (2008, 26), (2010, 35), (2013, 35), (2024, 70)],
    "7-Year": [(1979, 2), (1993, 6), (2009, 22), (2010, 29), (2013, 29), (2024, 44)],
    "10-Year": [(1979, 3), (1990, 10), (2000, 10), (2008, 16), (2012, 24), (2024, 42)],
    "20-Year": [(2020, 20), (2024, 16)],
    "30-Year": [(1979, 2), (1990, 10), (2001, 10), (2006, 10), (2012, 16), (2024, 25)],
    "5-Year TIPS": [(2004, 10), (2024, 25)],
    "10-Year TIPS": [(1997, 7), (2008, 9), (2024, 18)],
    "30-Year TIPS": [(2010, 8), (2024, 9)],
    "2-Year FRN": [(2014, 15), (2024, 30)],
    "CMB": [(1979, 5), (2008, 25), (2024, 60)],
}


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _refunding_week(year: int, month: int) -> date:
    """The Tuesday of the week holding the 3/10/30-year auctions: first Tuesday on or after the 6th."""
    return _weekday_on_or_after(date(year, month, 6), 1)


def _plan(end: date) -> list[PlannedAuction]:
    """Every auction from 1979 with an auction date on or before `end`."""
    plans: list[PlannedAuction] = []

    def size(term: str, day: date) -> int:
        rng = random.Random(zlib.crc32(f"size|{term}|{day}".encode()))
        bn = _amount(SIZES_BN[term], day.year) * rng.uniform(0.95, 1.05)
        return int(round(bn)) * 1_000_000_000

    # Bills: weekly cycles keyed on the week's Monday.
    monday = date(1979, 1, 1)
    week_no = 0
    while monday <= end:
        thursday = monday + timedelta(days=3)
        cycles = [("13-Week", 13, 0, date(1979, 1, 1)), ("26-Week", 26, 0, date(1979, 1, 1))]
        if monday >= date(2001, 7, 30):
            cycles.append(("4-Week", 4, 1, date(2001, 7, 30)))
        if monday >= date(2018, 3, 26):
            cycles.append(("8-Week", 8, 1, date(2018, 3, 26)))
        if monday >= date(2025, 2, 17):
            cycles.append(("6-Week", 6, 1, date(2025, 2, 17)))
        if monday >= date(2022, 10, 17):
            cycles.append(("17-Week", 17, 2, date(2022, 10, 17)))
        if week_no % 4 == 0 and (monday < date(2001, 3, 1) or monday >= date(2008, 6, 2)):
            cycles.append(("52-Week", 52, 1, date(1979, 1, 1)))
        for term, weeks, weekday, _start in cycles:
            auction = next_business_day(monday + timedelta(days=weekday))
            issue = next_business_day(thursday if weekday < 3 else thursday + timedelta(days=7))
            maturity = issue + timedelta(weeks=weeks)
            plans.append(
                PlannedAuction(auction, issue, maturity, term, "Bill", "nominal", size(term, auction), weeks / 52)
            )
        # Cash-management bills: a handful a year, on a Tuesday picked by the week's seed.
        rng = random.Random(zlib.crc32(f"cmb|{monday}".encode()))
        if rng.random() < 0.12:
            auction = next_business_day(monday + timedelta(days=1))
            days = rng.choice([7, 14, 21, 35, 42, 49, 63])
            issue = next_business_day(auction + timedelta(days=2))
            plans.append(
                PlannedAuction(
                    auction,
                    issue,
                    issue + timedelta(days=days),
                    f"{days}-Day",
                    "Bill",
                    "cmb",
                    size("CMB", auction),
                    days / 365,
                )
            )
        monday += timedelta(days=7)
        week_no += 1

    month = date(1979, 1, 1)
    while month <= end:
        y, m = month.year, month.month
        month_end = _add_months(month, 0, end_of_month=True)
        last_bd = previous_business_day(month_end, include=True)
        # 2/5/7-year notes: the last week of the month, on consecutive business days.
        day = previous_business_day(last_bd, include=False)
        day = previous_business_day(day)
        day = previous_business_day(day)
        end_issue = next_business_day(month_end, include=True) if not is_business_day(month_end) else month_end
        for term, years, active in (
            ("2-Year", 2, True),
            ("5-Year", 5, True),
            ("7-Year", 7, month < date(1993, 5, 1) or month >= date(2009, 2, 1)),
        ):
            if active:
                plans.append(
                    PlannedAuction(
                        day,
                        end_issue,
                        _add_months(month_end, 12 * years, end_of_month=True),
                        term,
                        "Note",
                        "nominal",
                        size(term, day),
                        years,
                    )
                )
            day = next_business_day(day, include=False)
        # Quarterly refunding and monthly reopenings: 3-year Tuesday, 10-year Wednesday, 30-year Thursday.
        tuesday = _refunding_week(y, m)
        refunding_month = m in (2, 5, 8, 11)
        issue15 = next_business_day(date(y, m, 15))
        three_active = (month < date(1998, 5, 1) and refunding_month) or month >= date(2008, 11, 1)
        if three_active:
            auction = next_business_day(tuesday)
            plans.append(
                PlannedAuction(
                    auction,
                    issue15,
                    _add_months(date(y, m, 15), 36),
                    "3-Year",
                    "Note",
                    "nominal",
                    size("3-Year", auction),
                    3,
                )
            )
        for term, years, weekday_offset, sec_type, reopen_from, active in (
            ("10-Year", 10, 1, "Note", date(2008, 9, 1), True),
            ("30-Year", 30, 2, "Bond", date(2009, 3, 1), month < date(2001, 11, 1) or month >= date(2006, 2, 1)),
        ):
            if not active:
                continue
            auction = next_business_day(tuesday + timedelta(days=weekday_offset))
            if refunding_month:
                plans.append(
                    PlannedAuction(
                        auction,
                        issue15,
                        _add_months(date(y, m, 15), 12 * years),
                        term,
                        sec_type,
                        "nominal",
                        size(term, auction),
                        years,
                    )
                )
            elif month >= reopen_from:
                plans.append(
                    PlannedAuction(
                        auction, issue15, date(1900, 1, 1), term, sec_type, "nominal", size(term, auction), years
                    )
                )
        # 20-year bonds from May 2020: new issue quarterly, reopened in between; the third week.
        if month >= date(2020, 5, 1):
            auction = next_business_day(_weekday_on_or_after(date(y, m, 15), 1))
            new = m in (2, 5, 8, 11)
            maturity = _add_months(date(y, m, 15), 240) if new else date(1900, 1, 1)
            plans.append(
                PlannedAuction(
                    auction,
                    issue15 if auction < issue15 else next_business_day(month_end, include=True),
                    maturity,
                    "20-Year",
                    "Bond",
                    "nominal",
                    size("20-Year", auction),
                    20,
                )
            )
        # TIPS: Thursday of the third week; new issues and reopenings by month.
        tips_thursday = next_business_day(_weekday_on_or_after(date(y, m, 15), 3))
        tips_issue = next_business_day(month_end, include=True) if month_end.weekday() < 5 else last_bd
        for term, years, new_months, reopen_months, start, sec_type in (
            ("10-Year TIPS", 10, (1, 7), (3, 9), date(1997, 1, 1), "Note"),
            ("5-Year TIPS", 5, (4, 10), (6, 12), date(2004, 10, 1), "Note"),
            ("30-Year TIPS", 30, (2,), (8,), date(2010, 2, 1), "Bond"),
        ):
            if month < start or m not in new_months + reopen_months:
                continue
            maturity = _add_months(date(y, m, 15), 12 * years) if m in new_months else date(1900, 1, 1)
            plans.append(
                PlannedAuction(
                    tips_thursday, tips_issue, maturity, term, sec_type, "tips", size(term, tips_thursday), years
                )
            )
        # Two-year FRNs from January 2014: new issue Jan/Apr/Jul/Oct, the rest reopenings.
        if month >= date(2014, 1, 1):
            auction = next_business_day(_weekday_on_or_after(month_end - timedelta(days=6), 2))
            if auction > last_bd:
                auction = previous_business_day(last_bd, include=True)
            maturity = _add_months(month_end, 24, end_of_month=True) if m in (1, 4, 7, 10) else date(1900, 1, 1)
            plans.append(
                PlannedAuction(auction, last_bd, maturity, "2-Year FRN", "Note", "frn", size("2-Year FRN", auction), 2)
            )
        month = _add_months(month, 1)
    plans = [p for p in plans if p.auction_date <= end]
    plans.sort(key=lambda p: (p.auction_date, p.years, p.term))
    return plans


# The April 2025 scenario: fixed sizes and results (rates in percent, amounts in dollars).
SCENARIO: dict[tuple[date, str], dict] = {
    (date(2025, 4, 8), "3-Year"): {
        "offering": 58_000_000_000,
        "tail_bp": 3.2,
        "btc": 2.53,
        "shares": (0.062, 0.598, 0.340),  # direct, indirect, primary dealer (of comp_accepted)
    },
    (date(2025, 4, 9), "10-Year"): {
        "offering": 39_000_000_000,
        "tail_bp": -1.8,
        "btc": 2.67,
        "shares": (0.106, 0.874 - 0.106, 0.126),
    },
    (date(2025, 4, 10), "30-Year"): {
        "offering": 22_000_000_000,
        "tail_bp": 0.6,
        "btc": 2.45,
        "shares": (0.174, 0.646, 0.180),
    },
}


def _fmt(value: float | int | None, decimals: int = 6) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{decimals}f}"


def _round_down_100(x: float) -> int:
    return int(x // 100) * 100


def _bill_rates(bey: float, days: int) -> tuple[float, float, float]:
    """(discount rate, investment rate, price per 100) for a bill with `days` to maturity."""
    d = round(360 * bey / (365 + bey / 100 * days), 3)
    price = round(100 * (1 - d / 100 * days / 360), 6)
    inv = round((100 - price) / price * 365 / days * 100, 3)
    return d, inv, price


def _bond_price(coupon: float, yld: float, years: float) -> float:
    n = max(int(round(years * 2)), 1)
    c, y = coupon / 2, yld / 200
    if y == 0:
        return round(c * n + 100, 6)
    return round(c * (1 - (1 + y) ** -n) / y + 100 * (1 + y) ** -n, 6)


class AuctionBook:
    """Securities issued so far (for reopenings) and the CUSIP counters."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], Security] = {}
        self.bills_by_maturity: dict[date, Security] = {}
        self.serial = {"912797": 0, "91282C": 0, "912810": 0, "912828": 0}

    def new_cusip(self, security_type: str, day: date) -> str:
        prefix = (
            "912797"
            if security_type == "Bill"
            else "912810"
            if security_type == "Bond"
            else ("91282C" if day.year >= 2020 else "912828")
        )
        self.serial[prefix] += 1
        return _cusip(prefix, self.serial[prefix] + (zlib.crc32(prefix.encode()) % 5000))


def _record(plan: PlannedAuction, book: AuctionBook, curve: Curve, as_of: date) -> dict[str, str]:
    rng = random.Random(zlib.crc32(f"auction|{plan.auction_date}|{plan.term}".encode()))
    scenario = SCENARIO.get((plan.auction_date, plan.term), {})
    offering = scenario.get("offering", plan.offering)
    kind = plan.kind
    base_term = plan.term.replace(" TIPS", "").replace(" FRN", "")

    # Find or create the security.
    if plan.security_type == "Bill":
        existing = book.bills_by_maturity.get(plan.maturity_date)
        if existing is None:
            original_term = f"{(plan.maturity_date - plan.issue_date).days}-Day" if kind == "cmb" else base_term
            existing = Security(
                book.new_cusip("Bill", plan.auction_date),
                "Bill",
                original_term,
                plan.issue_date,
                plan.maturity_date,
                kind=kind,
            )
            book.bills_by_maturity[plan.maturity_date] = existing
            reopening = False
        else:
            reopening = True
        security = existing
    else:
        key = (plan.term, kind)
        if plan.maturity_date == date(1900, 1, 1):
            security = book.by_key.get(key)
            if security is None:  # nothing to reopen yet: skip (the plan starts mid-cycle)
                return {}
            reopening = True
        else:
            security = Security(
                book.new_cusip(plan.security_type, plan.auction_date),
                plan.security_type,
                base_term,
                plan.issue_date,
                plan.maturity_date,
                kind=kind,
                dated_date=plan.issue_date,
            )
            book.by_key[key] = security
            reopening = False

    held = plan.auction_date <= as_of
    days_to_maturity = (security.maturity_date - plan.issue_date).days
    remaining_years = days_to_maturity / 365.25
    announced = previous_business_day(
        plan.auction_date - timedelta(days=3 if plan.security_type == "Bill" else 6), include=True
    )
    if kind == "cmb":
        term_label = f"{days_to_maturity}-Day"
    elif plan.security_type == "Bill":
        term_label = f"{round(days_to_maturity / 7)}-Week"
    else:
        term_label = _term_remaining(plan.issue_date, security.maturity_date) if reopening else base_term

    r: dict[str, object] = {f: None for f in AUCTIONS_QUERY_FIELDS}
    r.update(
        record_date=(plan.issue_date if held else announced).isoformat(),
        cusip=security.cusip,
        security_type=plan.security_type,
        security_term=term_label,
        auction_date=plan.auction_date.isoformat(),
        issue_date=plan.issue_date.isoformat(),
        maturity_date=security.maturity_date.isoformat(),
        announcemt_date=announced.isoformat(),
        auction_format="Single-Price",
        cash_management_bill_cmb="Yes" if kind == "cmb" else "No",
        floating_rate="Yes" if kind == "frn" else "No",
        inflation_index_security="Yes" if kind == "tips" else "No",
        reopening="Yes" if reopening else "No",
        closing_time_comp="11:30 AM" if plan.security_type == "Bill" else "01:00 PM",
        closing_time_noncomp="11:00 AM" if plan.security_type == "Bill" else "12:00 PM",
        offering_amt=offering,
        original_security_term=security.original_term,
        original_issue_date=security.issue_date.isoformat() if reopening else None,
        security_term_week_year=term_label
        if plan.security_type == "Bill"
        else (f"{base_term}" if not reopening else term_label.split(" ")[0]),
        security_term_day_month=f"{days_to_maturity}-Day" if plan.security_type == "Bill" else "0-Month",
        int_payment_frequency="None"
        if plan.security_type == "Bill"
        else ("Quarterly" if kind == "frn" else "Semi-Annual"),
        mat_date=plan.issue_date.isoformat(),
        min_bid_amt=100,
        min_to_issue=100,
        multiples_to_bid=100,
        multiples_to_issue=100,
        max_noncomp_award=10_000_000,
        max_comp_award=int(offering * 0.35),
        max_single_bid=int(offering * 0.35),
        nlp_reporting_threshold=int(offering * 0.35),
        strippable=None if plan.security_type == "Bill" else "Yes",
        callable=None if plan.security_type == "Bill" else "No",
        back_dated=None if plan.security_type == "Bill" else "No",
        fima_included="Yes",
        soma_included="No",
        pdf_filenm_announcemt=f"A_{announced:%Y%m%d}_{rng.randint(1, 4)}.pdf",
        xml_filenm_announcemt=f"A_{announced:%Y%m%d}_{rng.randint(1, 4)}.xml",
        est_pub_held_mat_by_type_amt=int(offering * rng.uniform(0.8, 1.3)) // 1_000_000 * 1_000_000,
    )
    if plan.security_type != "Bill":
        r["series"] = (
            f"{'TIPS ' if kind == 'tips' else ''}{'Bonds' if plan.security_type == 'Bond' else 'Notes'} of {MONTHS[security.maturity_date.month - 1]} {security.maturity_date.year}"
        )
        r["dated_date"] = (security.dated_date or security.issue_date).isoformat()
        r["first_int_payment_date"] = _add_months(security.issue_date, 3 if kind == "frn" else 6).isoformat()
        r["first_int_period"] = "Normal"
        r["min_strip_amt"] = 100 if plan.security_type != "Bill" else None
        r["corpus_cusip"] = book_corpus(security.cusip)
    if kind == "tips":
        r["cpi_base_reference_period"] = "1982-1984"
        ref_cpi = round(160 + (plan.issue_date - date(1997, 1, 1)).days / 365.25 * 4.1, 5)
        r["ref_cpi_on_issue_date"] = ref_cpi
        r["ref_cpi_on_dated_date"] = round(ref_cpi * (0.985 if reopening else 1.0), 5)
        r["index_ratio_on_issue_date"] = round(ref_cpi / float(r["ref_cpi_on_dated_date"]), 5)
        r["tiin_conversion_factor_per1000"] = round(1000 / ref_cpi * 0.1, 9)

    if held:
        prior_close = previous_business_day(plan.auction_date)
        market = curve.yield_at(prior_close, max(remaining_years, 1 / 12))
        drift = rng.gauss(0.0, 0.02)
        tail = scenario.get("tail_bp", rng.gauss(0.2, 1.0)) / 100
        if kind == "tips":
            market -= 2.2 if plan.auction_date.year > 2003 else 3.4 - 1.2  # real yield ~ nominal - breakeven
        high = max(round(market + drift + tail, 3), 0.0) if kind != "tips" else round(market + drift + tail, 3)
        if scenario:
            # Pin the tail against the prior close exactly for the scenario auctions.
            high = round(curve.yield_at(prior_close, remaining_years) + tail, 3)
        btc_target = scenario.get("btc", rng.gauss(2.9 if plan.security_type == "Bill" else 2.5, 0.2))
        noncomp_share = rng.uniform(0.01, 0.04) if plan.security_type == "Bill" else rng.uniform(0.002, 0.012)
        noncomp = _round_down_100(offering * noncomp_share)
        fima = _round_down_100(offering * rng.choice([0.0, 0.0, rng.uniform(0.0, 0.025)]))
        comp_accepted = offering - noncomp - fima
        comp_tendered = _round_down_100(btc_target * offering - noncomp - fima)
        in_qe = date(2009, 3, 1) <= plan.auction_date <= date(2014, 10, 31) or date(
            2020, 3, 15
        ) <= plan.auction_date <= date(2022, 5, 31)
        soma = _round_down_100(offering * rng.uniform(0.05, 0.25)) if (in_qe or rng.random() < 0.25) else 0
        r.update(
            comp_accepted=comp_accepted,
            comp_tendered=comp_tendered,
            noncomp_accepted=noncomp,
            fima_noncomp_accepted=fima,
            fima_noncomp_tendered=fima,
            soma_accepted=soma,
            soma_tendered=soma,
            soma_holdings=_round_down_100(soma * rng.uniform(2, 6)) if soma else 0,
            total_accepted=comp_accepted + noncomp + fima + soma,
            total_tendered=comp_tendered + noncomp + fima + soma,
            comp_tenders_accepted="Yes",
            noncomp_tenders_accepted="Yes",
            treas_retail_tenders_accepted="Yes",
            treas_retail_accepted=_round_down_100(noncomp * rng.uniform(0.3, 0.7)),
            allocation_pctage=round(rng.uniform(5, 95), 2),
            allocation_pctage_decimals=2,
            comp_bid_decimals=3,
            nlp_exclusion_amt=0
            if plan.security_type != "Bill"
            else _round_down_100(offering * rng.uniform(0, 0.3)) // 1_000_000_000 * 100_000_000,
            pdf_filenm_comp_results=f"R_{plan.auction_date:%Y%m%d}_{rng.randint(1, 4)}.pdf",
            pdf_filenm_noncomp_results=f"NCR_{plan.auction_date:%Y%m%d}_{rng.randint(1, 4)}.pdf",
            xml_filenm_comp_results=f"R_{plan.auction_date:%Y%m%d}_{rng.randint(1, 4)}.xml",
            currently_outstanding=float(offering * (2 if reopening else 1)),
        )
        public = comp_accepted + noncomp + fima
        r["bid_to_cover_ratio"] = round((comp_tendered + noncomp + fima) / public, 2)
        if plan.auction_date >= BIDDER_DETAIL_FROM:
            if "shares" in scenario:
                direct_s, indirect_s, _dealer_s = scenario["shares"]
            else:
                indirect_s = min(max(rng.gauss(0.62 if plan.auction_date.year >= 2015 else 0.45, 0.07), 0.2), 0.85)
                direct_s = min(max(rng.gauss(0.17 if plan.auction_date.year >= 2015 else 0.10, 0.04), 0.02), 0.35)
                # Dealers always take some of the auction: keep their share at 8% or more.
                indirect_s = min(indirect_s, 0.92 - direct_s)
            direct = _round_down_100(comp_accepted * direct_s)
            indirect = _round_down_100(comp_accepted * indirect_s)
            dealer = comp_accepted - direct - indirect
            r.update(
                direct_bidder_accepted=direct,
                indirect_bidder_accepted=indirect,
                primary_dealer_accepted=dealer,
                direct_bidder_tendered=_round_down_100(direct * rng.uniform(1.2, 2.5)),
                indirect_bidder_tendered=_round_down_100(indirect * rng.uniform(1.05, 1.6)),
            )
            r["primary_dealer_tendered"] = (
                comp_tendered - int(r["direct_bidder_tendered"]) - int(r["indirect_bidder_tendered"])
            )
            if r["primary_dealer_tendered"] < dealer:
                r["primary_dealer_tendered"] = dealer
                r["indirect_bidder_tendered"] = comp_tendered - dealer - int(r["direct_bidder_tendered"])
        if plan.security_type == "Bill":
            disc, inv, price = _bill_rates(high, max(days_to_maturity, 1))
            low_disc = round(max(disc - rng.uniform(0.05, 0.15), 0.0), 3)
            med_disc = round(max(disc - rng.uniform(0.01, 0.04), 0.0), 3)
            r.update(
                high_discnt_rate=disc,
                high_investment_rate=inv,
                high_price=price,
                price_per100=price,
                low_discnt_rate=low_disc,
                avg_med_discnt_rate=med_disc,
            )
        elif kind == "frn":
            margin = round(max(rng.gauss(0.12 if plan.auction_date.year < 2020 else 0.18, 0.04), -0.05), 6)
            if security.coupon is None:
                security.coupon = margin
            index_rate = round(max(curve.yield_at(prior_close, 0.25) - 0.05, 0.0), 6)
            r.update(
                high_discnt_margin=margin,
                spread=security.coupon,
                low_discnt_margin=round(margin - rng.uniform(0.02, 0.06), 6),
                avg_med_discnt_margin=round(margin - rng.uniform(0.005, 0.015), 6),
                frn_index_determination_rate=index_rate,
                frn_index_determination_date=prior_close.isoformat(),
                high_price=round(100 + (security.coupon - margin) * remaining_years, 6),
            )
            r["price_per100"] = r["high_price"]
        else:
            if security.coupon is None:
                security.coupon = max(int(high * 8) / 8, 0.125)
            price = _bond_price(security.coupon, high, remaining_years)
            r.update(
                high_yield=high,
                int_rate=security.coupon,
                high_price=price,
                price_per100=price,
                low_yield=round(high - rng.uniform(0.08, 0.3), 3),
                avg_med_yield=round(high - rng.uniform(0.01, 0.04), 3),
                std_int_payment_per1000=round(security.coupon * 5, 4),
            )
    elif plan.security_type != "Bill" and security.coupon is not None and kind != "frn":
        r["int_rate"] = security.coupon
    return {
        k: _fmt(v, 6 if k not in ("std_int_payment_per1000",) else 4) if not isinstance(v, str) else v
        for k, v in r.items()
    }


def book_corpus(cusip: str) -> str:
    base = "912803" + cusip[6:8]
    return base + cusip_check_digit(base)


@lru_cache(maxsize=4)
def auction_records(as_of: date) -> tuple[dict[str, str], ...]:
    """auctions_query rows known on `as_of`: held auctions with results, announced ones without."""
    curve = build_curve(as_of)
    book = AuctionBook()
    out = []
    for plan in _plan(as_of + SCHEDULE_LEAD):
        rec = _record(plan, book, curve, as_of)
        if rec and date.fromisoformat(rec["announcemt_date"]) <= as_of:
            out.append(rec)
    return tuple(out)


@lru_cache(maxsize=4)
def upcoming_records(as_of: date) -> tuple[dict[str, str], ...]:
    """upcoming_auctions rows: one per announcement since the dataset began (stale rows included)."""
    fields = (
        "record_date",
        "security_type",
        "security_term",
        "reopening",
        "cusip",
        "offering_amt",
        "announcemt_date",
        "auction_date",
        "issue_date",
    )
    out = []
    for rec in auction_records(as_of):
        if rec["announcemt_date"] < "2024-03-08":
            continue
        security_type = rec["security_type"]
        if rec["cash_management_bill_cmb"] == "Yes":
            security_type = "CMB"
        elif rec["inflation_index_security"] == "Yes":
            security_type = f"TIPS {security_type}"
        elif rec["floating_rate"] == "Yes":
            security_type = "FRN Note"
        row = {f: rec[f] for f in fields}
        row["security_type"] = security_type
        row["record_date"] = rec["announcemt_date"]
        out.append(row)
    return tuple(out)


# --- endpoints ----------------------------------------------------------------------------------------------

BASE_PATH = fiscaldata.ROOT
AUCTIONS_PATH = BASE_PATH + "/v1/accounting/od/auctions_query"
UPCOMING_PATH = BASE_PATH + "/v1/accounting/od/upcoming_auctions"


def route(emulator, path: str, params: dict[str, str]):
    """FiscalData's auctions_query and upcoming_auctions (None: not an endpoint of this source)."""
    if path == AUCTIONS_PATH:
        records = auction_records(emulator.as_of)
        spec = dict(AUCTIONS_QUERY_FIELDS)
        if emulator.drift_fields:
            records = tuple({**r, **emulator.drift_fields} for r in records)
            spec.update({k: "text" for k in emulator.drift_fields})
        return 200, "application/json", orjson.dumps(fiscaldata.query(records, spec, params))
    if path == UPCOMING_PATH:
        answer = fiscaldata.query(upcoming_records(emulator.as_of), UPCOMING_AUCTIONS_FIELDS, params)
        return 200, "application/json", json.dumps(answer).encode()
    return None
