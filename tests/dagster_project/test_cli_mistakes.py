"""A user's mistake gets one line and an exit status, never a traceback: the same whether it comes from a flag or the
environment (real processes: the `treasury` command as a user runs it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from dagster_project.runner.cli import build_parser
from ingestion.registry import NAMES

TREASURY = [sys.executable, "-m", "dagster_project.runner.cli"]


def treasury(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*TREASURY, *args], env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )


def assert_one_line(result: subprocess.CompletedProcess, code: int, *expected: str) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("treasury: "), line
    for text in expected:
        assert text in line, line
    return line


@pytest.fixture
def read_only_folder(tmp_path) -> Path:
    """A folder on a read-only file system: a read-only tmpfs where the machine lets root mount one, else /sys
    (read-only to every process in a container). Permissions would not do: tests may run as root."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        folder = Path("/sys")
    try:
        (folder / "probe").touch()
    except OSError:
        yield folder
    else:
        pytest.skip("no read-only folder on this machine")
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", str(tmp_path / "read-only")], check=False)


def test_a_bad_sample_scale_is_one_line(tmp_path):
    for command in ("build", "ingest"):
        result = treasury(command, "--sample", env={"TREASURY_SAMPLE_SCALE": "40"})
        assert_one_line(result, 2, "TREASURY_SAMPLE_SCALE='40': expected a whole number from 1 to 8")


def test_a_bad_date_in_the_environment_is_one_line_like_the_flag(tmp_path):
    from_env = treasury("build", "--sample", env={"TREASURY_AS_OF": "2025/04/11"})
    assert_one_line(
        from_env, 2, "TREASURY_AS_OF='2025/04/11' is neither a date (YYYY-MM-DD) nor a New York time (YYYY-MM-DDTHH:MM)"
    )
    from_flag = treasury("build", "--sample", "--as-of", "2025/04/11")
    assert from_flag.returncode == 2 and "Traceback" not in from_flag.stderr
    assert "'2025/04/11' is neither a date (YYYY-MM-DD) nor a New York time" in from_flag.stderr


def test_a_warehouse_or_serving_file_that_cannot_be_written_is_one_line(tmp_path, read_only_folder):
    line = assert_one_line(
        treasury("build", "--sample", env={"TREASURY_WAREHOUSE": str(read_only_folder / "warehouse.duckdb")}), 2
    )
    assert f"the warehouse ($TREASURY_WAREHOUSE or --warehouse) {read_only_folder}/warehouse.duckdb" in line, line
    assert "cannot be written" in line, line
    line = assert_one_line(
        treasury(
            "build",
            "--sample",
            env={
                "TREASURY_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
                "TREASURY_SERVING": str(read_only_folder / "serving.duckdb"),
            },
        ),
        2,
        "the serving file ($TREASURY_SERVING)",
        "cannot be written",
    )
    # A folder that is a file: said so.
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert_one_line(
        treasury("ingest", "--sample", "--warehouse", str(a_file / "warehouse.duckdb")), 2, "is a file, not a folder"
    )
    assert not (tmp_path / "warehouse.duckdb").exists()  # nothing started


def test_a_dagster_home_that_cannot_be_created_is_one_line(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert_one_line(
        treasury("build", "--sample", env={"DAGSTER_HOME": str(a_file / "home")}),
        2,
        "DAGSTER_HOME",
        "cannot be created (Not a directory)",
    )


def test_a_port_in_use_for_dev_is_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert_one_line(treasury("dev", "--port", str(port)), 2, f"cannot listen on 127.0.0.1:{port}", "--port")


def test_verbose_is_accepted_before_and_after_the_subcommand():
    parser = build_parser()
    assert parser.parse_args(["build", "--sample", "-v"]).verbose is True
    assert parser.parse_args(["-v", "build", "--sample"]).verbose is True
    assert parser.parse_args(["build", "--sample"]).verbose is False
    assert parser.parse_args(["ingest", "--verbose"]).verbose is True


def test_the_emulator_help_lists_all_eight_sources():
    result = treasury("emulator", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for source in NAMES:
        assert source in text, (source, text)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _interrupt_after(
    command: list[str], env: dict[str, str], wait_for: str, timeout: float = 120, port: int | None = None
):
    """Start `command` in its own process group, wait until its output shows `wait_for`, then Ctrl-C it (SIGINT to
    the group, as a terminal does); (exit status, stdout, stderr)."""
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen = []
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        seen.append(line)
        if wait_for in line or time.monotonic() > deadline:
            break
    while port is not None and not _listening(port) and time.monotonic() < deadline:
        time.sleep(0.5)  # the UI is up: Ctrl-C reaches dg dev, its webserver and daemon as well
    os.killpg(process.pid, signal.SIGINT)
    # `treasury dev` gives dg dev 30 s after Ctrl-C and 30 s more after SIGTERM before SIGKILL (cli._stop_group): on a
    # machine busy with other builds its shutdown has taken more than a minute.
    try:
        out, err = process.communicate(timeout=150)
    except subprocess.TimeoutExpired as exc:
        # Say what was still running and what it had printed, for whoever reads the failure.
        tree = subprocess.run(
            ["ps", "-eo", "pid,ppid,pgid,sid,stat,etime,args"], capture_output=True, text=True
        ).stdout.splitlines()
        alive = "\n".join(line[:220] for line in tree if "dagster" in line or "treasury" in line or "cli" in line)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        printed = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail(
            f"{command[-4:]} did not end within 150 s of Ctrl-C (exit status {process.poll()}).\n"
            f"Processes:\n{alive}\nLast output:\n{printed[-3000:]}"
        )
    return process.returncode, "".join(seen) + out, err


@pytest.mark.slow  # a real build, interrupted
def test_ctrl_c_stops_a_build_cleanly_releases_the_lock_and_keeps_the_serving_file(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    serving.write_bytes(b"the last good serving file")
    env = {
        "TREASURY_WAREHOUSE": str(warehouse),
        "TREASURY_SERVING": str(serving),
        "DAGSTER_HOME": str(tmp_path / "home"),
        "TREASURY_AS_OF": "2025-06-30",
    }
    code, out, err = _interrupt_after([*TREASURY, "build", "--sample"], env, "ingest ")
    assert code == 130, (out, err)
    assert "Traceback" not in out + err, err
    assert err.strip().splitlines()[-1] == "treasury: build interrupted (Ctrl-C); nothing half-written was kept", err
    assert serving.read_bytes() == b"the last good serving file"
    # The lock went with the process: the next command writes at once (here: an ingest of one small source).
    again = treasury("ingest", "--sample", "--source", "fed_custody", env=env)
    assert again.returncode == 0, again.stderr


# `treasury dev` started with SIGINT ignored, as a script's background job (`cmd &`) or nohup starts it: the Dagster
# processes it starts inherit the ignored SIGINT unless it takes Ctrl-C back.
IGNORING_SIGINT = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])",
]


@pytest.mark.slow  # the Dagster UI, started and interrupted
@pytest.mark.parametrize("started", ["in a terminal", "with SIGINT ignored"])
def test_ctrl_c_stops_dev_with_one_line(tmp_path, started):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"TREASURY_WAREHOUSE": str(tmp_path / "warehouse.duckdb"), "DAGSTER_HOME": str(tmp_path / "home")}
    launcher = IGNORING_SIGINT if started == "with SIGINT ignored" else []
    command = [*launcher, *TREASURY, "dev", "--port", str(port)]
    code, out, err = _interrupt_after(command, env, "Dagster UI on", port=port)
    assert not _listening(port)
    assert "Traceback" not in out + err, err
    assert code == 130 and err.strip().splitlines()[-1] == "treasury: dev stopped (Ctrl-C)", (code, out, err)
    # Nothing dg dev started is left behind (its code servers name the instance's folder on their command line).
    assert _processes_mentioning(str(tmp_path)) == []


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with suppress(OSError):
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if text in command:
                found.append(command[:200])
    return found


def test_stopping_dev_waits_for_its_whole_process_group(tmp_path):
    """What `treasury dev` does on Ctrl-C, against the way dagster dev can leave: its leader exits on the first
    interrupt while a child it started ignores SIGINT and SIGTERM (dagster dev exits on a second interrupt before its
    webserver and daemon are down). The child must not outlive the stop: it holds the terminal's output open."""
    from dagster_project.runner.cli import _group_members, _stop_group

    pid_file = tmp_path / "child.pid"
    child = (
        "import signal, time, pathlib, os; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        f"signal.signal(signal.SIGTERM, signal.SIG_IGN); pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid())); "
        "time.sleep(600)"
    )
    leader = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(600)"
    process = subprocess.Popen([sys.executable, "-c", leader], start_new_session=True, stdout=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    grandchild = int(pid_file.read_text())
    assert sorted(_group_members(process.pid)) == sorted([process.pid, grandchild])
    started = time.monotonic()
    _stop_group(process, grace_seconds=2)
    assert process.returncode is not None and _group_members(process.pid) == []
    assert time.monotonic() - started < 10
    assert process.stdout.read() == b""  # end of file: nothing holds the output open any more
