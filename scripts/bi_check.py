"""`make bi-check`: a real BI tool, Apache Superset, charts the stress board from the serving file, end to end.

Superset is installed from PyPI into an environment of its own (`.bi/superset-venv`, pinned in
bi/superset/requirements.txt), never the project's lock, and runs on 127.0.0.1 with SQLite metadata in a scratch
folder: no example data, no analytics, and the browser resolves no host but 127.0.0.1. The script

1. registers the serving file with the README's URI (read-only) by importing the shipped stress-board bundle
   (bi/superset/stress_board/: database, datasets, charts, dashboard), so the bundle a user imports is the one tested;
2. adds every mart as a dataset and syncs its columns through Superset's REST API (SQLAlchemy's inspector over
   duckdb-engine and DuckDB 1.x), checking each mart's columns and their descriptions against the serving file;
3. runs the stress board's chart query (composite stress score by week) and the components heatmap's (its virtual
   dataset, weeks x components) through the chart-data API and compares the values with DuckDB's;
4. logs headless Chromium in and saves screenshots of the composite chart and of the dashboard
   (data/bi-check/*.png), checking that each chart rendered (a non-blank canvas), that no chart shows a warning icon
   and that no date is shown with a 00:00:00 time;
5. saves the HTML report beside the serving file as a person sees it, for a person to look at: its first screen and
   whole page at 1,400 px and the PDF Chromium prints (data/bi-check/report_*.png, report.pdf).

It never fakes success: an install that fails (a later Superset, no network to the registry) stops the script with the
installer's message, and any mismatch is a non-zero exit. `--export` rebuilds the bundle from the charts defined here
(for maintainers changing the board). Needs the serving file (`make demo` writes it) and Chromium with chromedriver
(Debian: chromium, chromium-driver).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import requests

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "bi" / "superset" / "requirements.txt"
BUNDLE = ROOT / "bi" / "superset" / "stress_board"
VENV = ROOT / ".bi" / "superset-venv"
DATABASE_NAME = "treasury_serving"
# The bundle's database URI; the import puts the serving file's own URI in its place.
URI_PLACEHOLDER = "duckdb:////path/to/data/serving.duckdb?access_mode=read_only"
DASHBOARD_TITLE = "Treasury stress board"
STRESS_CHART = "Composite stress score by week"
COMPONENTS_CHART = "Stress components by week (z-score; red is stress)"
AUCTIONS_CHART = "Coupon auctions, last quarter: tail proxy (bp)"
ADMIN = {"username": "admin", "password": secrets.token_urlsafe(12)}


def say(message: str) -> None:
    print(f"[bi-check] {message}", flush=True)


def fail(message: str) -> None:
    print(f"[bi-check] FAILED: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def shown(path: Path | str) -> str:
    """A path as the user reads it: relative to the project when inside it."""
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def serving_uri(serving: Path) -> str:
    """The README's URI for SQLAlchemy clients: an absolute path, opened read-only."""
    return f"duckdb:///{serving.resolve()}?access_mode=read_only"


# --- Superset's environment and server --------------------------------------------------------------------------
def uv() -> list[str]:
    configured = os.environ.get("TREASURY_UV")
    if configured:
        return shlex.split(configured)
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def install() -> Path:
    """Superset's environment, (re)installed when the pinned requirements change; returns its bin folder."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        say(f"Superset environment: {VENV} (up to date)")
        return python.parent
    say(f"installing Superset into {VENV} from {REQUIREMENTS.relative_to(ROOT)} ...")
    started = time.perf_counter()
    base = getattr(sys, "_base_executable", sys.executable)
    for command in (
        [*uv(), "venv", "--quiet", "--clear", "--python", base, str(VENV)],
        [*uv(), "pip", "install", "--quiet", "--python", str(python), "-r", str(REQUIREMENTS)],
    ):
        result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, VIRTUAL_ENV=""))
        if result.returncode != 0:
            fail(
                f"Superset could not be installed ({' '.join(command[-3:])}): exit {result.returncode}\n"
                f"{result.stderr[-3000:]}\nPin a release that installs in {REQUIREMENTS.relative_to(ROOT)}."
            )
    stamp.write_text(wanted)
    say(f"installed in {time.perf_counter() - started:.0f}s")
    return python.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def superset_env(home: Path) -> dict[str, str]:
    config = home / "superset_config.py"
    config.write_text(
        textwrap.dedent(
            f"""
            # Written by scripts/bi_check.py: a throwaway Superset on 127.0.0.1.
            SECRET_KEY = {secrets.token_hex(32)!r}
            SQLALCHEMY_DATABASE_URI = {f"sqlite:///{home / 'superset.db'}"!r}
            SCARF_ANALYTICS = False  # no analytics pixel
            WTF_CSRF_ENABLED = False  # the API client and the browser are this script, on loopback
            TALISMAN_ENABLED = False
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env.update(SUPERSET_CONFIG_PATH=str(config), SUPERSET_HOME=str(home), SCARF_ANALYTICS="false")
    return env


def prepare(bin_dir: Path, env: dict[str, str]) -> None:
    superset = str(bin_dir / "superset")
    for label, command in (
        ("metadata database (SQLite)", [superset, "db", "upgrade"]),
        (
            "admin user",
            [superset, "fab", "create-admin", "--firstname", "bi", "--lastname", "check", "--email", "bi@localhost"]
            + ["--username", ADMIN["username"], "--password", ADMIN["password"]],
        ),
        ("roles and permissions", [superset, "init"]),
    ):
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            fail(f"superset {' '.join(command[1:3])}: exit {result.returncode}\n{result.stderr[-3000:]}")
        say(f"{label}: done in {time.perf_counter() - started:.0f}s")


class Superset:
    """The REST API of a Superset started here, logged in as the admin."""

    def __init__(self, bin_dir: Path, env: dict[str, str], log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [str(bin_dir / "superset"), "run", "-h", "127.0.0.1", "-p", str(self.port), "--with-threads"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.http = requests.Session()
        deadline = time.monotonic() + 120
        while True:
            try:
                if self.http.get(f"{self.base}/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                fail(f"Superset did not start on {self.base} (log: {log})")
            time.sleep(0.5)
        token = self.call("post", "security/login", json={**ADMIN, "provider": "db", "refresh": True})
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200, 201), **kwargs) -> dict:
        response = self.http.request(method, f"{self.base}/api/v1/{path}", timeout=120, **kwargs)
        if response.status_code not in expect:
            fail(f"{method.upper()} /api/v1/{path}: HTTP {response.status_code}: {response.text[:1500]}")
        return response.json() if response.content and "json" in response.headers.get("content-type", "") else {}

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def find(self, resource: str, field: str, value: str) -> dict | None:
        found = self.call("get", f"{resource}/", params={"q": f"(filters:!((col:{field},opr:eq,value:'{value}')))"})
        return found["result"][0] if found.get("result") else None


# --- what the board shows -----------------------------------------------------------------------------------------
# The flag threshold, var('stress_flag_threshold') in dbt/dbt_project.yml.
FLAG_THRESHOLD = 3.0
COMPONENTS_DATASET = "stress_components_weekly"


def _metric(column: str, label: str) -> dict:
    return {"expressionType": "SQL", "sqlExpression": f"MAX({column})", "label": label}


def _time_filter(column: str, time_range: str) -> dict:
    return {
        "clause": "WHERE",
        "subject": column,
        "operator": "TEMPORAL_RANGE",
        "comparator": time_range,
        "expressionType": "SIMPLE",
    }


def _level(name: str, value: float, color: str) -> dict:
    """A horizontal reference line (a formula annotation: dashed, not a series, so never in the legend)."""
    return {
        "name": name,
        "annotationType": "FORMULA",
        "sourceType": "",
        "value": str(value),
        "overrides": {},
        "show": True,
        "showLabel": True,
        "titleColumn": "",
        "descriptionColumns": [],
        "timeColumn": "",
        "intervalEndColumn": "",
        "color": color,
        "opacity": "",
        "style": "dashed",
        "width": 2,
        "showMarkers": False,
        "hideLine": False,
    }


def components_sql() -> str:
    """The board's components, one row per week and component (a heatmap needs them long): the report's seven, by
    the names the report gives them."""
    from dagster_project.report.charts import COMPONENTS

    return "\nunion all\n".join(
        f"select week_ending, '{label}' as component, {column} as z from marts.mart_treasury_stress_weekly"
        for column, label in COMPONENTS.items()
    )


def chart_definitions() -> list[dict]:
    """The stress board's four charts, as Superset chart params (dataset -> params): the composite alone with its
    flag line; the components as a heatmap of weeks x components below it (same two years); the long yields against
    5% on an axis fitted to them; the recent coupon auctions."""
    return [
        {
            "name": STRESS_CHART,
            "table": "mart_treasury_stress_weekly",
            "params": {
                "viz_type": "echarts_timeseries_line",
                "x_axis": "week_ending",
                "time_grain_sqla": None,
                "metrics": [_metric("composite_stress_score", "composite stress score")],
                "groupby": [],
                "adhoc_filters": [_time_filter("week_ending", "Last 2 years")],
                "annotation_layers": [_level(f"flag at {FLAG_THRESHOLD:g}", FLAG_THRESHOLD, "#d62728")],
                "row_limit": 10000,
                "show_legend": False,
                "rich_tooltip": True,
                "tooltipTimeFormat": "%Y-%m-%d",
                "x_axis_time_format": "smart_date",
                "y_axis_title": "composite (z units)",
                "y_axis_title_position": "Left",
                "color_scheme": "supersetColors",
            },
        },
        {
            "name": COMPONENTS_CHART,
            "table": COMPONENTS_DATASET,
            "sql": components_sql(),
            "params": {
                "viz_type": "heatmap_v2",
                "x_axis": "week_ending",
                "time_grain_sqla": None,
                "groupby": "component",
                "metric": _metric("z", "z-score"),
                "adhoc_filters": [_time_filter("week_ending", "Last 2 years")],
                "row_limit": 10000,
                "linear_color_scheme": "schemeYlOrRd",
                # Red is stress: 0 and below the palest, the flag level (3) and above the darkest.
                "value_bounds": [0, FLAG_THRESHOLD],
                "normalize_across": "heatmap",
                "legend_type": "continuous",
                "show_legend": True,
                "show_values": False,
                "sort_x_axis": "alpha_asc",
                "sort_y_axis": "alpha_asc",
                "x_axis_time_format": "%Y-%m-%d",
                "xscale_interval": 8,
                "y_axis_format": ".1f",
                "left_margin": "auto",
                "bottom_margin": "auto",
            },
        },
        {
            "name": "10-year and 30-year yields against 5%",
            "table": "mart_yield_curve_daily",
            "params": {
                "viz_type": "echarts_timeseries_line",
                "x_axis": "curve_date",
                "time_grain_sqla": None,
                "metrics": [
                    _metric("yield_10y_pct", "10-year yield (%)"),
                    _metric("yield_30y_pct", "30-year yield (%)"),
                ],
                "groupby": [],
                "adhoc_filters": [_time_filter("curve_date", "Last year")],
                "annotation_layers": [_level("5%", 5.0, "#7f7f7f")],
                "row_limit": 10000,
                "show_legend": True,
                "tooltipTimeFormat": "%Y-%m-%d",
                # The axis fits the yields (about 4% to 5.5%), not 0 to 6: the moves are what the chart is for.
                "truncateYAxis": True,
                "y_axis_bounds": [None, None],
                "y_axis_format": ".2f",
                "y_axis_title": "%",
            },
        },
        {
            "name": AUCTIONS_CHART,
            "table": "fct_auctions",
            "params": {
                "viz_type": "table",
                "query_mode": "raw",
                "all_columns": [
                    "auction_date",
                    "security_class",
                    "term_group",
                    "tail_proxy_prior_close_bp",
                    "tail_proxy_prior_close_bp_z_prior_12",
                    "bid_to_cover_recomputed",
                    "indirect_share_pct",
                ],
                "order_by_cols": [json.dumps(["auction_date", False])],
                "adhoc_filters": [
                    {
                        "clause": "WHERE",
                        "subject": "security_class",
                        "operator": "IN",
                        "comparator": ["Note", "Bond"],
                        "expressionType": "SIMPLE",
                    },
                    # The last quarter's coupon auctions (about 30) under a row limit they never reach: a limit
                    # the rows hit puts Superset's "rows limited" warning on the chart.
                    _time_filter("auction_date", "Last quarter"),
                ],
                "row_limit": 1000,
                "server_pagination": False,
                "page_length": 0,
                "table_timestamp_format": "%Y-%m-%d",
                "include_search": False,
                "show_cell_bars": True,
                "column_config": {
                    "tail_proxy_prior_close_bp": {"d3NumberFormat": ".1f"},
                    "tail_proxy_prior_close_bp_z_prior_12": {"d3NumberFormat": ".2f"},
                    "bid_to_cover_recomputed": {"d3NumberFormat": ".2f"},
                    "indirect_share_pct": {"d3NumberFormat": ".1f"},
                },
            },
        },
    ]


# --- the steps ------------------------------------------------------------------------------------------------------
def mart_columns(serving: Path) -> dict[str, dict[str, str | None]]:
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts' "
            "order by table_name, column_index"
        ).fetchall()
    marts: dict[str, dict[str, str | None]] = {}
    for table, column, comment in rows:
        marts.setdefault(table, {})[column] = comment
    return marts


def import_bundle(api: Superset, serving: Path) -> None:
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as bundle:
        for path in sorted(BUNDLE.rglob("*.yaml")):
            text = path.read_text()
            if path.parent.name == "databases":
                text = text.replace(URI_PLACEHOLDER, serving_uri(serving))
            bundle.writestr(f"stress_board/{path.relative_to(BUNDLE)}", text)
    api.call(
        "post",
        "dashboard/import/",
        files={"formData": ("stress_board.zip", payload.getvalue(), "application/zip")},
        data={"overwrite": "true", "passwords": "{}"},
    )
    database = api.find("database", "database_name", DATABASE_NAME)
    if not database:
        fail(f"the bundle's import did not register the database {DATABASE_NAME}")
    registered = api.call("get", f"database/{database['id']}/connection")["result"]["sqlalchemy_uri"]
    if registered != serving_uri(serving):
        fail(f"database {DATABASE_NAME} has URI {registered}, expected {serving_uri(serving)}")
    say(f"imported {BUNDLE.relative_to(ROOT)}: database {DATABASE_NAME} -> {registered}")


def dataset_for(api: Superset, database_id: int, table: str, sql: str | None = None) -> int:
    """The id of the dataset for marts.<table> on this database (or of the virtual dataset `table` defined by
    `sql`), created if there is none."""
    found = api.call(
        "get", "dataset/", params={"q": f"(filters:!((col:table_name,opr:eq,value:'{table}')),page_size:100)"}
    )["result"]
    mine = [d["id"] for d in found if d["database"]["id"] == database_id]
    if mine:
        return mine[0]
    definition = {"database": database_id, "schema": "marts", "table_name": table}
    return api.call("post", "dataset/", json={**definition, **({"sql": sql} if sql else {})})["id"]


def sync_marts(api: Superset, serving: Path) -> dict[str, int]:
    """Every mart as a dataset, columns synced through the inspector; returns dataset ids by mart."""
    database = api.find("database", "database_name", DATABASE_NAME)
    expected = mart_columns(serving)
    ids: dict[str, int] = {}
    for mart, columns in expected.items():
        dataset_id = dataset_for(api, database["id"], mart)
        api.call("put", f"dataset/{dataset_id}/refresh")
        synced = {c["column_name"]: c for c in api.call("get", f"dataset/{dataset_id}")["result"]["columns"]}
        physical = {name: c for name, c in synced.items() if not c.get("expression")}
        if set(physical) != set(columns):
            fail(f"dataset {mart}: Superset synced columns {sorted(physical)}, the serving file has {sorted(columns)}")
        undescribed = [name for name, c in physical.items() if not c.get("description")]
        if undescribed:
            fail(f"dataset {mart}: columns without a description after the sync: {undescribed}")
        ids[mart] = dataset_id
        say(f"dataset marts.{mart}: {len(physical)} columns synced, all described")
    return ids


def _day(value) -> str:
    """A date as Superset's chart-data API returns it (epoch milliseconds, or ISO text), as YYYY-MM-DD."""
    return time.strftime("%Y-%m-%d", time.gmtime(value / 1000)) if isinstance(value, (int, float)) else value[:10]


def _compare(what: str, got: dict, expected: dict, unit: str) -> None:
    """Superset's values against DuckDB's, key by key, to 1e-9."""
    if not expected or set(got) != set(expected):
        fail(f"{what}: {len(got)} {unit} from Superset, {len(expected)} from DuckDB")
    off = [k for k in expected if abs(Decimal(str(got[k])) - Decimal(str(expected[k]))) > Decimal("1e-9")]
    if off:
        fail(f"{what} differs from DuckDB in {off[:5]}")


def check_chart_query(api: Superset, dataset_id: int, serving: Path) -> int:
    """The board's query through Superset equals DuckDB's answer, week by week."""
    with duckdb.connect(str(serving), read_only=True) as con:
        latest = con.execute("select max(week_ending) from marts.mart_treasury_stress_weekly").fetchone()[0]
        expected = dict(
            con.execute(
                "select week_ending::varchar, composite_stress_score from marts.mart_treasury_stress_weekly "
                "where week_ending > ?::date - interval 2 year and composite_stress_score is not null",
                [latest],
            ).fetchall()
        )
    query = {
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [
            {
                "columns": ["week_ending"],
                "metrics": [_metric("composite_stress_score", "composite")],
                "filters": [
                    {"col": "week_ending", "op": ">", "val": str(latest.replace(year=latest.year - 2))},
                    {"col": "composite_stress_score", "op": "IS NOT NULL"},
                ],
                "orderby": [["week_ending", True]],
                "row_limit": 10000,
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }
    rows = api.call("post", "chart/data", json=query)["result"][0]["data"]
    got = {_day(row["week_ending"]): row["composite"] for row in rows}
    _compare("chart query: composite", got, expected, "weeks")
    say(f"chart query: composite stress score for {len(got)} weeks to {latest} matches DuckDB")
    return len(got)


def check_components_query(api: Superset, dataset_id: int, serving: Path) -> int:
    """The heatmap's virtual dataset (the components, long) through Superset equals DuckDB's columns, cell by cell."""
    from dagster_project.report.charts import COMPONENTS

    with duckdb.connect(str(serving), read_only=True) as con:
        columns = ", ".join(COMPONENTS)
        wide = con.execute(f"select week_ending::varchar, {columns} from marts.mart_treasury_stress_weekly").fetchall()
    expected = {
        (week, label): value
        for week, *values in wide
        for label, value in zip(COMPONENTS.values(), values, strict=True)
        if value is not None
    }
    query = {
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [
            {
                "columns": ["week_ending", "component"],
                "metrics": [_metric("z", "z")],
                "filters": [{"col": "z", "op": "IS NOT NULL"}],
                "row_limit": 1_000_000,
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }
    rows = api.call("post", "chart/data", json=query)["result"][0]["data"]
    got = {(_day(row["week_ending"]), row["component"]): row["z"] for row in rows}
    _compare("components query: z", got, expected, "week x component cells")
    say(f"components query: {len(got):,} week x component z-scores ({len(COMPONENTS)} components) match DuckDB")
    return len(got)


SCREENSHOT = textwrap.dedent(
    """
    import json, sys, time
    import requests
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, user, password, chromium, chromedriver, jobs = sys.argv[1:7]
    session = requests.Session()
    session.post(base + "/login/", data={"username": user, "password": password}, timeout=60)
    if "session" not in session.cookies:
        sys.exit("could not log in to Superset through /login/")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1500",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    # Chrome's network log: every request the page attempted, answered or not.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=chromedriver))
    report = []
    try:
        driver.get(base + "/health")
        driver.add_cookie({"name": "session", "value": session.cookies["session"], "path": "/"})
        for job in json.loads(jobs):
            driver.get(base + job["path"])
            WebDriverWait(driver, 90).until(
                lambda d: len(d.find_elements(By.CSS_SELECTOR, ".chart-container canvas, .chart-container table"))
                >= job["charts"]
            )
            time.sleep(3)  # let the charts finish their entry animation
            driver.save_screenshot(job["png"])
            if "No results were returned" in driver.page_source:
                sys.exit(f"{job['path']}: a chart returned no rows (is the serving file current? the board shows "
                         "the last two years up to today)")
            requested = [
                json.loads(entry["message"])["message"]["params"]["request"]["url"]
                for entry in driver.get_log("performance")
                if '"Network.requestWillBeSent"' in entry["message"]
            ]
            outside = sorted({u for u in requested if not u.startswith(("http://127.0.0.1", "data:", "blob:"))})
            # What a reader would trip over: a warning icon on a chart (Superset's "rows limited" sign), a date
            # shown with a midnight time.
            warnings = driver.find_elements(By.CSS_SELECTOR, ".chart-slice [aria-label='warning'], "
                                            ".dashboard-component-chart-holder [aria-label='warning']")
            text = driver.find_element(By.TAG_NAME, "body").text
            report.append({"png": job["png"], "requests": len(requested), "outside_requests_attempted": outside,
                           "warning_icons": len(warnings), "midnight_times": text.count("00:00:00")})
    finally:
        driver.quit()
    print(json.dumps(report))
    """
)


def screenshots(api: Superset, bin_dir: Path, out: Path, chart_id: int, dashboard_id: int) -> list[dict]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        fail(
            "Chromium and chromedriver are needed for the screenshots (Debian: apt-get install chromium chromium-driver)"
        )
    jobs = [
        {
            "path": f"/explore/?slice_id={chart_id}&standalone=1",
            "charts": 1,
            "png": str(out / "stress_board_chart.png"),
        },
        {
            "path": f"/superset/dashboard/{dashboard_id}/?standalone=1",
            "charts": len(chart_definitions()),
            "png": str(out / "stress_board.png"),
        },
    ]
    result = subprocess.run(
        [str(bin_dir / "python"), "-c", SCREENSHOT, api.base, ADMIN["username"], ADMIN["password"], chromium]
        + [chromedriver, json.dumps(jobs)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        fail(f"screenshots: exit {result.returncode}\n{result.stdout[-1500:]}\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for shot in report:
        colours = subprocess.run(
            [
                str(bin_dir / "python"),
                "-c",
                "import sys; from PIL import Image; "
                "print(len(Image.open(sys.argv[1]).convert('RGB').getcolors(1 << 24)))",
                shot["png"],
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        shot["colours"] = int(colours)
        if shot["colours"] < 50:
            fail(f"{shot['png']} looks blank ({colours} colours)")
        if shot["warning_icons"] or shot["midnight_times"]:
            fail(
                f"{shown(shot['png'])}: {shot['warning_icons']} warning icon(s) on the charts, "
                f"{shot['midnight_times']} date(s) shown with a 00:00:00 time"
            )
        outside = shot["outside_requests_attempted"]
        say(
            f"screenshot {shown(shot['png'])}: {shot['colours']:,} colours; {shot['requests']} requests, "
            f"{len(outside)} beyond 127.0.0.1 (blocked: the browser resolves no other host); no warning icon, "
            "no date with a time" + (f": {', '.join(outside)}" if outside else "")
        )
    return report


def report_views(serving: Path, out: Path) -> list[Path]:
    """The HTML report beside the serving file as a person sees it, saved beside Superset's screenshots: its first
    screen at 1,400 px (the board), the whole page, and the PDF Chromium prints (with its first page as an image when
    poppler's pdftoppm is installed)."""
    page = serving.parent / "report" / "index.html"
    if not page.exists():
        fail(f"no report at {page}: `make demo` writes it after publishing")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        fail("Chromium is needed for the report's screenshots (Debian: apt-get install chromium)")
    headless = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    headless += ["--host-resolver-rules=MAP * ~NOTFOUND"]
    saved = []
    for name, flags in (
        ("report_board.png", ["--window-size=1400,1000", f"--screenshot={out / 'report_board.png'}"]),
        ("report_page.png", ["--window-size=1400,9000", f"--screenshot={out / 'report_page.png'}"]),
        ("report.pdf", ["--no-pdf-header-footer", f"--print-to-pdf={out / 'report.pdf'}"]),
    ):
        result = subprocess.run([*headless, *flags, page.as_uri()], capture_output=True, text=True, timeout=180)
        if result.returncode != 0 or not (out / name).exists():
            fail(f"Chromium could not save {name}: exit {result.returncode}\n{result.stderr[-2000:]}")
        saved.append(out / name)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-f", "1", "-l", "1", "-r", "80", "-png", "-singlefile", str(out / "report.pdf")]
            + [str(out / "report_print_page_1")],
            check=True,
        )
        saved.append(out / "report_print_page_1.png")
    say(f"report: {', '.join(shown(path) for path in saved)}")
    return saved


def export_bundle(api: Superset, serving: Path) -> None:
    """Rebuild bi/superset/stress_board/ from chart_definitions() (maintainers: after changing the board)."""
    database = api.find("database", "database_name", DATABASE_NAME) or api.call(
        "post",
        "database/",
        json={"database_name": DATABASE_NAME, "sqlalchemy_uri": serving_uri(serving), "expose_in_sqllab": True},
    )
    database_id = database["id"]
    dashboard_id = api.call(
        "post",
        "dashboard/",
        json={"dashboard_title": DASHBOARD_TITLE, "slug": "treasury-stress-board", "published": True},
    )["id"]
    chart_ids: dict[str, int] = {}
    for chart in chart_definitions():
        dataset_id = dataset_for(api, database_id, chart["table"], chart.get("sql"))
        params = {**chart["params"], "datasource": f"{dataset_id}__table"}
        chart_ids[chart["name"]] = api.call(
            "post",
            "chart/",
            json={
                "slice_name": chart["name"],
                "viz_type": params["viz_type"],
                "datasource_id": dataset_id,
                "datasource_type": "table",
                "params": json.dumps(params),
                "dashboards": [dashboard_id],
            },
        )["id"]
    # The composite alone across the top, the components' heatmap under it on the same two years; the 5% chart and
    # the auction scorecard side by side below.
    names = [c["name"] for c in chart_definitions()]
    rows = [[(names[0], 12, 55)], [(names[1], 12, 50)], [(names[2], 5, 60), (names[3], 7, 60)]]
    layout: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": DASHBOARD_TITLE}},
    }
    for number, row in enumerate(rows, start=1):
        row_id = f"ROW-{number}"
        layout["GRID_ID"]["children"].append(row_id)
        layout[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for name, width, height in row:
            chart_key = f"CHART-{chart_ids[name]}"
            layout[row_id]["children"].append(chart_key)
            layout[chart_key] = {
                "type": "CHART",
                "id": chart_key,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {"chartId": chart_ids[name], "width": width, "height": height, "sliceName": name},
            }
    api.call("put", f"dashboard/{dashboard_id}", json={"position_json": json.dumps(layout)})
    response = api.http.get(f"{api.base}/api/v1/dashboard/export/", params={"q": f"!({dashboard_id})"}, timeout=120)
    if not response.ok:
        fail(f"export: HTTP {response.status_code}: {response.text[:500]}")
    shutil.rmtree(BUNDLE, ignore_errors=True)
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        for name in bundle.namelist():
            relative = Path(*Path(name).parts[1:])
            target = BUNDLE / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            text = bundle.read(name).decode()
            target.write_text(text.replace(serving_uri(serving), URI_PLACEHOLDER))
    _pin_layout_to_chart_uuids()
    say(f"exported the stress board to {BUNDLE.relative_to(ROOT)}")


def _pin_layout_to_chart_uuids() -> None:
    """Superset's export keys the layout's charts by this instance's ids, and appends a row of its own for charts
    whose layout entry has no uuid. An import maps charts by uuid: put each chart's uuid in the layout and drop the
    appended row, so the board keeps its shape in any Superset."""
    import yaml  # PyYAML, a dbt dependency

    uuids = {}
    for path in (BUNDLE / "charts").glob("*.yaml"):
        chart = yaml.safe_load(path.read_text())
        uuids[chart["slice_name"]] = chart["uuid"]
    [dashboard_path] = (BUNDLE / "dashboards").glob("*.yaml")
    dashboard = yaml.safe_load(dashboard_path.read_text())
    position = dashboard["position"]
    ours = set(position["GRID_ID"]["children"]) & {k for k in position if k.startswith("ROW-") and k[4:].isdigit()}
    for key in [k for k in position if k.startswith("ROW-") and k not in ours]:
        for child in position.pop(key)["children"]:
            position.pop(child, None)
        position["GRID_ID"]["children"].remove(key)
    for key, item in position.items():
        if key.startswith("CHART-"):
            item["meta"]["uuid"] = uuids[item["meta"]["sliceName"]]
    dashboard_path.write_text(yaml.safe_dump(dashboard, sort_keys=False, allow_unicode=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--serving", type=Path, default=None, help="serving file (default $TREASURY_SERVING or data/serving.duckdb)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "bi-check", help="screenshots and logs")
    parser.add_argument("--export", action="store_true", help="rebuild bi/superset/stress_board/ instead of checking")
    args = parser.parse_args()
    serving = (args.serving or Path(os.environ.get("TREASURY_SERVING", ROOT / "data" / "serving.duckdb"))).resolve()
    if not serving.exists():
        fail(f"no serving file at {serving}: run `make demo` first")
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    bin_dir = install()
    version = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import importlib.metadata as m; "
            "print(' '.join(f'{p} {m.version(p)}' for p in ('apache-superset', 'duckdb', 'duckdb-engine', 'sqlalchemy')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    say(f"versions: {version}")
    with tempfile.TemporaryDirectory(prefix="superset-home-") as scratch:
        env = superset_env(Path(scratch))
        prepare(bin_dir, env)
        api = Superset(bin_dir, env, args.out / "superset.log")
        try:
            say(f"Superset running on {api.base}")
            if args.export:
                export_bundle(api, serving)
                return 0
            import_bundle(api, serving)
            datasets = sync_marts(api, serving)
            weeks = check_chart_query(api, datasets["mart_treasury_stress_weekly"], serving)
            components = api.find("dataset", "table_name", COMPONENTS_DATASET)
            if not components:
                fail(f"the imported bundle has no {COMPONENTS_DATASET} dataset (the heatmap's)")
            check_components_query(api, components["id"], serving)
            chart = api.find("chart", "slice_name", STRESS_CHART)
            dashboard = api.find("dashboard", "dashboard_title", DASHBOARD_TITLE)
            if not chart or not dashboard:
                fail("the imported bundle has no stress-board chart or dashboard")
            shots = screenshots(api, bin_dir, args.out, chart["id"], dashboard["id"])
        finally:
            api.close()
    views = report_views(serving, args.out)
    say(
        f"OK in {time.perf_counter() - started:.0f}s: {len(datasets)} marts synced with descriptions, the composite for "
        f"{weeks} weeks matches DuckDB, screenshots: {', '.join(shown(s['png']) for s in shots)}; the report: "
        f"{', '.join(shown(v) for v in views)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
