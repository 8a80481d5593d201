"""Expectations on the SOMA holdings: keys, security types, units and the week's dates.

The policy and the declaration shapes: ingestion/common/expectations.py.
"""

from __future__ import annotations

from ingestion.common.expectations import WARNING, RawTableSuite, View, expect, flag_cusips

HOLDINGS = RawTableSuite(
    "fed_soma",
    "treasury_holdings",
    "as_of_date",
    (
        View(
            "holdings",
            """
            select as_of_date, cusip, security_type, par_value, inflation_compensation, percent_outstanding,
                maturity_date > as_of_date as matures_after_as_of_date,
                extract(isodow from as_of_date) in (2, 3) as on_wednesday_or_holiday_tuesday
            from {table}
            """,
            ("as_of_date", "cusip"),
            lambda columns: [
                expect.CompoundColumnsToBeUnique(column_list=["as_of_date", "cusip"]),
                expect.ColumnValuesToBeInSet(
                    column="cusip_check_digit_valid",
                    value_set=[True],
                    description="the 9th character is the check digit",
                ),
                expect.ColumnValuesToBeInSet(column="security_type", value_set=["Bills", "NotesBonds", "FRN", "TIPS"]),
                expect.ColumnValuesToBeBetween(
                    column="par_value",
                    min_value=0,
                    max_value=1e12,
                    description="dollars of par: no single issue reaches $1 trillion (a figure in another unit is a "
                    "parse error)",
                ),
                expect.ColumnValuesToBeBetween(
                    column="inflation_compensation",
                    min_value=-1e11,
                    max_value=1e12,
                    description="dollars (TIPS only; below zero after deflation since the security's dated date)",
                ),
                expect.ColumnValuesToBeBetween(
                    column="percent_outstanding",
                    min_value=0,
                    max_value=1,
                    severity=WARNING,
                    description="the Fed's share of the issue as a fraction (the Fed holds at most 70% of an issue); "
                    "the marts compute their own share from the auctions, so a figure in percent is named, not "
                    "blocking",
                ),
                expect.ColumnValuesToBeInSet(
                    column="matures_after_as_of_date",
                    value_set=[True],
                    description="a security held on a date matures after it",
                ),
                expect.ColumnValuesToBeInSet(
                    column="on_wednesday_or_holiday_tuesday",
                    value_set=[True],
                    severity=WARNING,
                    description="SOMA holdings are as of Wednesday (the Tuesday when a holiday falls on the Wednesday)",
                ),
            ],
            flag_cusips,
        ),
        View(
            "weeks",
            """
            select as_of_date, sum(par_value) as total_par_usd, count(*) as securities
            from {table} group by as_of_date
            """,
            ("as_of_date",),
            lambda columns: [
                expect.ColumnValuesToBeBetween(
                    column="total_par_usd",
                    min_value=1e11,
                    max_value=2e13,
                    description="the Fed's Treasury holdings in dollars ($100bn-$20 trillion: a unit error otherwise)",
                ),
            ],
        ),
    ),
)

AS_OF_DATES = RawTableSuite(
    "fed_soma",
    "as_of_dates",
    "as_of_date",
    (
        View(
            "dates",
            "select as_of_date from {table}",
            ("as_of_date",),
            lambda columns: [expect.ColumnValuesToBeUnique(column="as_of_date")],
        ),
    ),
)

SUITES = (HOLDINGS, AS_OF_DATES)
