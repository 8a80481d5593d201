"""The quality engine: runs a source's expectation suites (ingestion/<source>/expectations.py) with Great Expectations
1.x against the raw tables in DuckDB, and reports every failed expectation with how many rows broke it and examples
named by the record's key. Plain Python: the Dagster asset checks in defs/quality call `validate`, and the tests call
it directly."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

import duckdb

from ingestion.common.expectations import Expectation, RawTableSuite, expect

EXAMPLES = 20  # failing records named per expectation in the check's metadata


def _to_gx(expectation: Expectation) -> Any:
    """The declared expectation as a Great Expectations object (GX is imported only when a suite runs)."""
    import great_expectations.expectations as gxe

    return getattr(gxe, expectation.kind)(**expectation.arguments)


@dataclass
class ExpectationOutcome:
    view: str
    expectation: str
    columns: str
    success: bool
    rows_checked: int | None
    rows_failed: int | None
    observed: Any
    examples: list[dict[str, Any]]
    description: str | None
    blocking: bool = True
    key: tuple[str, ...] = ()  # the columns that name a record in `examples`

    def line(self) -> str:
        detail = (
            f"{self.rows_failed} of {self.rows_checked} rows"
            if self.rows_failed is not None
            else f"observed {self.observed}"
        )
        kind = "failed" if self.blocking else "warning"
        named = ", ".join(
            "/".join(str(v) for k, v in example.items() if k in self.key) or str(example)
            for example in self.examples[:10]
        )
        more = (self.rows_failed or 0) - min(len(self.examples), 10)
        return f"{self.view}: {self.expectation}({self.columns}) {kind}: {detail}" + (
            f": {named}{f' and {more} more' if more > 0 else ''}" if self.examples else ""
        )


@dataclass
class SuiteOutcome:
    suite: str
    rows: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """No blocking expectation failed (warnings may have)."""
        return not self.failed

    @property
    def failed(self) -> list[ExpectationOutcome]:
        """Blocking expectations that failed: the table must not reach the marts."""
        return [o for o in self.outcomes if not o.success and o.blocking]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        """Warning expectations that failed: publication artefacts, named, blocking nothing."""
        return [o for o in self.outcomes if not o.success and not o.blocking]


def _jsonable(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):  # DuckDB dates arrive in pandas as midnight timestamps
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, float) and value != value:
        return None  # NaN is not JSON
    return value


@cache
def _context():
    """One ephemeral GX context per process (each one makes a temporary docs folder)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.config.analytics_enabled = False  # no usage statistics sent
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def validate(con: duckdb.DuckDBPyConnection, suite: RawTableSuite, previous_rows: int | None = None) -> SuiteOutcome:
    """Run the suite against the raw table open on `con`. `previous_rows` is the row count before this load."""
    import great_expectations as gx
    from great_expectations.expectations.metadata_types import FailureSeverity

    context = _context()
    with suppress(KeyError, ValueError):
        context.data_sources.delete(suite.name)
    datasource = context.data_sources.add_pandas(suite.name)
    rows = con.execute(f"select count(*) from {suite.qualified}").fetchone()[0]
    outcome = SuiteOutcome(suite.name, rows)
    for index, view in enumerate(suite.views):
        frame = con.execute(view.sql.format(table=suite.qualified)).df()
        if view.derive:
            frame = view.derive(frame)
        expectation_suite = gx.ExpectationSuite(name=f"{suite.name}.{view.name}")
        expectations = [_to_gx(e) for e in view.expectations(list(frame.columns))]
        if index == 0 and previous_rows and suite.never_shrinks:
            expectations.append(
                _to_gx(
                    expect.TableRowCountToBeBetween(
                        min_value=previous_rows,
                        description="a merge load never loses rows: no fewer than before this load",
                    )
                )
            )
        for expectation in expectations:
            expectation_suite.add_expectation(expectation)
        batch = (
            datasource.add_dataframe_asset(view.name)
            .add_batch_definition_whole_dataframe("whole_table")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        result = batch.validate(
            expectation_suite,
            result_format={
                "result_format": "SUMMARY",
                "partial_unexpected_count": EXAMPLES,
                "unexpected_index_column_names": list(view.key),
            },
        )
        for r in result.results:
            config = r.expectation_config
            kwargs = config.kwargs
            columns = kwargs.get("column") or ",".join(str(kwargs[k]) for k in ("column_A", "column_B") if k in kwargs)
            details = r.result or {}
            outcome.outcomes.append(
                ExpectationOutcome(
                    view=view.name,
                    expectation=config.type,
                    columns=columns or "table",
                    success=bool(r.success),
                    rows_checked=details.get("element_count"),
                    rows_failed=details.get("unexpected_count"),
                    observed=_jsonable(details.get("observed_value")),
                    examples=_jsonable(details.get("partial_unexpected_index_list") or []),
                    description=config.description,
                    blocking=config.severity != FailureSeverity.WARNING,
                    key=view.key,
                )
            )
    return outcome
