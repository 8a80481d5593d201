"""Expectations on the daily par yield curve. (The policy: ingestion/common/expectations.py.)"""

from __future__ import annotations

from ingestion.common.expectations import RawTableSuite, View, expect, flag_non_business_days, on_calendar

PAR_YIELDS = RawTableSuite(
    "par_yield_curve",
    "daily_par_yields",
    "curve_date",
    (
        View(
            "par_yields",
            "select * exclude (_dlt_load_id) from {table}",
            ("curve_date",),
            lambda columns: [
                expect.ColumnValuesToBeUnique(column="curve_date"),
                *on_calendar(
                    "curve_date_on_business_day", [True], "curves are published on SIFMA business days", mostly=0.99
                ),
                *[
                    expect.ColumnValuesToBeBetween(
                        column=c, min_value=-1, max_value=25, description="par yield, percent"
                    )
                    for c in columns
                    if c.startswith("bc_")
                ],
            ],
            flag_non_business_days("curve_date", "curve_date_on_business_day"),
        ),
    ),
)


SUITES = (PAR_YIELDS,)
