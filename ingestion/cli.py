"""`treasury`: the project's command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import ExitStack
from datetime import date
from pathlib import Path

from ingestion import settings


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def _progress_handler(verbose: bool) -> logging.Handler:
    """Progress lines (per source, per page or year, with counts) on stderr; dlt's own lines with -v."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    logging.getLogger("treasury").setLevel(logging.INFO)
    logging.getLogger("dlt").setLevel(logging.INFO if verbose else logging.WARNING)
    return handler


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingestion.pipelines import run_ingest

    if args.warehouse:
        os.environ[settings.WAREHOUSE_ENV] = str(args.warehouse)
    with ExitStack() as stack:
        if not _take_writer_lock(stack):
            return 1
        summary = run_ingest(
            args.source or None,
            sample=True if args.sample else None,
            full_refresh=args.full_refresh,
            as_of=args.as_of,
            on_source=lambda name: print(f"==> {name}", file=sys.stderr, flush=True),
        )
    print(summary.render())
    return 0 if summary.ok else 1


def _take_writer_lock(stack: ExitStack) -> bool:
    """Hold the warehouse's writer lock until `stack` closes; False (after printing one line) when another run
    writes the warehouse, or another program holds it open."""
    from ingestion.common.lock import WarehouseBusy, check_not_open_elsewhere, writer_lock

    warehouse = settings.warehouse_path()
    try:
        stack.enter_context(writer_lock(warehouse))
        check_not_open_elsewhere(warehouse)
    except WarehouseBusy as exc:
        print(f"treasury: {exc}", file=sys.stderr)
        return False
    return True


def _apply_run_options(args: argparse.Namespace) -> None:
    """Options become the environment the Dagster definitions read (one variable per concept)."""
    if getattr(args, "warehouse", None):
        os.environ[settings.WAREHOUSE_ENV] = str(args.warehouse)
    if getattr(args, "sample", False):
        os.environ[settings.SAMPLE_ENV] = "1"
    if getattr(args, "as_of", None):
        os.environ[settings.AS_OF_ENV] = args.as_of.isoformat()


def cmd_build(args: argparse.Namespace) -> int:
    """The Dagster job in-process: the same assets, checks and publish step as a run launched from the UI."""
    _apply_run_options(args)
    from dagster_project.run import ensure_dagster_home, run_pipeline

    with ExitStack() as stack:
        if not _take_writer_lock(stack):
            return 1
        if args.full_refresh:
            from ingestion.pipelines import run_ingest

            summary = run_ingest(
                None, full_refresh=True, on_source=lambda name: print(f"==> full refresh {name}", file=sys.stderr)
            )
            print(summary.render())
            if not summary.ok:
                return 1
        os.environ["DAGSTER_HOME"] = str(ensure_dagster_home(_dagster_home()))
        result = run_pipeline(log_level="DEBUG" if args.verbose else "INFO")
    print(result.render())
    return 0 if result.success else 1


def _dagster_home() -> Path | None:
    """DAGSTER_HOME when set, else None (the project's .dagster_home)."""
    return Path(os.environ["DAGSTER_HOME"]).resolve() if os.environ.get("DAGSTER_HOME") else None


def cmd_dev(args: argparse.Namespace) -> int:
    """`dg dev` with this project's environment, on 127.0.0.1."""
    import shutil
    import subprocess

    from dagster_project.run import PROJECT_ROOT, ensure_dagster_home

    _apply_run_options(args)
    home = ensure_dagster_home(_dagster_home())
    env = dict(os.environ, DAGSTER_HOME=str(home), DAGSTER_DISABLE_TELEMETRY="1")
    env[settings.WAREHOUSE_ENV] = str(settings.warehouse_path().resolve())
    env[settings.SERVING_ENV] = str(settings.serving_path().resolve())
    dg_cli = shutil.which("dg") or str(Path(sys.executable).with_name("dg"))
    command = [dg_cli, "dev", "--host", args.host, "--port", str(args.port)]
    print(
        f"Dagster UI on http://{args.host}:{args.port} ({'sample mode' if args.sample else 'public APIs'}; "
        f"warehouse {env[settings.WAREHOUSE_ENV]}; run history in {home}); Ctrl-C to stop.",
        flush=True,
    )
    return subprocess.call(command, cwd=PROJECT_ROOT, env=env)


def cmd_emulator(args: argparse.Namespace) -> int:
    import time

    from ingestion.emulator.server import Emulator, base_urls, serve

    emulator = Emulator(as_of=args.as_of or settings.as_of())
    with serve(emulator, port=args.port, host="127.0.0.1") as root:
        print(f"API emulator (synthetic sample data, as of {emulator.as_of}) listening on {root}")
        for name, url in base_urls(root).items():
            print(f"  {name}: SOURCES__{name.upper()}__BASE_URL={url}")
        print("Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """--sample, --as-of and --warehouse: the same three settings for ingest, build and dev."""
    parser.add_argument(
        "--sample",
        action="store_true",
        help=f"use the built-in API emulator (synthetic data; also ${settings.SAMPLE_ENV}=1)",
    )
    parser.add_argument(
        "--as-of", type=_date, metavar="YYYY-MM-DD", help=f"treat this date as today (also ${settings.AS_OF_ENV})"
    )
    parser.add_argument("--warehouse", type=Path, metavar="PATH", help=f"DuckDB file (also ${settings.WAREHOUSE_ENV})")


def build_parser() -> argparse.ArgumentParser:
    from ingestion.pipelines import SOURCE_NAMES

    parser = argparse.ArgumentParser(prog="treasury", description="US Treasury market stress warehouse.")
    parser.add_argument("-v", "--verbose", action="store_true", help="show dlt's own log lines as well")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = sub.add_parser(
        "ingest",
        help="load the public data sets into the DuckDB warehouse with dlt",
        description="Load the sources into raw_<source> schemas of the warehouse "
        f"(${settings.WAREHOUSE_ENV}, default {settings.DEFAULT_WAREHOUSE}). Incremental unless --full-refresh.",
    )
    ingest.add_argument(
        "--source",
        action="append",
        choices=SOURCE_NAMES,
        metavar="NAME",
        help=f"load only this source (repeatable): {', '.join(SOURCE_NAMES)}",
    )
    ingest.add_argument(
        "--full-refresh",
        action="store_true",
        help="drop the selected sources' tables and state, then reload full history",
    )
    _add_run_options(ingest)
    ingest.set_defaults(func=cmd_ingest)

    build_cmd = sub.add_parser(
        "build",
        help="run the whole pipeline as the Dagster job, in-process",
        description="Materialize every asset in-process through Dagster: ingest all sources, dbt build (seeds, "
        "models, data tests as asset checks), then publish the serving file if every check passed. Prints a "
        "summary (rows per mart, checks, serving file written or kept); exits 1 if anything failed.",
    )
    build_cmd.add_argument(
        "--full-refresh", action="store_true", help="reload the sources' full history before building"
    )
    _add_run_options(build_cmd)
    build_cmd.set_defaults(func=cmd_build)

    dev = sub.add_parser(
        "dev",
        help="start the Dagster UI (dg dev) for this project",
        description="Start `dg dev` with DAGSTER_HOME in the project (.dagster_home, run history kept) on 127.0.0.1.",
    )
    _add_run_options(dev)
    dev.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    dev.set_defaults(func=cmd_dev)

    emulator = sub.add_parser(
        "emulator",
        help="serve the API emulator on a loopback port",
        description="Serve the synthetic FiscalData and yield-curve endpoints on 127.0.0.1, for pointing any client at.",
    )
    emulator.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0 picks a free one)")
    emulator.add_argument(
        "--as-of", type=_date, metavar="YYYY-MM-DD", help="last date of the synthetic history (default today)"
    )
    emulator.set_defaults(func=cmd_emulator)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = _progress_handler(args.verbose)
    logger = logging.getLogger("treasury")
    logger.addHandler(handler)
    try:
        return args.func(args)
    finally:
        logger.removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
