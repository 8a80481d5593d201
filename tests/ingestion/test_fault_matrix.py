"""The fault matrix, at the loader: a bad answer fails the source with the record named, loses nothing already
loaded, never moves a cursor, and the next ordinary run recovers without --full-refresh.

Faults are planted by a WSGI middleware in front of the emulator (test code): it edits the JSON the emulator would
have sent, so everything else (paging, headers, the request log) stays real.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import duckdb
import pytest

from emulator.par_yield_curve import render_csv
from emulator.server import Emulator, base_urls, serve
from ingestion.pipelines import run_ingest
from tests.faulty_api import emulated

AS_OF = date(2025, 6, 30)


class Tamper:
    """Serve `emulator`, passing the JSON body of the first answer to a path containing `path_contains` through
    `edit` (then stop tampering: the server "recovers")."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.rule: tuple[str, Callable] | None = None

    def once(self, path_contains: str, edit: Callable) -> None:
        self.rule = (path_contains, edit)

    def __call__(self, environ, start_response):
        rule = self.rule
        if rule is None or rule[0] not in environ.get("PATH_INFO", ""):
            return self.emulator(environ, start_response)
        self.rule = None
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        body = json.loads(b"".join(self.emulator(environ, capture)))
        out = json.dumps(rule[1](body)).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(out)))])
        return [out]


@pytest.fixture
def tampered():
    tamper = Tamper(emulated(as_of=AS_OF))
    with serve(tamper) as root:
        yield tamper, base_urls(root)


def assert_one_current_vintage_per_key(con, table: str, key: tuple[str, ...]) -> None:
    """The current table has each key once, and its `_vintages` twin exactly one current version of each."""
    columns = ", ".join(key)
    assert con.execute(f"select count(*) = count(distinct ({columns})) from {table}").fetchone() == (True,)
    assert con.execute(
        f"""select count(*) from (select {columns} from {table}_vintages
            where superseded_at is null group by all having count(*) > 1)"""
    ).fetchone() == (0,)
    assert (
        con.execute(f"select count(*) from {table}_vintages where superseded_at is null").fetchone()
        == con.execute(f"select count(*) from {table}").fetchone()
    )


def snapshot(warehouse, *tables: str) -> dict[str, list]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"select * exclude (_dlt_load_id) from {t} order by all").fetchall() for t in tables}


def ingest(warehouse, urls, source: str):
    return run_ingest([source], warehouse=warehouse, as_of=AS_OF, base_urls=urls)


def _future_report(rows: list[dict]) -> list[dict]:
    poisoned = dict(rows[-1], report_date_as_yyyy_mm_dd="2099-06-16T00:00:00.000", id="990616043602F")
    return [*rows, poisoned]


def test_a_future_dated_cftc_row_fails_the_load_and_never_moves_the_cursor(tampered, loaded):
    tamper, urls = tampered
    warehouse = loaded
    tables = ("raw_cftc_tff.tff_futures_only", "raw_cftc_tff.tff_futures_only_vintages")
    before = snapshot(warehouse, *tables)
    tamper.once("/resource/", _future_report)
    summary = ingest(warehouse, urls, "cftc_tff")
    assert not summary.ok
    error = summary.results[0].error
    assert "report_date_as_yyyy_mm_dd after 2025-06-24" in error and "2099-06-16" in error, error
    assert snapshot(warehouse, *tables) == before  # nothing loaded, nothing lost
    # The next ordinary run asks from the same place (the cursor did not move) and succeeds.
    tamper.emulator.requests.clear()
    again = ingest(warehouse, urls, "cftc_tff")
    assert again.ok, again.render()
    (request,) = tamper.emulator.requests_to("/resource/")
    assert "'2025-05-27T00:00:00'" in request.params["$where"]  # 28 days before the latest report, 2025-06-24
    assert snapshot(warehouse, *tables) == before


def test_a_future_dated_auction_fails_the_load_and_names_it(tampered, warehouse):
    tamper, urls = tampered
    assert ingest(warehouse, urls, "treasury_auctions").ok
    before = snapshot(warehouse, "raw_treasury_auctions.auctions_query")

    def poison(body):
        body["data"].append(dict(body["data"][-1], auction_date="2099-01-05", cusip="912797ZZ9"))
        return body

    tamper.once("auctions_query", poison)
    summary = ingest(warehouse, urls, "treasury_auctions")
    assert not summary.ok
    assert "auction_date after 2025-06-30" in summary.results[0].error
    assert "cusip=912797ZZ9, auction_date=2099-01-05" in summary.results[0].error
    assert snapshot(warehouse, "raw_treasury_auctions.auctions_query") == before
    assert ingest(warehouse, urls, "treasury_auctions").ok


def test_a_key_repeated_in_one_auctions_page_fails_naming_the_key_and_both_records(tampered, warehouse):
    tamper, urls = tampered

    def duplicate(body):
        body["data"].insert(1, dict(body["data"][0], offering_amt="1"))
        return body

    tamper.once("auctions_query", duplicate)
    summary = ingest(warehouse, urls, "treasury_auctions")
    assert not summary.ok
    error = summary.results[0].error
    assert "duplicate key (cusip=" in error and "first at page 1 of" in error and "row 1, again at" in error, error
    assert "row 2" in error
    assert ingest(warehouse, urls, "treasury_auctions").ok  # recovers; one row per key
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) = count(distinct (cusip, auction_date)) from raw_treasury_auctions.auctions_query"
        ).fetchone() == (True,)


def test_a_key_repeated_in_a_cftc_fetch_never_makes_two_current_vintages(tampered, warehouse):
    tamper, urls = tampered
    tamper.once("/resource/", lambda rows: [*rows, dict(rows[0], open_interest_all="1")])
    summary = ingest(warehouse, urls, "cftc_tff")
    assert not summary.ok and "duplicate key (report_date_as_yyyy_mm_dd=" in summary.results[0].error
    assert ingest(warehouse, urls, "cftc_tff").ok
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            """select count(*) from (
                 select report_date_as_yyyy_mm_dd, cftc_contract_market_code from raw_cftc_tff.tff_futures_only_vintages
                 where superseded_at is null group by all having count(*) > 1)"""
        ).fetchone() == (0,)


def test_a_tenor_column_that_stops_arriving_fails_and_blanks_nothing(tampered, warehouse):
    """Without the `30 Yr` column the 2025 file would NULL every 30-year yield of 2025 already loaded."""
    tamper, urls = tampered
    assert ingest(warehouse, urls, "par_yield_curve").ok
    before = snapshot(warehouse, "raw_par_yield_curve.daily_par_yields")
    rows = [line.split(",") for line in render_csv(tamper.emulator.as_of, [2025]).split("\n")]
    assert rows[0][-1] == '"30 Yr"'
    tamper.emulator.add_fault("csv/2025/", status=200, body="\n".join(",".join(r[:-1]) for r in rows))
    summary = ingest(warehouse, urls, "par_yield_curve")
    assert not summary.ok
    assert "tenor column(s) missing: bc_30year, published on dates in this file" in summary.results[0].error
    assert snapshot(warehouse, "raw_par_yield_curve.daily_par_yields") == before
    assert ingest(warehouse, urls, "par_yield_curve").ok  # the file is whole again: recovers


HOLD = """
import sys, time, duckdb
from pathlib import Path
from ingestion.common.lock import writer_lock
kind, path = sys.argv[1], Path(sys.argv[2])
if kind == "lock":
    with writer_lock(path):
        print("held", flush=True)
        time.sleep(60)
else:
    con = duckdb.connect(str(path), read_only=(kind == "read_only"))
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(warehouse):
    """Start another process holding the warehouse: its writer lock, or a DuckDB connection like a BI tool's."""
    import subprocess
    import sys

    started = []

    def hold(kind: str):
        process = subprocess.Popen(
            [sys.executable, "-c", HOLD, kind, str(warehouse)], stdout=subprocess.PIPE, text=True
        )
        started.append(process)
        assert process.stdout.readline().strip() == "held"
        return process

    yield hold
    for process in started:
        process.kill()
        process.wait()


def test_a_second_writer_exits_at_once_naming_the_first(tampered, warehouse, holder, capsys, monkeypatch):
    from ingestion.cli import main

    _, urls = tampered
    monkeypatch.setenv("SOURCES__PAR_YIELD_CURVE__BASE_URL", urls["par_yield_curve"])
    other = holder("lock")
    code = main(["ingest", "--source", "par_yield_curve", "--as-of", AS_OF.isoformat()])
    err = capsys.readouterr().err
    assert code == 1
    assert f"treasury: another run is writing {warehouse} (pid {other.pid}, started " in err, err
    assert not warehouse.exists()  # nothing was touched
    other.kill()
    other.wait()
    assert main(["ingest", "--source", "par_yield_curve", "--as-of", AS_OF.isoformat()]) == 0  # the lock went with it


@pytest.mark.parametrize("kind", ["read_write", "read_only"])
def test_a_program_holding_the_warehouse_open_gets_one_clear_line(
    tampered, warehouse, holder, capsys, monkeypatch, kind
):
    from ingestion.cli import main

    _, urls = tampered
    monkeypatch.setenv("SOURCES__PAR_YIELD_CURVE__BASE_URL", urls["par_yield_curve"])
    assert main(["ingest", "--source", "par_yield_curve", "--as-of", AS_OF.isoformat()]) == 0
    capsys.readouterr()
    holder(kind)
    code = main(["ingest", "--source", "par_yield_curve", "--as-of", AS_OF.isoformat()])
    out = capsys.readouterr()
    assert code == 1
    assert out.err.strip().splitlines() == [
        f"treasury: the warehouse {warehouse} is open in another program; BI tools and SQL shells must open the "
        "serving file (TREASURY_SERVING), read-only"
    ]
    assert "Traceback" not in out.out + out.err and "credentials" not in out.out + out.err


def _ingest_one_line(warehouse, capsys) -> str:
    from ingestion.cli import main

    before = warehouse.read_bytes()
    code = main(["ingest", "--source", "par_yield_curve", "--warehouse", str(warehouse), "--as-of", str(AS_OF)])
    out = capsys.readouterr()
    assert code == 1 and "Traceback" not in out.out + out.err
    assert warehouse.read_bytes() == before  # nothing touched
    [line] = out.err.strip().splitlines()
    return line


def test_a_warehouse_duckdb_cannot_read_gets_one_clear_line(tmp_path, capsys, monkeypatch):
    """A damaged warehouse file (its header changed: DuckDB's checksum fails) and one written by a newer DuckDB
    (storage version 999, what a later build left in a developer's data/): one line saying what to do."""
    import duckdb

    from ingestion.common import lock

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table t as select 1 as x")
    with warehouse.open("r+b") as file:
        file.seek(12)
        file.write((999).to_bytes(8, "little"))
    line = _ingest_one_line(warehouse, capsys)
    assert line.startswith(f"treasury: the warehouse {warehouse} cannot be opened by DuckDB {duckdb.__version__} ")
    assert "(Corrupt database file: computed checksum" in line and "move it aside" in line

    newer = (
        "IO Error: Trying to read a database file with version number 999, but we can only read versions between "
        "64 and 68.\nThe database file was created with an newer version of DuckDB."
    )

    def newer_file(target, read_only=True):
        raise duckdb.IOException(newer)

    monkeypatch.setattr(lock, "connect", newer_file)
    line = _ingest_one_line(warehouse, capsys)
    assert line.startswith(f"treasury: the warehouse {warehouse} was written by a newer DuckDB (storage version 999;")
    assert f"DuckDB {duckdb.__version__} here reads 64 to 68" in line


def test_any_path_works_for_the_warehouse(tampered, tmp_path):
    """Spaces, a quote and non-ASCII in the folder: dlt's SQL never sees the warehouse's folder."""
    _, urls = tampered
    warehouse = tmp_path / "it's a wåre house" / "warehouse.duckdb"
    summary = run_ingest(["par_yield_curve", "tic_holdings"], warehouse=warehouse, as_of=AS_OF, base_urls=urls)
    assert summary.ok, summary.render()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select max(curve_date) from raw_par_yield_curve.daily_par_yields").fetchone() == (AS_OF,)


def test_a_new_process_resumes_from_the_state_in_the_warehouse(tampered, loaded):
    """dlt's working folder is per process; the incremental state is restored from the warehouse itself."""
    import subprocess
    import sys

    tamper, urls = tampered
    warehouse = loaded
    tamper.emulator.requests.clear()
    script = (
        "import sys; from datetime import date; from ingestion.pipelines import run_ingest;"
        "s = run_ingest(['cftc_tff'], warehouse=__import__('pathlib').Path(sys.argv[1]), as_of=date(2025, 6, 30),"
        " base_urls={'cftc_tff': sys.argv[2]}); print(s.render()); sys.exit(0 if s.ok else 1)"
    )
    subprocess.run([sys.executable, "-c", script, str(warehouse), urls["cftc_tff"]], check=True, capture_output=True)
    (request,) = tamper.emulator.requests_to("/resource/")
    assert "'2025-05-27T00:00:00'" in request.params["$where"]  # the look-back window only, not the full history


def _tic_text(emulator: Emulator, name: str) -> str:
    from emulator import tic_holdings as tic

    data = tic.tic_data(emulator.as_of, emulator.revised)
    return tic.render_current(data) if name == "current" else tic.render_history(data)


def test_tic_is_a_snapshot_a_line_that_vanishes_is_gone_and_its_vintages_end(tampered, warehouse):
    tamper, urls = tampered
    current = _tic_text(tamper.emulator, "current").split("\n")
    header = next(i for i, line in enumerate(current) if line.startswith("Country\t"))
    columns = current[header].count("\t")
    extra = "Atlantis\t" + "\t".join(["1.5"] * columns)
    tamper.emulator.add_fault(
        "slt_table5.txt", status=200, body="\n".join([*current[: header + 1], extra, *current[header + 1 :]])
    )
    assert ingest(warehouse, urls, "tic_holdings").ok
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) from raw_tic_holdings.major_foreign_holders where country = 'Atlantis'"
        ).fetchone() == (columns,)
    assert ingest(warehouse, urls, "tic_holdings").ok  # the next publication has no Atlantis
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) from raw_tic_holdings.major_foreign_holders where country = 'Atlantis'"
        ).fetchone() == (0,)
        assert con.execute(
            "select count(*), count(superseded_at) from raw_tic_holdings.major_foreign_holders_vintages where country = 'Atlantis'"
        ).fetchone() == (columns, columns)  # kept, and ended
        assert_one_current_vintage_per_key(
            con, "raw_tic_holdings.major_foreign_holders", ("month_end", "country", "is_comparison_series")
        )


def test_a_truncated_tic_history_is_refused_and_retires_nothing(tampered, warehouse):
    tamper, urls = tampered
    assert ingest(warehouse, urls, "tic_holdings").ok
    tables = ("raw_tic_holdings.major_foreign_holders", "raw_tic_holdings.major_foreign_holders_vintages")
    before = snapshot(warehouse, *tables)
    lines = _tic_text(tamper.emulator, "history").split("\n")
    month_rows = [i for i, line in enumerate(lines) if line.startswith("\tDec\t") or line.startswith("\tJun\t")]
    truncated = "\n".join(lines[: month_rows[2]])  # the two newest year blocks only: valid, but far too short
    tamper.emulator.add_fault("mfhhis01.txt", status=200, body=truncated)
    summary = ingest(warehouse, urls, "tic_holdings")
    assert not summary.ok
    assert "incomplete publication: the files cover" in summary.results[0].error
    assert "nothing is loaded and no history retired" in summary.results[0].error
    assert snapshot(warehouse, *tables) == before
    assert ingest(warehouse, urls, "tic_holdings").ok  # the whole file again: nothing changes
    assert snapshot(warehouse, *tables) == before


def test_a_full_refresh_reloads_history_and_keeps_every_vintage(tampered, loaded):
    tamper, urls = tampered
    warehouse = loaded
    tables = ("raw_cftc_tff.tff_futures_only_vintages", "raw_tic_holdings.major_foreign_holders_vintages")
    before = snapshot(warehouse, *tables)
    tamper.emulator.requests.clear()
    summary = run_ingest(
        ["cftc_tff", "tic_holdings"], warehouse=warehouse, as_of=AS_OF, base_urls=urls, full_refresh=True
    )
    assert summary.ok, summary.render()
    first = tamper.emulator.requests_to("/resource/")[0]
    assert "'2006-01-01T00:00:00'" in first.params["$where"]  # the whole history was read again
    assert snapshot(warehouse, *tables) == before  # and no vintage was dropped or added
