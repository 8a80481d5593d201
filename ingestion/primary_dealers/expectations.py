"""Expectations on the primary dealer statistics: keys, Wednesdays, units and the published total.

The policy and the declaration shapes: ingestion/common/expectations.py.
"""

from __future__ import annotations

from ingestion.common.expectations import WARNING, RawTableSuite, View, expect, flag_weekday, on_calendar

DEALER_STATISTICS = RawTableSuite(
    "primary_dealers",
    "dealer_statistics",
    "asofdate",
    (
        View(
            "weeks",
            "select keyid, asofdate, series_break, value from {table}",
            ("keyid", "asofdate"),
            lambda columns: [
                expect.CompoundColumnsToBeUnique(column_list=["keyid", "asofdate"]),
                *on_calendar("as_of_wednesday", [True], "FR 2004 statistics are as of Wednesday", mostly=0.99),
                expect.ColumnValuesToBeBetween(
                    column="value",
                    min_value=-2_000_000,
                    max_value=10_000_000,
                    description="$ millions (a net position or a financing total; $10 trillion is far beyond any)",
                ),
            ],
            flag_weekday("asofdate", "as_of_wednesday", 2),
        ),
        View(
            "published_total",
            """
            select asofdate,
                max(value) filter (where keyid = 'PDPOSGST-TOT') as total_mn,
                sum(value) filter (where keyid = 'PDPOSGS-B' or keyid like 'PDPOSGSC-%') as bills_and_coupons_mn,
                abs(total_mn - bills_and_coupons_mn) as total_minus_parts_mn,
                count(*) filter (where keyid = 'PDPOSGST-TOT' and value is null) as total_suppressed
            from {table} where series_break = 'current' group by asofdate
            """,
            ("asofdate",),
            lambda columns: [
                expect.ColumnValuesToBeBetween(
                    column="total_minus_parts_mn",
                    max_value=25_000,
                    severity=WARNING,
                    description="the published total exceeds bills + coupon buckets by $2.7-11.4bn in the NY Fed's "
                    "own data (it is loaded as published); a gap past $25bn is worth a look",
                ),
                expect.ColumnValuesToBeInSet(
                    column="total_suppressed",
                    value_set=[0],
                    severity=WARNING,
                    description="the total is suppressed ('*') this week: the dealer component has no value",
                ),
            ],
        ),
    ),
)


SUITES = (DEALER_STATISTICS,)
