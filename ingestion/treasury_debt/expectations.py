"""Expectations on Debt to the Penny and MSPD table 1: keys, units and identities.

The policy and the declaration shapes: ingestion/common/expectations.py.
"""

from __future__ import annotations

from ingestion.common.expectations import WARNING, RawTableSuite, View, expect

DEBT_TO_THE_PENNY = RawTableSuite(
    "treasury_debt",
    "debt_to_the_penny",
    "record_date",
    (
        View(
            "days",
            """
            select record_date, debt_held_public_amt, intragov_hold_amt, tot_pub_debt_out_amt,
                abs(debt_held_public_amt + intragov_hold_amt - tot_pub_debt_out_amt) as identity_gap_usd
            from {table}
            """,
            ("record_date",),
            lambda columns: [
                expect.ColumnValuesToBeUnique(column="record_date"),
                expect.ColumnValuesToBeBetween(
                    column="tot_pub_debt_out_amt",
                    min_value=1e12,
                    max_value=1e14,
                    description="dollars ($1-100 trillion: a figure in millions or billions is a unit error)",
                ),
                expect.ColumnValuesToBeBetween(
                    column="identity_gap_usd",
                    max_value=0.01,
                    severity=WARNING,
                    description="debt held by the public + intragovernmental holdings = total, to the cent",
                ),
                # A gap past rounding is what the publisher printed (2025-08-04 misses by exactly $10bn in the
                # FiscalData history): fct_debt_outstanding_daily carries the gap as a column and reads each figure
                # as published, so the mart is not wrong. It warns with the days named; units are guarded above
                # and below.
                expect.ColumnValuesToBeBetween(
                    column="identity_gap_usd",
                    max_value=10_000_000,
                    severity=WARNING,
                    description="a gap past $10 million is not rounding: a misprint by the publisher (the mart "
                    "carries it as identity_gap_usd) or a misread field",
                ),
                *(
                    expect.ColumnValuesToBeBetween(
                        column=part,
                        min_value=0,
                        max_value=1e14,
                        description="dollars, below $100 trillion: a figure in another unit is a parse error",
                    )
                    for part in ("debt_held_public_amt", "intragov_hold_amt")
                ),
            ],
        ),
    ),
)

MSPD_TABLE_1 = RawTableSuite(
    "treasury_debt",
    "mspd_table_1",
    "record_date",
    (
        # The first view is row by row: the never-shrinks count compares it with the rows before the load.
        View(
            "rows",
            """
            select record_date, security_type_desc, security_class_desc,
                record_date = last_day(record_date) as is_month_end,
                abs(debt_held_public_mil_amt + intragov_hold_mil_amt - total_mil_amt) as row_gap_mn
            from {table}
            """,
            ("record_date", "security_type_desc", "security_class_desc"),
            lambda columns: [
                expect.ColumnValuesToBeInSet(column="is_month_end", value_set=[True]),
                expect.ColumnValuesToBeBetween(
                    column="row_gap_mn",
                    max_value=3,
                    severity=WARNING,
                    description="held by the public + intragovernmental = total on each row: MSPD rounds each "
                    "figure on its own, so they miss by up to $2 million; more is worth a look",
                ),
            ],
        ),
        View(
            "months",
            """
            select record_date,
                count(*) filter (where security_type_desc = 'Total Marketable') as total_marketable_rows,
                max(total_mil_amt) filter (where security_type_desc = 'Total Marketable') as total_marketable_mn,
                abs(sum(total_mil_amt) filter (where security_type_desc = 'Marketable')
                    - max(total_mil_amt) filter (where security_type_desc = 'Total Marketable'))
                    as marketable_classes_gap_mn
            from {table} group by record_date
            """,
            ("record_date",),
            lambda columns: [
                expect.ColumnValuesToBeInSet(
                    column="total_marketable_rows",
                    value_set=[1],
                    description="one 'Total Marketable' row a month (the foreign share's denominator)",
                ),
                expect.ColumnValuesToBeBetween(
                    column="total_marketable_mn",
                    min_value=100_000,
                    max_value=100_000_000,
                    description="$ millions ($100bn-$100 trillion): a figure in dollars or billions is a unit error",
                ),
                expect.ColumnValuesToBeBetween(
                    column="marketable_classes_gap_mn",
                    max_value=3,
                    severity=WARNING,
                    description="the marketable classes add up to Total Marketable: MSPD's own rounding misses by "
                    "up to $2 million; more is worth a look",
                ),
                # fct_marketable_debt_monthly reads Total Marketable and Bills as published, never the sum of the
                # classes: a class that misses by more than rounding is worth a look, not a wrong mart.
                expect.ColumnValuesToBeBetween(
                    column="marketable_classes_gap_mn",
                    max_value=1_000,
                    severity=WARNING,
                    description="a gap past $1bn is not rounding: a class misprinted, misread or in another unit "
                    "(the mart reads Total Marketable as published)",
                ),
            ],
        ),
    ),
)


SUITES = (DEBT_TO_THE_PENNY, MSPD_TABLE_1)
