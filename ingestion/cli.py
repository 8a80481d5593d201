"""`python -m ingestion ingest`: the dlt loads alone, no Dagster, no emulator.

The sources read their hosts from dlt's configuration, so pointing them at another server (the emulator started with
`treasury emulator`, a mirror) is `SOURCES__<NAME>__BASE_URL=...`. `treasury ingest` (dagster_project/runner/cli.py) is the
same command with `--sample`, which starts the emulator itself.
"""

from __future__ import annotations

import argparse
import logging
import sys
from contextlib import ExitStack
from datetime import date, datetime

from ingestion import settings
from ingestion.common.warehouse import Target
from ingestion.pipelines import PUBLIC_APIS, run_ingest
from ingestion.registry import NAMES


def parse_date(text: str) -> datetime:
    """`--as-of`: a date (its end) or a New York time, as TREASURY_AS_OF takes them."""
    try:
        return settings.parse_point_in_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a date (YYYY-MM-DD) nor a New York time (YYYY-MM-DDTHH:MM)"
        ) from exc


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        action="append",
        choices=NAMES,
        metavar="NAME",
        help=f"load only this source (repeatable): {', '.join(NAMES)}",
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="forget the incremental cursors and re-read the selected sources' whole history (tables are kept)",
    )


def add_location_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        type=parse_date,
        metavar="YYYY-MM-DD[THH:MM]",
        help=f"treat this date (its end) or New York time as now (also ${settings.AS_OF_ENV}): a source's data of a "
        "day is used only after its publication time that day",
    )
    parser.add_argument(
        "--warehouse",
        metavar="PATH",
        help=f"DuckDB file, or ducklake:<catalog> for a lake (also ${settings.WAREHOUSE_ENV})",
    )


def log_to_console(verbose: bool) -> logging.Handler:
    """The per-page progress lines of the sources (and dlt's own with -v) on stderr: shown with -v only."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    logging.getLogger("treasury").setLevel(logging.INFO)
    logging.getLogger("dlt").setLevel(logging.INFO if verbose else logging.WARNING)
    if verbose:
        logging.getLogger("treasury").addHandler(handler)
    return handler


def take_writer_lock(stack: ExitStack, warehouse: Target, scopes: tuple[str, ...] = ("build",)) -> bool:
    """Hold the warehouse's writer lock until `stack` closes; False (after printing one line) when another run
    writes the warehouse, or another program holds it open. On a PostgreSQL-catalog lake, one lock per scope."""
    from ingestion.common.lock import WarehouseBusy, check_not_open_elsewhere, writer_lock

    try:
        stack.enter_context(writer_lock(warehouse, scopes))
        check_not_open_elsewhere(warehouse)
    except WarehouseBusy as exc:
        print(f"treasury: {exc}", file=sys.stderr)
        return False
    except OSError as exc:  # a read-only folder, a full disk: the lock file cannot be made
        print(f"treasury: cannot write beside the warehouse {warehouse}: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def ingest(args: argparse.Namespace, warehouse: Target, as_of: date, hosts: str = PUBLIC_APIS) -> int:
    """Load the sources into `warehouse` as of `as_of` (one progress line each as it finishes), then print the
    summary table. On a PostgreSQL-catalog lake only the selected sources are locked: another process may load others."""
    from ingestion.common.lock import source_scope

    with ExitStack() as stack:
        if not take_writer_lock(stack, warehouse, tuple(source_scope(name) for name in (args.source or NAMES))):
            return 1
        summary = run_ingest(
            args.source or None,
            full_refresh=args.full_refresh,
            warehouse=warehouse,
            as_of=as_of,
            hosts=hosts,
            on_result=lambda result: print(f"  {result.line()}", file=sys.stderr, flush=True),
        )
    print(summary.render())
    return 0 if summary.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingestion", description="Load the public data sets with dlt.")
    parser.add_argument("-v", "--verbose", action="store_true", help="show each page as it is read, and dlt's log")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = sub.add_parser(
        "ingest",
        help="load the sources into the DuckDB warehouse",
        description="Load the sources into raw_<source> schemas of the warehouse "
        f"(${settings.WAREHOUSE_ENV}, default {settings.DEFAULT_WAREHOUSE}). Incremental unless --full-refresh. "
        "Hosts come from dlt's configuration (SOURCES__<NAME>__BASE_URL).",
    )
    add_ingest_arguments(command)
    add_location_arguments(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    settings.load_dotenv()
    args = build_parser().parse_args(argv)
    log_to_console(args.verbose)
    if not args.as_of:
        try:
            settings.as_of()  # a bad TREASURY_AS_OF: one line, not a traceback
        except ValueError as exc:
            print(f"ingestion: {exc}", file=sys.stderr)
            return 2
    try:
        warehouse = settings.warehouse(args.warehouse)
    except ValueError as exc:
        print(f"ingestion: {exc}", file=sys.stderr)
        return 2
    try:
        return ingest(args, warehouse, (args.as_of or settings.point_in_time()).date())
    except KeyboardInterrupt:
        print("ingestion: interrupted (Ctrl-C); a source that had not finished loaded nothing", file=sys.stderr)
        return 130
