"""The daily Treasury par yield curve from home.treasury.gov, one CSV per year.

Plain dlt, no Dagster; runnable on its own: `python -m ingestion ingest --source par_yield_curve`.

One row per business day (`curve_date`), merged on the date, with every tenor the source has ever
published (NULL where a tenor did not exist then). Incremental by year: the cursor is `curve_date`,
and each run re-reads the years from the latest loaded date's year to the as-of year, which in steady
state is the current year only. The look-back lag reaches back to 1 January of the as-of year, so
every row of the re-read year passes the cursor filter and a value Treasury corrects is merged too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import dlt
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.common.errors import SourceDataError
from ingestion.common.http import http_errors, log, make_session
from ingestion.common.records import DECIMAL_TYPE, DriftReport, schema_for_first_load
from ingestion.common.source import Source
from ingestion.par_yield_curve import expectations, releases
from ingestion.par_yield_curve.parser import TENOR_COLUMNS, parse_csv

NAME = "par_yield_curve"
HISTORY_START = date(1990, 1, 1)
CSV_PATH = "daily-treasury-rates.csv/{year}/all"


def year_url(base_url: str, year: int) -> tuple[str, dict[str, str]]:
    return (
        f"{base_url.rstrip('/')}/{CSV_PATH.format(year=year)}",
        {"type": "daily_treasury_yield_curve", "field_tdr_date_value": str(year), "page": "", "_format": "csv"},
    )


@dlt.source(name=NAME)
def par_yield_curve(
    as_of: date,
    base_url: str = dlt.config.value,
    drift: DriftReport | None = None,
):
    """The par yield curve, year by year up to the as-of year."""
    end = as_of
    drift = drift if drift is not None else DriftReport()
    days_into_year = (end - date(end.year, 1, 1)).days

    @dlt.resource(
        name="daily_par_yields",
        primary_key="curve_date",
        write_disposition="merge",
        columns={"curve_date": {"nullable": False}},
    )
    def daily_par_yields(
        curve_date=dlt.sources.incremental("curve_date", initial_value=HISTORY_START, lag=days_into_year),
    ) -> Iterator[pa.Table]:
        session = make_session()
        first_year = curve_date.start_value.year
        loaded, table = 0, None
        for year in range(first_year, end.year + 1):
            url, params = year_url(base_url, year)
            with http_errors(f"{NAME}.daily_par_yields", url):
                response = session.get(url, params=params)
            table = parse_csv(
                response.text, source=f"{NAME}.daily_par_yields", where=f"year {year} ({response.url})", drift=drift
            )
            other_years = table.filter(pc.not_equal(pc.year(table["curve_date"]), year))["curve_date"].to_pylist()
            if other_years:
                raise SourceDataError(
                    f"{NAME}.daily_par_yields",
                    f"year {year} ({response.url})",
                    f"{len(other_years)} row(s) dated outside {year}: {', '.join(map(str, other_years[:5]))}",
                )
            # The file holds the whole year; a run as of an earlier day keeps the days up to it.
            table = table.filter(pc.less_equal(table["curve_date"], pa.scalar(end, pa.date32())))
            loaded += table.num_rows
            log.info("%s.daily_par_yields: year %d, %d rows (%d so far)", NAME, year, table.num_rows, loaded)
            if table.num_rows:
                yield table
        if not loaded:
            # No year requested (an as-of date before 1990) or no row in it: the table with every tenor column.
            empty = pa.schema(
                [pa.field("curve_date", pa.date32(), nullable=False)]
                + [pa.field(column, DECIMAL_TYPE) for column in TENOR_COLUMNS]
            ).empty_table()
            yield from schema_for_first_load(["daily_par_yields"], empty)

    return daily_par_yields


SOURCE = Source(
    name=NAME,
    summary="the daily par yield curve (Treasury)",
    dlt_source=par_yield_curve,
    suites=expectations.SUITES,
    assess=releases.assess,
    refresh=releases.REFRESH,
    published_at=releases.PUBLISHED_AT,
)
