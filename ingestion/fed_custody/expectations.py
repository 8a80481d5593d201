"""Expectations on the FRED series: keys, units and Wednesday levels. (The policy: ingestion/common/expectations.py.)"""

from __future__ import annotations

from ingestion.common.expectations import RawTableSuite, View, expect, flag_weekday, on_calendar

FRED_OBSERVATIONS = RawTableSuite(
    "fed_custody",
    "observations",
    "observation_date",
    (
        View(
            "observations",
            """
            select series_id, observation_date, value,
                case series_id when 'WMTSECL1' then value between 0 and 20000000
                               when 'IORB' then value between -1 and 25 else true end as value_in_unit_range
            from {table}
            """,
            ("series_id", "observation_date"),
            lambda columns: [
                expect.CompoundColumnsToBeUnique(column_list=["series_id", "observation_date"]),
                expect.ColumnValuesToBeInSet(
                    column="value_in_unit_range",
                    value_set=[True],
                    description="WMTSECL1 in $ millions (0-20 million), IORB in percent (-1 to 25)",
                ),
            ],
        ),
        View(
            "custody_wednesdays",
            "select series_id, observation_date from {table} where series_id = 'WMTSECL1'",
            ("series_id", "observation_date"),
            lambda columns: on_calendar(
                "on_wednesday", [True], "H.4.1 custody holdings are Wednesday levels", mostly=0.99
            ),
            flag_weekday("observation_date", "on_wednesday", 2),
        ),
    ),
)


SUITES = (FRED_OBSERVATIONS,)
