"""Expectations on the reference rates and the repo operations. (The policy: ingestion/common/expectations.py.)"""

from __future__ import annotations

from ingestion.common.expectations import WARNING, RawTableSuite, View, expect, flag_non_business_days, on_calendar

_RATE_TYPES = ["SOFR", "BGCR", "TGCR", "EFFR", "OBFR"]
REFERENCE_RATES = RawTableSuite(
    "funding_rates",
    "reference_rates",
    "effective_date",
    (
        View(
            "rates",
            """
            select type, effective_date, percent_rate, percent_percentile1, percent_percentile99, volume_in_billions,
                percent_percentile1 <= percent_percentile99 as percentiles_ordered,
                percent_percentile25 <= percent_rate and percent_rate <= percent_percentile75 as rate_in_middle_half,
                target_rate_from, target_rate_to
            from {table}
            """,
            ("type", "effective_date"),
            lambda columns: [
                expect.CompoundColumnsToBeUnique(column_list=["type", "effective_date"]),
                expect.ColumnValuesToBeInSet(column="type", value_set=_RATE_TYPES),
                *[
                    expect.ColumnValuesToBeBetween(column=c, min_value=-1, max_value=25, description="percent")
                    for c in ("percent_rate", "percent_percentile1", "percent_percentile99")
                ],
                expect.ColumnValuesToBeInSet(
                    column="percentiles_ordered",
                    value_set=[True],
                    description="1st percentile <= 99th (the funding spread would be negative)",
                ),
                expect.ColumnValuesToBeInSet(
                    column="rate_in_middle_half",
                    value_set=[True],
                    severity=WARNING,
                    description="the rate (the volume-weighted median) sits between its 25th and 75th percentiles",
                ),
                expect.ColumnValuesToBeBetween(
                    column="volume_in_billions", min_value=0, max_value=10_000, description="$ billions a day"
                ),
                expect.ColumnPairValuesAToBeGreaterThanB(
                    column_A="target_rate_to", column_B="target_rate_from", ignore_row_if="either_value_is_missing"
                ),
            ],
        ),
        View(
            "secured_calendar",
            "select type, effective_date from {table} where type in ('SOFR', 'BGCR', 'TGCR')",
            ("type", "effective_date"),
            lambda columns: on_calendar(
                "on_business_day", [True], "secured rates exist on SIFMA business days", mostly=0.99
            ),
            flag_non_business_days("effective_date", "on_business_day"),
        ),
    ),
)

REPO_OPERATIONS = RawTableSuite(
    "funding_rates",
    "repo_operations",
    "operation_date",
    (
        View(
            "operations",
            """
            select o.operation_id, o.operation_date, o.operation_type, o.total_amt_submitted, o.total_amt_accepted,
                o.total_amt_accepted <= o.total_amt_submitted as accepted_within_submitted,
                coalesce(d.details_accepted, 0) - o.total_amt_accepted as details_minus_total_usd
            from {table} as o
            left join (
                select operation_id, sum(amt_accepted) as details_accepted
                from raw_funding_rates.repo_operation_details group by operation_id
            ) as d using (operation_id)
            """,
            ("operation_id",),
            lambda columns: [
                expect.ColumnValuesToBeUnique(column="operation_id"),
                expect.ColumnValuesToBeInSet(column="operation_type", value_set=["Repo", "Reverse Repo"]),
                expect.ColumnValuesToBeBetween(
                    column="total_amt_accepted", min_value=0, max_value=5e12, description="whole dollars"
                ),
                expect.ColumnValuesToBeInSet(
                    column="accepted_within_submitted",
                    value_set=[True],
                    severity=WARNING,
                    description="an operation accepts no more than was submitted",
                ),
                expect.ColumnValuesToBeBetween(
                    column="details_minus_total_usd",
                    min_value=0,
                    max_value=0,
                    severity=WARNING,
                    description="the details add up to the operation's total (the NY Fed's small value exercises "
                    "publish a zero total beside non-zero details); the marts read the total",
                ),
            ],
        ),
    ),
)

REPO_DETAILS = RawTableSuite(
    "funding_rates",
    "repo_operation_details",
    "operation_date",
    (
        View(
            "details",
            "select * exclude (_dlt_load_id) from {table}",
            ("operation_id", "security_type"),
            lambda columns: [
                expect.CompoundColumnsToBeUnique(column_list=["operation_id", "security_type"]),
                expect.ColumnValuesToBeInSet(
                    column="security_type",
                    value_set=["Treasury", "Agency", "Mortgage-Backed"],
                    severity=WARNING,
                    description="a new collateral type is reported; the marts read operation totals",
                ),
                expect.ColumnValuesToBeBetween(column="amt_accepted", min_value=0, description="whole dollars"),
                *[
                    expect.ColumnValuesToBeBetween(column=c, min_value=-1, max_value=25, description="percent")
                    for c in columns
                    if c.startswith("percent_") or c == "minimum_bid_rate"
                ],
            ],
        ),
    ),
)

REPO_PROPOSITIONS = RawTableSuite(
    "funding_rates",
    "repo_operation_propositions",
    "operation_date",
    (
        View(
            "propositions",
            "select operation_id, counterparty_type, amt_accepted from {table}",
            ("operation_id", "counterparty_type"),
            lambda columns: [
                expect.CompoundColumnsToBeUnique(column_list=["operation_id", "counterparty_type"]),
                expect.ColumnValuesToBeInSet(
                    column="counterparty_type",
                    value_set=["bank", "gse", "mmf", "pd"],
                    severity=WARNING,
                    description="a new counterparty type is reported",
                ),
                expect.ColumnValuesToBeBetween(column="amt_accepted", min_value=0, description="whole dollars"),
            ],
        ),
    ),
)


SUITES = (REFERENCE_RATES, REPO_OPERATIONS, REPO_DETAILS, REPO_PROPOSITIONS)
