"""`treasury`: the project's command line (ingest, build, dev, emulator).

Sample mode is only a base URL: `--sample` (or TREASURY_SAMPLE=1) starts the built-in API emulator on a loopback
port, once per command (a thread of the command, `dev` included), and points every source at it
through dlt's configuration (`SOURCES__<NAME>__BASE_URL`). The loading code never knows the difference.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ingestion import settings
from ingestion.cli import (
    add_ingest_arguments,
    add_location_arguments,
    ingest,
    log_to_console,
    parse_date,
    take_writer_lock,
)
from ingestion.registry import SOURCES

if TYPE_CHECKING:  # Dagster is imported by the commands that run it: `treasury --help` stays quick
    from dagster_project.lib.warehouse import Warehouse

SAMPLE_LABEL = "SAMPLE DATA (built-in emulator, synthetic)"


def sample_label() -> str:
    """SAMPLE_LABEL, with the emulator's scale when it serves more than the sample (TREASURY_SAMPLE_SCALE)."""
    from emulator.server import default_scale

    try:
        scale = default_scale()
    except ValueError as exc:
        raise UserMistake(str(exc)) from exc
    return SAMPLE_LABEL if scale == 1 else SAMPLE_LABEL.replace("synthetic", f"synthetic, {scale}x the contracts")


def base_url_variable(source: str) -> str:
    """The dlt configuration variable that holds a source's host."""
    return f"SOURCES__{source.upper()}__BASE_URL"


@contextmanager
def sample_hosts(moment: datetime) -> Iterator[dict[str, str]]:
    """Serve the emulator in a thread for the duration and point every source at it, as of `moment` (what each source
    had published by then); yields the base URLs."""
    from emulator.server import Emulator, base_urls, serve

    with (
        serve(Emulator(as_of=moment.date(), clock=moment.time())) as root,
        _environment(sample_environment(base_urls(root))),
    ):
        yield base_urls(root)


def _release_sample_caches() -> None:
    """After the loads, the emulator (in this process) keeps nothing: the transform runs without its data sets."""
    if "emulator.server" in sys.modules:
        sys.modules["emulator.server"].release_caches()


def sample_environment(urls: dict[str, str]) -> dict[str, str]:
    return {**{base_url_variable(source): url for source, url in urls.items()}, settings.SAMPLE_ENV: "1"}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_settings(args: argparse.Namespace) -> Warehouse:
    """The run settings of this command, from its flags and the environment, parsed once: what every step reads."""
    from dagster_project.lib.warehouse import Warehouse

    return Warehouse.for_build(getattr(args, "warehouse", None), getattr(args, "as_of", None), sample=_sample(args))


def _sample(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "sample", False)) or settings.sample_mode()


def cmd_ingest(args: argparse.Namespace) -> int:
    run = _run_settings(args)
    hosts = sample_label() if run.sample else "public APIs"
    with ExitStack() as stack:
        if run.sample:
            stack.enter_context(sample_hosts(run.point_in_time))
        return ingest(args, run.target, run.as_of_date, hosts=hosts)


def cmd_build(args: argparse.Namespace) -> int:
    """The Dagster job in-process: the same assets, checks and publish step as a run launched from the UI."""
    from dagster_project.lib.progress import Progress
    from dagster_project.runner.build import ensure_dagster_home, log_file_path, run_pipeline

    run = _run_settings(args)
    home = ensure_dagster_home(_dagster_home())
    log_path = log_file_path(run.folder)
    print(
        f"Building {run.target} from {sample_label() if run.sample else 'the public APIs'}, "
        f"as of {run.as_of_label} (run history in {home})",
        flush=True,
    )
    with ExitStack() as stack:
        if not take_writer_lock(stack, run.target):
            return 1
        if run.sample:
            stack.enter_context(sample_hosts(run.point_in_time))
        stack.enter_context(_environment({"DAGSTER_HOME": str(home)}))
        if args.full_refresh:
            from ingestion.pipelines import run_ingest

            summary = run_ingest(
                None,
                full_refresh=True,
                warehouse=run.target,
                as_of=run.as_of_date,
                on_result=lambda result: print(f"  full refresh {result.line()}", flush=True),
            )
            if not summary.ok:
                print(summary.render())
                return 1
        stack.enter_context(_child_stderr_to(log_path))
        with Progress() as progress:
            result = run_pipeline(
                run, verbose=args.verbose, log_path=log_path, progress=progress, after_ingest=_release_sample_caches
            )
    print(result.render())
    return 0 if result.success else 1


@contextmanager
def _child_stderr_to(log_path: Path) -> Iterator[None]:
    """Send what child processes write to stderr (Dagster's log tailers, which print a traceback of their own when
    Ctrl-C reaches the whole process group) to the build's log file; this process keeps the terminal's stderr."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    previous = sys.stderr
    with log_path.open("a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 2)
        sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")
        try:
            yield
        finally:
            sys.stderr.close()
            sys.stderr = previous
            os.dup2(saved, 2)
            os.close(saved)


def _dagster_home() -> Path | None:
    """DAGSTER_HOME when set, else None (the project's .dagster_home)."""
    return Path(os.environ["DAGSTER_HOME"]).resolve() if os.environ.get("DAGSTER_HOME") else None


def cmd_dev(args: argparse.Namespace) -> int:
    """`dg dev` with this project's environment, on 127.0.0.1; with --sample, the emulator in a thread beside it."""
    import shutil

    from dagster_project.runner.build import PROJECT_ROOT, ensure_dagster_home

    run = _run_settings(args)
    home = ensure_dagster_home(_dagster_home())
    # The UI's code server builds its Warehouse resource from these (its runs' default settings).
    env = dict(os.environ, DAGSTER_HOME=str(home), DAGSTER_DISABLE_TELEMETRY="1")
    env[settings.WAREHOUSE_ENV] = run.path
    env[settings.SERVING_ENV] = run.serving_path
    if getattr(args, "as_of", None):
        env[settings.AS_OF_ENV] = run.as_of  # else unset: each run of a long-lived UI is as of when it starts
    with ExitStack() as stack:
        if run.sample:
            # The emulator in a thread of this process, which stays up while `dg dev` runs: its URLs are known here,
            # not read back from another process's output.
            from emulator.server import Emulator, base_urls, serve

            # Without --as-of it serves live: what each source had published at the time of each request.
            moment = run.point_in_time
            fixed = getattr(args, "as_of", None) or settings.configured_point_in_time()
            emulator = Emulator(as_of=moment.date(), clock=moment.time() if fixed else None)
            root = stack.enter_context(serve(emulator))
            env.update(sample_environment(base_urls(root)))
        dg_cli = shutil.which("dg") or str(Path(sys.executable).with_name("dg"))
        command = [dg_cli, "dev", "--host", args.host, "--port", str(args.port)]
        print(
            f"Dagster UI on http://{args.host}:{args.port} ({'sample mode' if run.sample else 'public APIs'}; "
            f"warehouse {run.target}; run history in {home}); Ctrl-C to stop.",
            flush=True,
        )
        # dg dev runs in its own process group, which this process stops as a whole: on Ctrl-C or SIGTERM it gets
        # one Ctrl-C (SIGINT) for all of it (webserver, daemon, code servers), then time to shut down. A terminal's
        # Ctrl-C would reach it anyway; a service manager's SIGTERM to this process alone would not, and dg dev
        # stopped on its own leaves its code servers running until their heartbeat times out.
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, start_new_session=True)

        def interrupt(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, interrupt)
        try:
            return process.wait()
        except KeyboardInterrupt:
            _stop_group(process, grace_seconds=30)
            raise


def _group_members(group: int) -> list[int]:
    """The live processes of a process group (Linux's /proc; zombies left out: they are gone, only not yet reaped by
    a parent). Elsewhere, whether the group has any process at all."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [group]
    members = []
    for stat in proc.glob("[0-9]*/stat"):
        with suppress(OSError, ValueError, IndexError):
            # pid (comm) state ppid pgrp ...: the command may hold spaces and parentheses, so split after its last ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] != "Z":
                members.append(int(stat.parent.name))
    return members


def _stop_group(process: subprocess.Popen, grace_seconds: float) -> None:
    """Stop a child that leads its own process group, and everything in that group: Ctrl-C (SIGINT) to the group,
    time to shut down, then SIGTERM and at last SIGKILL to whatever of the group is left. The child ending is not
    enough: dagster dev takes a second interrupt (SIGTERM is one) as leave to exit at once, leaving its webserver,
    daemon and code servers running, holding the terminal's (or a test's) output open."""
    group = process.pid
    for sent in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(group, sent)
        deadline = time.monotonic() + grace_seconds
        try:
            while time.monotonic() < deadline:
                with suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.5)  # reaps the child itself
                if process.returncode is not None and not _group_members(group):
                    return
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting politely
            continue


def cmd_emulator(args: argparse.Namespace) -> int:
    from emulator.server import Emulator, base_urls, serve

    given = args.as_of or settings.configured_point_in_time()
    emulator = Emulator(as_of=given.date(), clock=given.time()) if given else Emulator(clock=None)
    with serve(emulator, port=args.port, host="127.0.0.1") as root:
        label = settings.describe_point_in_time(given) if given else "now, live"
        print(f"API emulator (synthetic sample data, as of {label}) listening on {root}")
        for name, url in base_urls(root).items():
            print(f"  {base_url_variable(name)}={url}")
        print("Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The path of the last stress report (and open it with --open)."""
    from dagster_project.report.page import report_dir

    serving = Path(args.serving).absolute() if args.serving else settings.serving_path()
    path = report_dir(serving) / "index.html"
    if not path.exists():
        print(f"no report at {path}: `treasury build` writes it after publishing the serving file", file=sys.stderr)
        return 1
    print(path)
    if args.open:
        import webbrowser

        if not webbrowser.open(path.as_uri()):
            print("no browser found to open it; open the path above", file=sys.stderr)
            return 1
    return 0


def _lake_or_mistake(args: argparse.Namespace):
    from ingestion.common.lake import Lake

    target = settings.warehouse(getattr(args, "warehouse", None))
    return target if isinstance(target, Lake) else None


def cmd_snapshots(args: argparse.Namespace) -> int:
    """The published builds of a lake: one line each, oldest first, and how to read one as it was."""
    from dagster_project.lib.snapshots import published_builds

    lake = _lake_or_mistake(args)
    if lake is None:
        raise UserMistake(
            f"snapshots are kept by a lake only; {settings.warehouse(getattr(args, 'warehouse', None))} is a DuckDB "
            f"file (its published state is the serving file). Set {settings.WAREHOUSE_ENV}=ducklake:<catalog>."
        )
    builds = published_builds(lake)
    print(f"Published builds of {lake}")
    if not builds:
        print("  none yet (a build publishes when its checks pass)")
        return 0
    print(
        f"  {'snapshot':>8}  {'as of':<10}  {'published (UTC)':<19}  {'run':<8}  {'tables':>6}  {'held back':>9}  {'mart rows':>11}"
    )
    for b in builds:
        print(
            f"  {b.snapshot_id:>8}  {b.as_of.isoformat():<10}  {b.published_at:%Y-%m-%d %H:%M:%S}  {b.run_id[:8]:<8}  "
            f"{b.tables:>6}  {b.held_back:>9}  {b.mart_rows:>11,}"
        )
    latest = builds[-1].snapshot_id
    print()
    print(f"Read a published build as it was (here the latest, {latest}), from any DuckDB with the extensions:")
    print(f"  {lake.attach_sql(read_only=True, snapshot=latest)};")
    print(f"  or, in a session with the lake attached: select ... from marts.fct_auctions at (version => {latest});")
    print(f"Export it as Parquet: treasury export --format parquet DIR --snapshot {latest}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """The marts of a published build as Parquet files with a manifest."""
    from dagster_project.lib.export import ExportError, export_parquet

    lake = _lake_or_mistake(args)
    if lake is None and args.snapshot is not None:
        raise UserMistake(
            "--snapshot needs a lake (TREASURY_WAREHOUSE=ducklake:...); a DuckDB file exports its serving file"
        )
    target = settings.warehouse(getattr(args, "warehouse", None))
    serving = settings.serving_path(target.parent if lake is None else None)
    try:
        exported = export_parquet(
            Path(args.folder), lake=lake, serving=serving, snapshot=args.snapshot, overwrite=args.overwrite
        )
    except ExportError as exc:
        raise UserMistake(str(exc)) from exc
    what = f"snapshot {exported.snapshot_id} of {lake}" if lake is not None else str(serving)
    print(f"Exported {len(exported.tables)} marts ({sum(exported.tables.values()):,} rows) from {what}")
    print(f"  to {exported.folder} (manifest.json lists the files, rows, columns and checksums)")
    return 0


def _add_sample_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sample",
        action="store_true",
        help=f"use the built-in API emulator (synthetic data; also ${settings.SAMPLE_ENV}=1)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="treasury", description="US Treasury market stress warehouse.")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show Dagster's, dbt's and dlt's own lines live as well"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # -v is accepted after the subcommand too (`treasury build --sample -v`); SUPPRESS keeps a -v given before it.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="show Dagster's, dbt's and dlt's lines"
    )

    ingest_cmd = sub.add_parser(
        "ingest",
        parents=[verbose],
        help="load the public data sets into the DuckDB warehouse with dlt",
        description="Load the sources into raw_<source> schemas of the warehouse "
        f"(${settings.WAREHOUSE_ENV}, default {settings.DEFAULT_WAREHOUSE}). Incremental unless --full-refresh.",
    )
    add_ingest_arguments(ingest_cmd)
    _add_sample_option(ingest_cmd)
    add_location_arguments(ingest_cmd)
    ingest_cmd.set_defaults(func=cmd_ingest)

    build_cmd = sub.add_parser(
        "build",
        parents=[verbose],
        help="run the whole pipeline as the Dagster job, in-process",
        description="Materialize every asset in-process through Dagster: ingest all sources, dbt build (seeds, "
        "models, data and unit tests as asset checks), then publish the serving file if every check passed. Shows a "
        "line per step, then a summary (rows per mart, checks, serving file written or kept, the log file); the run "
        "is recorded in DAGSTER_HOME, so `treasury dev` shows it. Exits 1 if anything failed.",
    )
    build_cmd.add_argument(
        "--full-refresh", action="store_true", help="reload the sources' full history before building"
    )
    _add_sample_option(build_cmd)
    add_location_arguments(build_cmd)
    build_cmd.set_defaults(func=cmd_build)

    dev = sub.add_parser(
        "dev",
        parents=[verbose],
        help="start the Dagster UI (dg dev) for this project",
        description="Start `dg dev` with DAGSTER_HOME in the project (.dagster_home, run history kept) on 127.0.0.1.",
    )
    _add_sample_option(dev)
    add_location_arguments(dev)
    dev.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    dev.set_defaults(func=cmd_dev)

    emulator = sub.add_parser(
        "emulator",
        parents=[verbose],
        help="serve the API emulator on a loopback port",
        description="Serve the synthetic endpoints of every source on 127.0.0.1 ("
        + "; ".join(f"{source.name}: {source.summary}" for source in SOURCES.values())
        + "), for pointing any client at (it prints the SOURCES__<NAME>__BASE_URL settings to use).",
    )
    emulator.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0 picks a free one)")
    emulator.add_argument(
        "--as-of",
        type=parse_date,
        metavar="YYYY-MM-DD[THH:MM]",
        help="serve what was published by this date's end or New York time (default: live, the time of each request)",
    )
    emulator.set_defaults(func=cmd_emulator)

    report_cmd = sub.add_parser(
        "report",
        parents=[verbose],
        help="print the path of the last weekly stress report (--open: open it)",
        description="Print the path of the last stress report that `treasury build` wrote (data/report/index.html, "
        "$TREASURY_REPORT_DIR): one HTML file that opens offline, with a PNG per chart beside it.",
    )
    report_cmd.add_argument("--open", action="store_true", help="open it in the default browser")
    report_cmd.add_argument(
        "--serving", metavar="PATH", help="the serving file the report sits beside ($TREASURY_SERVING)"
    )
    report_cmd.set_defaults(func=cmd_report)

    snapshots_cmd = sub.add_parser(
        "snapshots",
        parents=[verbose],
        help="list the published builds of a lake (each a snapshot that can be read as it was)",
        description="List the builds published on the DuckLake warehouse (TREASURY_WAREHOUSE=ducklake:...): "
        "snapshot id, as-of date, when, run, tables, held back, mart rows; and how to read one as it was.",
    )
    snapshots_cmd.add_argument("--warehouse", metavar="PATH", help=f"the lake (also ${settings.WAREHOUSE_ENV})")
    snapshots_cmd.set_defaults(func=cmd_snapshots)

    export_cmd = sub.add_parser(
        "export",
        parents=[verbose],
        help="write the marts of a published build as Parquet files with a manifest",
        description="Write every mart of a published build to FOLDER as <mart>.parquet, with manifest.json (rows, "
        "columns with their dbt descriptions, SHA-256 of each file). On a lake: the latest published snapshot, or "
        "--snapshot N; on a DuckDB file: the serving file.",
    )
    export_cmd.add_argument("--format", choices=["parquet"], default="parquet", help="the file format (parquet)")
    export_cmd.add_argument("folder", metavar="FOLDER", help="a new folder to write")
    export_cmd.add_argument(
        "--snapshot", type=int, metavar="N", help="a published snapshot of the lake (default: latest)"
    )
    export_cmd.add_argument("--overwrite", action="store_true", help="replace FOLDER if it holds an earlier export")
    export_cmd.add_argument("--warehouse", metavar="PATH", help=f"the warehouse (also ${settings.WAREHOUSE_ENV})")
    export_cmd.set_defaults(func=cmd_export)
    return parser


class UserMistake(Exception):
    """A setting or argument the command cannot work with: one line, no traceback."""


def _writable_folder(folder: Path, what: str) -> None:
    """`folder` exists (or can be made) and a file can be written in it, else one line naming `what` and why.
    Permissions alone do not tell (root ignores them, a read-only file system does not): a file is made and removed."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise UserMistake(f"{what}: {exc.filename or folder} is a file, not a folder") from exc
    except OSError as exc:
        raise UserMistake(f"{what}: {folder} cannot be created ({exc.strerror or exc})") from exc
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".treasury-write-probe-"):
            pass
    except OSError as exc:
        raise UserMistake(f"{what}: {folder} cannot be written ({exc.strerror or exc})") from exc


def _check_settings(args: argparse.Namespace) -> None:
    """The mistakes a setting can hold, found before any work starts (the flags are checked by argparse)."""
    if not getattr(args, "as_of", None):
        try:
            settings.as_of()
        except ValueError as exc:
            raise UserMistake(str(exc)) from exc
    if args.command in ("snapshots", "export"):
        try:
            settings.warehouse(getattr(args, "warehouse", None))
        except ValueError as exc:  # a malformed lake setting
            raise UserMistake(str(exc)) from exc
    if args.command in ("ingest", "build", "dev"):
        try:
            warehouse = settings.warehouse(getattr(args, "warehouse", None))
        except ValueError as exc:  # a malformed lake setting
            raise UserMistake(str(exc)) from exc
        what = f"the warehouse (${settings.WAREHOUSE_ENV} or --warehouse) {warehouse}"
        if isinstance(warehouse, Path):
            _writable_folder(warehouse.parent, what)
        else:
            if warehouse.catalog_file is not None:
                _writable_folder(warehouse.catalog_file.parent, what)
            if not warehouse.on_s3:
                _writable_folder(
                    Path(warehouse.data_path), f"the lake's data (${settings.LAKE_DATA_PATH_ENV}) {warehouse.data_path}"
                )
    if args.command == "build":
        serving = settings.serving_path(warehouse.parent if isinstance(warehouse, Path) else None)
        _writable_folder(serving.parent, f"the serving file (${settings.SERVING_ENV}) {serving}")
    if args.command in ("build", "dev"):
        home = _dagster_home()
        if home is not None:
            _writable_folder(home, f"DAGSTER_HOME {home}")
    if args.command == "dev":
        import socket

        with socket.socket() as probe:
            try:
                probe.bind((args.host, args.port))
            except OSError as exc:
                raise UserMistake(
                    f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}): "
                    "another program uses the port; choose one with --port"
                ) from exc


def _take_back_ctrl_c() -> None:
    """A command started with SIGINT ignored (a background job of a script, `nohup ... &`) takes Ctrl-C back: the
    Dagster processes `treasury dev` starts would inherit the ignored SIGINT (and dagster maps SIGTERM to SIGINT's
    handler), so neither the stop it sends them nor a SIGTERM to it could end them before SIGKILL."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    settings.load_dotenv()
    _take_back_ctrl_c()
    args = build_parser().parse_args(argv)
    try:
        _check_settings(args)
        log_to_console(args.verbose)
        return args.func(args)
    except UserMistake as exc:
        print(f"treasury: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # The writer lock and the emulator were released on the way out; a build never replaces the serving file
        # half-way (it renames a finished copy), so the serving file is as it was or fully the new one.
        if args.command in ("build", "ingest"):
            print(f"treasury: {args.command} interrupted (Ctrl-C); nothing half-written was kept", file=sys.stderr)
        else:
            print(f"treasury: {args.command} stopped (Ctrl-C)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
