"""The serving file as SQL users and BI tools meet it: DuckDB 1.x clients open it, every mart and column carries its
dbt description, SQLAlchemy's inspector describes every mart, and no published bp, %, $ or $bn value is a binary
float.

The 1.x clients run in environments of their own (`uv run --isolated`, `uv tool run`), apart from the project's lock
and its DuckDB, the way a BI user's machine has them. uv fetches them from the package index on first use, as
`make setup` fetches the project's packages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import duckdb
import pytest
import sqlalchemy

from dagster_project.defs.publish.assets import SERVING_STORAGE_VERSION

MARTS = (
    "_build_status",  # which tables are fresh and which are held back (lib/build_status.py)
    "dim_auction_terms",
    "dim_countries",
    "fct_auction_soma_holdings",
    "fct_auctions",
    "fct_basis_trade_proxy_weekly",
    "fct_debt_outstanding_daily",
    "fct_fed_repo_operations_daily",
    "fct_foreign_holdings",
    "fct_foreign_official_custody_weekly",
    "fct_funding_rates_daily",
    "fct_futures_positioning",
    "fct_marketable_debt_monthly",
    "fct_par_yields",
    "fct_primary_dealer_positions",
    "fct_soma_holdings_weekly",
    "mart_stress_alerts",
    "mart_treasury_stress_weekly",
    "mart_yield_curve_daily",
)
# The last two 1.x minor releases, and 1.0.0: the oldest DuckDB that reads the serving file's storage version.
DUCKDB_1X = ("1.5.6", "1.4.4", "1.0.0")
DUCKDB_CLI = "duckdb-cli==1.5.6"
# The recipe the README documents for SQLAlchemy clients (duckdb-engine needs SQLAlchemy 1.4: see pyproject.toml).
SQLALCHEMY_RECIPE = ("duckdb-engine==0.17.0", "sqlalchemy>=1.4.54,<2", "duckdb==1.5.6")
# Units that are published as DECIMAL (dbt/macros/published_decimals.sql): the last one in a column's name counts.
UNIT_WORDS = ("_bp", "_pct", "_usd_bn", "_usd", "_10y_equivalents", "_bid_to_cover")


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _run_isolated(packages: tuple[str, ...], code: str, *args: str) -> str:
    command = [*_uv(), "run", "--quiet", "--isolated", "--no-project"]
    for package in packages:
        command += ["--with", package]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PROJECT"))}
    result = subprocess.run(
        [*command, "python", "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, f"{' '.join(packages)}: exit {result.returncode}\n{result.stderr[-3000:]}"
    return result.stdout


def _mart_counts(serving) -> dict[str, int]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return {m: con.execute(f"select count(*) from marts.{m}").fetchone()[0] for m in MARTS}


def test_the_serving_file_is_in_the_documented_storage_version(sample_build):
    with duckdb.connect(":memory:") as con:
        con.execute(f"attach '{sample_build.serving}' as serving (read_only)")
        (tables,) = con.execute(
            "select count(*) from duckdb_tables() where database_name = 'serving' and schema_name = 'marts'"
        ).fetchone()
        assert tables == len(MARTS)
    # The first 1.x releases read storage version number 64 (written for 'v1.0.0'); the header holds it at byte 12.
    header = sample_build.serving.read_bytes()[:64]
    assert header[8:12] == b"DUCK" and int.from_bytes(header[12:20], "little") == 64, SERVING_STORAGE_VERSION


@pytest.mark.parametrize("version", DUCKDB_1X)
def test_duckdb_1x_python_clients_read_every_mart(sample_build, version):
    expected = _mart_counts(sample_build.serving)
    out = _run_isolated(
        (f"duckdb=={version}",),
        """
        import json, sys, duckdb
        con = duckdb.connect(sys.argv[1], read_only=True)
        counts = {m: con.execute(f"select count(*) from marts.{m}").fetchone()[0] for m in sys.argv[2].split(",")}
        week = con.execute(
            "select week_ending::varchar, composite_stress_score, yield_10y_close_pct::varchar"
            " from marts.mart_treasury_stress_weekly where week_ending = '2025-04-11'"
        ).fetchone()
        print(json.dumps({"version": duckdb.__version__, "counts": counts, "week": week}))
        """,
        str(sample_build.serving),
        ",".join(MARTS),
    )
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["version"] == version
    assert answer["counts"] == expected
    with duckdb.connect(str(sample_build.serving), read_only=True) as con:
        score, yield_10y = con.execute(
            "select composite_stress_score, yield_10y_close_pct::varchar from marts.mart_treasury_stress_weekly "
            "where week_ending = '2025-04-11'"
        ).fetchone()
    assert answer["week"] == ["2025-04-11", score, yield_10y]


def test_the_duckdb_1x_cli_reads_every_mart(sample_build):
    expected = _mart_counts(sample_build.serving)
    query = " union all ".join(f"select '{m}' as mart, count(*) as n from marts.{m}" for m in MARTS)
    result = subprocess.run(
        [
            *_uv(),
            "tool",
            "run",
            "--quiet",
            "--from",
            DUCKDB_CLI,
            "duckdb",
            "-readonly",
            "-json",
            str(sample_build.serving),
        ],
        input=f"select version() as v;\n{query};\n",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    blocks = [json.loads(b) for b in re.findall(r"\[.*?\]", result.stdout, flags=re.S)]
    assert blocks[0] == [{"v": "v1.5.6"}]
    assert {row["mart"]: row["n"] for row in blocks[1]} == expected


def test_every_mart_and_column_carries_its_dbt_description(sample_build):
    with duckdb.connect(str(sample_build.serving), read_only=True) as con:
        tables = dict(
            con.execute("select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall()
        )
        columns = con.execute(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"
        ).fetchall()
        staging = con.execute(
            "select count(*), count(comment) from duckdb_columns() where schema_name = 'staging'"
        ).fetchone()
    assert set(tables) == set(MARTS)
    assert all(tables.values()), [t for t, c in tables.items() if not c]
    assert [f"{t}.{c}" for t, c, comment in columns if not comment] == []
    assert len(columns) > 170 and staging[0] == staging[1] > 80
    comment = {(t, c): text for t, c, text in columns}
    assert "tail_proxy_prior_close_bp" in comment[("mart_treasury_stress_weekly", "avg_tail_proxy_prior_close_bp")]
    assert comment[("dim_countries", "iso_alpha3")].startswith("ISO 3166-1 alpha-3")


def _has_unit(column: str) -> bool:
    name = column.lower()
    if "_z_" in name or name.endswith("_z"):
        return False
    padded = f"_{name}_"
    return any(padded.rfind(f"{unit}_") >= 0 for unit in UNIT_WORDS)


def test_no_published_value_in_bp_pct_or_usd_is_a_binary_float(sample_build):
    with duckdb.connect(str(sample_build.serving), read_only=True) as con:
        columns = con.execute(
            "select table_name, column_name, data_type from duckdb_columns() where schema_name = 'marts'"
        ).fetchall()
        assert _has_unit("tail_proxy_prior_close_bp_vs_prior_6_avg") and not _has_unit("net_z_prior_156w")
        doubles = [f"{t}.{c}" for t, c, kind in columns if kind == "DOUBLE" and _has_unit(c)]
        assert doubles == []
        kinds = {(t, c): kind for t, c, kind in columns}
        assert kinds[("mart_yield_curve_daily", "spread_2s10s_bp")] == "DECIMAL(18,2)"
        assert kinds[("fct_foreign_holdings", "holdings_usd_bn")] == "DECIMAL(18,3)"
        assert kinds[("fct_auctions", "stop_yield_pct")] == "DECIMAL(18,3)"
        # What a client prints: the curve's changes are whole bp to the cent, the TIC changes exact to $0.1bn (in a
        # column exact to $ millions, the unit of the NY Fed's and the MSPD's figures).
        bp = con.execute(
            "select change_1d_bp::varchar from marts.fct_par_yields where change_1d_bp is not null"
        ).fetchall()
        assert bp and all(re.fullmatch(r"-?\d+\.\d{2}", text) for (text,) in bp)
        tic = con.execute(
            "select change_1m_usd_bn::varchar from marts.fct_foreign_holdings where change_1m_usd_bn is not null"
        ).fetchall()
        assert tic and all(re.fullmatch(r"-?\d+\.\d00", text) for (text,) in tic)
        # One rounding everywhere: the 10-year yield in the long and the wide curve marts agree on every day.
        (off,) = con.execute(
            "select count(*) from marts.fct_par_yields as p join marts.mart_yield_curve_daily as c using (curve_date) "
            "where p.tenor_label = '10 Yr' and p.yield_pct is distinct from c.yield_10y_pct"
        ).fetchone()
        assert off == 0


def test_sqlalchemy_inspector_describes_every_mart_in_the_project_environment(sample_build):
    engine = sqlalchemy.create_engine(f"duckdb:///{sample_build.serving}", connect_args={"read_only": True})
    inspector = sqlalchemy.inspect(engine)
    # duckdb-engine names schemas after the file's stem: a BI tool lists "serving.marts" (and "marts" works too).
    assert {"serving.marts", "serving.staging"} <= set(inspector.get_schema_names())
    assert sorted(inspector.get_table_names(schema="marts")) == sorted(MARTS)
    assert sorted(inspector.get_table_names(schema="serving.marts")) == sorted(MARTS)
    assert inspector.get_view_names(schema="marts") == []
    for mart in MARTS:
        columns = inspector.get_columns(mart, schema="marts")
        assert columns and all(c["comment"] for c in columns), mart
        assert inspector.get_pk_constraint(mart, schema="marts")["constrained_columns"] == []
        assert inspector.get_foreign_keys(mart, schema="marts") == []
        assert inspector.get_indexes(mart, schema="marts") == []
    table = sqlalchemy.Table("mart_treasury_stress_weekly", sqlalchemy.MetaData(), schema="marts", autoload_with=engine)
    assert str(table.c.composite_stress_score.type) == "FLOAT"
    assert str(table.c.yield_10y_close_pct.type) == "NUMERIC(18, 3)"
    engine.dispose()


def test_sqlalchemy_inspector_with_the_documented_recipe_and_duckdb_1x(sample_build):
    out = _run_isolated(
        SQLALCHEMY_RECIPE,
        """
        import json, sys, sqlalchemy
        engine = sqlalchemy.create_engine(f"duckdb:///{sys.argv[1]}", connect_args={"read_only": True})
        inspector = sqlalchemy.inspect(engine)
        marts = sorted(inspector.get_table_names(schema="marts"))
        described = {
            m: {
                "columns": len(inspector.get_columns(m, schema="marts")),
                "commented": sum(1 for c in inspector.get_columns(m, schema="marts") if c["comment"]),
                "pk": inspector.get_pk_constraint(m, schema="marts")["constrained_columns"],
                "fks": inspector.get_foreign_keys(m, schema="marts"),
                "indexes": inspector.get_indexes(m, schema="marts"),
            }
            for m in marts
        }
        print(json.dumps({"sqlalchemy": sqlalchemy.__version__, "schemas": inspector.get_schema_names(),
                          "views": inspector.get_view_names(schema="marts"), "marts": described}))
        """,
        str(sample_build.serving),
    )
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["sqlalchemy"].startswith("1.4.")
    assert {"serving.marts", "serving.staging"} <= set(answer["schemas"]) and answer["views"] == []
    assert sorted(answer["marts"]) == sorted(MARTS)
    with duckdb.connect(str(sample_build.serving), read_only=True) as con:
        widths = dict(
            con.execute(
                "select table_name, count(*) from duckdb_columns() where schema_name = 'marts' group by 1"
            ).fetchall()
        )
    for mart, described in answer["marts"].items():
        assert described == {"columns": widths[mart], "commented": widths[mart], "pk": [], "fks": [], "indexes": []}
