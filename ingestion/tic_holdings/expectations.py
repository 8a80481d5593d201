"""Expectations on TIC's major foreign holders: month ends, row types, units and the grand total.

The policy and the declaration shapes: ingestion/common/expectations.py.
"""

from __future__ import annotations

from ingestion.common.expectations import RawTableSuite, View, count_only, expect

TIC = RawTableSuite(
    "tic_holdings",
    "major_foreign_holders",
    "month_end",
    (
        View(
            "lines",
            """
            select month_end, country, is_comparison_series, row_type, holdings_bn,
                month_end = last_day(month_end) as is_month_end
            from {table}
            """,
            ("month_end", "country", "is_comparison_series"),
            lambda columns: [
                expect.ColumnValuesToBeInSet(column="is_month_end", value_set=[True]),
                expect.ColumnValuesToBeInSet(
                    column="row_type",
                    value_set=[
                        "country",
                        "all_other",
                        "grand_total",
                        "foreign_official",
                        "foreign_official_bills",
                        "foreign_official_bonds_notes",
                    ],
                ),
                expect.ColumnValuesToBeBetween(
                    column="holdings_bn", min_value=0, max_value=20000, description="$bn held"
                ),
            ],
        ),
        View(
            "grand_total_identity",
            """
            select
                month_end,
                sum(holdings_bn) filter (where row_type in ('country', 'all_other')) as countries_and_other_bn,
                max(holdings_bn) filter (where row_type = 'grand_total') as grand_total_bn,
                abs(countries_and_other_bn - grand_total_bn)
                    - greatest(0.5, 0.05 * count(*) filter (where row_type = 'country')) as gap_beyond_rounding_bn
            from {table}
            where not is_comparison_series
            group by month_end
            """,
            ("month_end",),
            lambda columns: [
                expect.ColumnValuesToBeBetween(
                    column="gap_beyond_rounding_bn",
                    max_value=0,
                    description="country lines + All Other = Grand Total, within max($0.5bn, $0.05bn per line)",
                ),
            ],
        ),
    ),
    never_shrinks=False,
)


SUITES = (
    TIC,
    count_only(
        "tic_holdings", "major_foreign_holders_vintages", "month_end", ("month_end", "country", "is_comparison_series")
    ),
)
