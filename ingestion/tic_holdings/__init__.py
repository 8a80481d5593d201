"""TIC Major Foreign Holders of Treasury Securities: the current table and the history file.

Plain dlt, no Dagster; runnable on its own: `python -m ingestion ingest --source tic_holdings`.

Both text files are fetched on every run (they are small) and parsed into one row per month x line:
countries, "All Other", "Grand Total" and the foreign-official memo lines, each marked in `row_type`.
Where both files cover a month, the current table wins. The old-series "for comparison only" column
of a survey series break is kept apart (`is_comparison_series`). Key: (month_end, country,
is_comparison_series).

Point in time: the files have no query, so the months TIC had not yet published by the as-of date (month M
comes out around the 18th of M+2, `ingestion.calendar.tic_expected_release`) are dropped after the fetch.
Values revised after the as-of date cannot be told apart: the files carry only their latest vintage.

Revisions are never lost. TIC's annual benchmark revisions rewrite a year of history. The revised
value replaces the old one in `major_foreign_holders`, and `major_foreign_holders_vintages` keeps
every value ever seen (see `ingestion.common.vintages`).

Each fetch is a complete publication: `major_foreign_holders` is replaced by it, and in the vintages a value
that changed or vanished from a month the files hold is retired. A valid but truncated publication (covering
less history than the last load) is refused rather than retiring history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, datetime

import dlt
import pyarrow as pa

from ingestion.common.errors import SourceDataError
from ingestion.common.http import http_errors, log, make_session
from ingestion.common.records import DECIMAL_TYPE
from ingestion.common.source import Source
from ingestion.common.vintages import ROW_HASH, current_and_vintages
from ingestion.settings import NEW_YORK
from ingestion.tic_holdings import expectations, releases
from ingestion.tic_holdings.parser import Holding, combine, parse_current, parse_history

NAME = "tic_holdings"
KEY = ("month_end", "country", "is_comparison_series")

SCHEMA = pa.schema(
    [
        pa.field("month_end", pa.date32(), nullable=False),
        pa.field("country", pa.string(), nullable=False),
        pa.field("is_comparison_series", pa.bool_(), nullable=False),
        pa.field("row_type", pa.string(), nullable=False),
        pa.field("holdings_bn", DECIMAL_TYPE),
        pa.field("value_flag", pa.string()),
        pa.field("label_as_published", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_line", pa.int64(), nullable=False),
        pa.field("file_release_date", pa.date32()),
        pa.field(ROW_HASH, pa.string(), nullable=False),
    ]
)


def _version(h: Holding) -> str:
    # The value a row states, not where it was read from: a month moving from the current table to
    # the history file unchanged is the same vintage.
    text = f"{h.month_end}|{h.country}|{h.is_comparison_series}|{h.holdings_bn}|{h.value_flag}"
    return hashlib.sha1(text.encode()).hexdigest()


def to_table(holdings: list[Holding], release_dates: dict[str, object]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "month_end": h.month_end,
                "country": h.country,
                "is_comparison_series": h.is_comparison_series,
                "row_type": h.row_type,
                "holdings_bn": h.holdings_bn,
                "value_flag": h.value_flag,
                "label_as_published": h.label_as_published,
                "source_file": h.source_file,
                "source_line": h.line_no,
                "file_release_date": release_dates.get(h.source_file),
                ROW_HASH: _version(h),
            }
            for h in holdings
        ],
        schema=SCHEMA,
    )


# A publication covering less than this share of the months the last one covered is taken as incomplete.
MIN_COVERAGE = 0.9


def _check_complete(rows: list[Holding], state: dict, resource: str, where: str) -> None:
    """Refuse a valid but truncated publication (it would retire most of the history), comparing the months the
    files cover with those of the last load (kept in dlt's resource state, in the warehouse)."""
    months = sorted({h.month_end for h in rows})
    if not months:
        raise SourceDataError(resource, where, "the files hold no month at all")
    last = state.get("coverage")
    if last and (months[0].isoformat() > last["first"] or len(months) < MIN_COVERAGE * last["months"]):
        raise SourceDataError(
            resource,
            where,
            f"incomplete publication: the files cover {months[0]:%Y-%m} to {months[-1]:%Y-%m} ({len(months)} months), "
            f"the last load covered {last['first'][:7]} to {last['last'][:7]} ({last['months']} months); "
            "nothing is loaded and no history retired",
        )
    state["coverage"] = {"first": months[0].isoformat(), "last": months[-1].isoformat(), "months": len(months)}


@dlt.source(name=NAME)
def tic_holdings(
    as_of: date,
    base_url: str = dlt.config.value,
    current_file: str = "slt_table5.txt",
    history_file: str = "mfhhis01.txt",
):
    """Major foreign holders published by `as_of`: current values per (month, country) and every vintage."""
    resource = f"{NAME}.major_foreign_holders"
    end = as_of

    def fetch(name: str) -> tuple[str, str]:
        url = f"{base_url.rstrip('/')}/{name}"
        with http_errors(resource, url):
            response = make_session().get(url)
        # The files are ASCII/Latin-1 exports; do not let requests guess.
        return response.content.decode("utf-8", errors="replace"), response.url

    @dlt.resource(name="tic_files", selected=False)
    def tic_files() -> Iterator[pa.Table]:
        text, url = fetch(current_file)
        current = parse_current(text, source=resource, where=f"{current_file} ({url})", source_file=current_file)
        log.info("%s: %s, %d values", resource, current_file, len(current.holdings))
        text, url = fetch(history_file)
        history = parse_history(text, source=resource, where=f"{history_file} ({url})", source_file=history_file)
        log.info("%s: %s, %d values, released %s", resource, history_file, len(history.holdings), history.release_date)
        rows = combine(current, history)
        log.info("%s: %d rows after the current table overrides the history", resource, len(rows))
        # A month that has not ended by today (the real clock, not the as-of date) cannot have been published.
        today = datetime.now(NEW_YORK).date()
        impossible = sorted({h.month_end for h in rows if h.month_end > today})
        if impossible:
            raise SourceDataError(
                resource,
                f"{current_file} and {history_file}",
                f"month(s) after today ({today}): {', '.join(f'{m:%Y-%m}' for m in impossible[:5])}",
            )
        _check_complete(rows, dlt.current.resource_state(), resource, f"{current_file} and {history_file}")
        published = [h for h in rows if releases.expected_release(h.month_end) <= end]
        if len(published) < len(rows):
            unpublished = sorted({h.month_end for h in rows} - {h.month_end for h in published})
            log.info(
                "%s: %d rows of %s left out: not yet published as of %s",
                resource,
                len(rows) - len(published),
                ", ".join(f"{m:%Y-%m}" for m in unpublished),
                end,
            )
        rows = published
        yield to_table(rows, {history_file: history.release_date})

    columns = {k: {"nullable": False} for k in KEY}
    # Each fetch is the complete publication: the current table is replaced by it (a line TIC dropped is gone), and
    # the vintages of the months it holds are retired where a value changed or vanished (merge key month_end, so a
    # run as of an earlier date, which holds fewer months, ends no vintage of the later ones).
    current, vintages = current_and_vintages(
        tic_files,
        "major_foreign_holders",
        primary_key=KEY,
        merge_key="month_end",
        columns=columns,
        current_disposition="replace",
    )
    return tic_files, current, vintages


SOURCE = Source(
    name=NAME,
    summary="TIC major foreign holders of Treasuries (Treasury text files)",
    dlt_source=tic_holdings,
    suites=expectations.SUITES,
    assess=releases.assess,
    refresh=releases.REFRESH,
    published_at=releases.PUBLISHED_AT,
    cutoffs=releases.cutoffs,
    reports_drift=False,  # fixed-layout text files: an unknown line is an error, not drift
)
