"""The `treasury` command line: help on every command, ingest in sample mode with a readable summary."""

from __future__ import annotations

import duckdb
import pytest

from ingestion.cli import build_parser, main


@pytest.mark.parametrize(
    "argv", [["--help"], ["ingest", "--help"], ["build", "--help"], ["dev", "--help"], ["emulator", "--help"]]
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
    assert "year 2025" in out.err  # progress per step
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select count(*), max(curve_date)::varchar from raw_par_yield_curve.daily_par_yields"
        ).fetchone()
    assert rows[1] == "2025-06-30" and f"{rows[0]:,}" in out.out


def test_unknown_source_is_rejected(capsys):
    with pytest.raises(SystemExit):
        main(["ingest", "--source", "bloomberg"])
    assert "invalid choice: 'bloomberg'" in capsys.readouterr().err


def test_bad_as_of_env_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TREASURY_AS_OF", "yesterday")
    with pytest.raises(ValueError, match="TREASURY_AS_OF='yesterday' is not a date"):
        main(["ingest", "--sample", "--source", "par_yield_curve"])
