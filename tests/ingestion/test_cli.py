"""The `treasury` command line: help on every command, ingest in sample mode with a readable summary; and
`python -m ingestion`, the dlt loads alone."""

from __future__ import annotations

import re

import duckdb
import pytest

from dagster_project.runner.cli import build_parser, main


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["ingest", "--help"],
        ["build", "--help"],
        ["dev", "--help"],
        ["emulator", "--help"],
        ["report", "-h"],
    ],
)
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: treasury" in out and len(out.splitlines()) > 4


def test_ingest_sample_prints_a_labelled_summary(warehouse, capsys):
    code = main(["ingest", "--sample", "--source", "par_yield_curve", "--as-of", "2025-06-30"])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "SAMPLE DATA" in out.out and "as of 2025-06-30" in out.out
    assert "daily_par_yields" in out.out and "Schema drift: none" in out.out
    progress = re.search(r"par_yield_curve: ([\d,]+) rows loaded in [\d.]+s", out.err)  # a line per source
    assert progress, out.err
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select count(*), max(curve_date)::varchar from raw_par_yield_curve.daily_par_yields"
        ).fetchone()
    assert rows[1] == "2025-06-30" and f"{rows[0]:,}" in out.out and progress[1] == f"{rows[0]:,}"


def test_unknown_source_is_rejected(capsys):
    with pytest.raises(SystemExit):
        main(["ingest", "--source", "bloomberg"])
    assert "invalid choice: 'bloomberg'" in capsys.readouterr().err


def test_bad_as_of_env_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("TREASURY_AS_OF", "yesterday")
    assert main(["ingest", "--sample", "--source", "par_yield_curve"]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == "treasury: TREASURY_AS_OF='yesterday' is neither a date (YYYY-MM-DD) nor a New York time (YYYY-MM-DDTHH:MM)\n"
    ), err


def test_python_m_ingestion_loads_without_dagster(warehouse, served):
    """The plain dlt entry point, run as `python -m ingestion` in a fresh interpreter: hosts from dlt's configuration,
    and no Dagster module imported on the way."""
    import os
    import subprocess
    import sys
    import textwrap

    _, urls = served
    code = textwrap.dedent(
        """
        import runpy, sys
        sys.argv = ["ingestion", "ingest", "--source", "tic_holdings", "--as-of", "2025-06-30"]
        try:
            runpy.run_module("ingestion", run_name="__main__")
        except SystemExit as done:
            status = done.code
        dagster = sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0].startswith("dagster")})
        print("dagster modules:", dagster)
        sys.exit(status)
        """
    )
    env = {**os.environ, "SOURCES__TIC_HOLDINGS__BASE_URL": urls["tic_holdings"]}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "major_foreign_holders" in done.stdout and "dagster modules: []" in done.stdout, done.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw_tic_holdings.major_foreign_holders").fetchone()[0] > 1000
