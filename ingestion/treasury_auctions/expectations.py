"""Expectations on the auction results and the auction calendar. (The policy: ingestion/common/expectations.py.)"""

from __future__ import annotations

from ingestion.common.cusip import CUSIP_PATTERN
from ingestion.common.expectations import (
    WARNING,
    Expectation,
    RawTableSuite,
    View,
    chain,
    expect,
    flag_cusips,
    flag_non_business_days,
    on_calendar,
)


def _auction_expectations(columns: list[str]) -> list[Expectation]:
    rate = "percent; TIPS real yields go below zero, 1981 bills went past 16%"
    return [
        expect.ColumnValuesToNotBeNull(column="cusip"),
        expect.ColumnValuesToMatchRegex(column="cusip", regex=CUSIP_PATTERN.pattern),
        expect.ColumnValuesToBeInSet(
            column="cusip_check_digit_valid", value_set=[True], description="the 9th character is the check digit"
        ),
        *on_calendar("auction_on_business_day", [True], "auctions are held on SIFMA business days", mostly=0.99),
        expect.ColumnValuesToBeInSet(column="security_type", value_set=["Bill", "Note", "Bond"]),
        expect.ColumnValuesToBeBetween(column="high_yield", min_value=-3, max_value=25, description=rate),
        expect.ColumnValuesToBeBetween(column="high_investment_rate", min_value=-1, max_value=25, description=rate),
        expect.ColumnValuesToBeBetween(column="high_discnt_rate", min_value=-1, max_value=25, description=rate),
        expect.ColumnValuesToBeBetween(
            column="bid_to_cover_ratio", min_value=1, max_value=10, description="tendered / accepted"
        ),
        *[
            expect.ColumnValuesToBeBetween(
                column=share, min_value=0, max_value=1, description="of competitive accepted"
            )
            for share in ("primary_dealer_share", "direct_bidder_share", "indirect_bidder_share")
        ],
        expect.ColumnValuesToBeBetween(
            column="bidder_identity_gap_usd",
            min_value=0,
            max_value=0,
            description="comp_accepted = primary dealer + direct + indirect accepted (exact where reported)",
        ),
        expect.ColumnPairValuesAToBeGreaterThanB(
            column_A="issue_date", column_B="auction_date", or_equal=True, ignore_row_if="either_value_is_missing"
        ),
        expect.ColumnPairValuesAToBeGreaterThanB(
            column_A="maturity_date", column_B="issue_date", ignore_row_if="either_value_is_missing"
        ),
    ]


AUCTIONS = RawTableSuite(
    "treasury_auctions",
    "auctions_query",
    "auction_date",
    (
        View(
            "auctions",
            """
            select
                cusip, auction_date, issue_date, maturity_date, security_type, security_term,
                high_yield, high_investment_rate, high_discnt_rate, bid_to_cover_ratio,
                primary_dealer_accepted / nullif(comp_accepted, 0) as primary_dealer_share,
                direct_bidder_accepted / nullif(comp_accepted, 0) as direct_bidder_share,
                indirect_bidder_accepted / nullif(comp_accepted, 0) as indirect_bidder_share,
                comp_accepted - (primary_dealer_accepted + direct_bidder_accepted + indirect_bidder_accepted)
                    as bidder_identity_gap_usd
            from {table}
            """,
            ("cusip", "auction_date"),
            _auction_expectations,
            chain(flag_cusips, flag_non_business_days("auction_date", "auction_on_business_day")),
        ),
    ),
)

UPCOMING_AUCTIONS = RawTableSuite(
    "treasury_auctions",
    "upcoming_auctions",
    "auction_date",
    (
        View(
            "upcoming",
            "select cusip, auction_date, issue_date, security_type, security_term, offering_amt from {table}",
            ("cusip", "auction_date"),
            lambda columns: [
                expect.ColumnValuesToMatchRegex(column="cusip", regex=CUSIP_PATTERN.pattern),
                expect.ColumnValuesToBeInSet(column="cusip_check_digit_valid", value_set=[True]),
                *on_calendar("auction_on_business_day", [True], "auctions fall on SIFMA business days", mostly=0.99),
                expect.ColumnValuesToBeInSet(
                    column="security_type",
                    value_set=["Bill", "CMB", "Note", "Bond", "TIPS Note", "TIPS Bond", "FRN Note"],
                    severity=WARNING,
                    description="the calendar feeds freshness and schedules, not the marts: a new type is reported",
                ),
                expect.ColumnValuesToBeBetween(column="offering_amt", min_value=0, strict_min=True),
            ],
            chain(flag_cusips, flag_non_business_days("auction_date", "auction_on_business_day")),
        ),
    ),
)


SUITES = (AUCTIONS, UPCOMING_AUCTIONS)
