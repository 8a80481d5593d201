"""The names of the run settings and how they are parsed: one environment variable per concept, shared by the CLI,
the sources, dbt's profile and Dagster's run-settings resource. Nothing here runs at import.

dlt's own settings (every source's public host and options, telemetry off, one load worker, the replace strategy)
are in `.dlt/config.toml`, which `use_project_dlt_config` makes dlt read from any working folder.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
# A point in time given as a date means the end of that day: everything published on it.
END_OF_DAY = time.max

# The warehouse the pipeline builds (dlt, dbt and Dagster all read this one variable): a DuckDB file (the embedded
# default), or `ducklake:<catalog>` for the lakehouse (ingestion/common/lake.py).
WAREHOUSE_ENV = "TREASURY_WAREHOUSE"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
# The lake's data files: a folder, or s3://bucket/prefix (a local catalog defaults to `<catalog>.files/` beside it).
LAKE_DATA_PATH_ENV = "TREASURY_LAKE_DATA_PATH"
# The read-only copy BI tools and SQL users open, published after a fully checked build.
SERVING_ENV = "TREASURY_SERVING"
# Sample mode: run every source against the built-in API emulator instead of the public hosts.
SAMPLE_ENV = "TREASURY_SAMPLE"
# The point in time the run treats as now: a date (its end) or a New York time; the emulator's data horizon, the end
# of every fetch range and the point-in-time cut-offs (a source's day D only after its publication time on D).
AS_OF_ENV = "TREASURY_AS_OF"


def warehouse_setting() -> str:
    """TREASURY_WAREHOUSE as given (default data/warehouse.duckdb)."""
    return (os.environ.get(WAREHOUSE_ENV) or "").strip() or DEFAULT_WAREHOUSE


def lake_data_path() -> str:
    return os.environ.get(LAKE_DATA_PATH_ENV, "").strip()


def warehouse(value: str | Path | None = None):
    """The warehouse `value` (a flag's) or TREASURY_WAREHOUSE names: a DuckDB file as an absolute path (dbt runs in
    another folder), or a Lake. A malformed lake setting raises LakeConfigError, naming the variable."""
    from ingestion.common.warehouse import parse_target

    return parse_target(value if value is not None else warehouse_setting(), lake_data_path() or None)


def serving_path(beside: Path | None = None) -> Path:
    """TREASURY_SERVING, default serving.duckdb in the folder `beside` (the warehouse file's folder), else in
    TREASURY_WAREHOUSE's folder (data/ for a lake)."""
    if beside is None:
        target = warehouse()
        beside = target.parent if isinstance(target, Path) else Path(DEFAULT_WAREHOUSE).absolute().parent
    return Path(os.environ.get(SERVING_ENV) or beside / "serving.duckdb").absolute()


def sample_mode() -> bool:
    return os.environ.get(SAMPLE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def parse_point_in_time(raw: str) -> datetime:
    """A point in time as TREASURY_AS_OF or --as-of gives it: `YYYY-MM-DD` (the end of that day: everything
    published on it) or `YYYY-MM-DDTHH:MM` (New York time; a UTC offset may follow), or an error that names the
    variable. Returned in New York time."""
    text = raw.strip()
    try:
        if len(text) == len("YYYY-MM-DD"):
            return datetime.combine(date.fromisoformat(text), END_OF_DAY, NEW_YORK)
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError as exc:
        raise ValueError(
            f"{AS_OF_ENV}={raw!r} is neither a date (YYYY-MM-DD) nor a New York time (YYYY-MM-DDTHH:MM)"
        ) from exc
    return moment.replace(tzinfo=NEW_YORK) if moment.tzinfo is None else moment.astimezone(NEW_YORK)


def format_point_in_time(moment: datetime) -> str:
    """The inverse of parse_point_in_time: `YYYY-MM-DD` for the end of a day, else `YYYY-MM-DDTHH:MM[:SS]`."""
    moment = moment.astimezone(NEW_YORK)
    if moment.time() == END_OF_DAY:
        return moment.date().isoformat()
    return moment.replace(tzinfo=None).isoformat(timespec="minutes" if moment.second == 0 else "seconds")


def describe_point_in_time(moment: datetime) -> str:
    """For people: `2026-12-04` (end of day) or `2026-12-04 10:23 New York`."""
    text = format_point_in_time(moment)
    return text if "T" not in text else f"{text.replace('T', ' ')} New York"


def parse_as_of(raw: str) -> date:
    """The day of a point in time as TREASURY_AS_OF or --as-of gives it."""
    return parse_point_in_time(raw).date()


def now_in_new_york() -> datetime:
    return datetime.now(NEW_YORK).replace(second=0, microsecond=0)


def configured_point_in_time() -> datetime | None:
    """TREASURY_AS_OF's point in time, or None when it is unset (then each command takes now)."""
    raw = os.environ.get(AS_OF_ENV, "").strip()
    return parse_point_in_time(raw) if raw else None


def point_in_time() -> datetime:
    """TREASURY_AS_OF if set, otherwise now in New York (the sources' publication clock), to the minute. A source's
    data of day D is used only once its publication time on D has passed (ingestion/<source>/releases.py)."""
    return configured_point_in_time() or now_in_new_york()


def as_of() -> date:
    """The day of point_in_time(): TREASURY_AS_OF's date, otherwise today's date in New York."""
    return point_in_time().date()


def load_dotenv(path: Path | None = None) -> bool:
    """Read `.env` (in the working folder) into the environment, without overriding what is already set: every
    command (`treasury`, `python -m ingestion`, `dg dev` through the definitions) honours it. True if a file was read."""
    from dotenv import load_dotenv as _load

    file = path or Path(".env")
    return file.is_file() and _load(file, override=False)


PROJECT_ROOT = Path(__file__).resolve().parent.parent


@cache
def use_project_dlt_config() -> None:
    """Let dlt read the project's `.dlt/config.toml` whatever the working folder, after the environment and a
    `.dlt/` of the working folder (so `SOURCES__<NAME>__BASE_URL` and a local file still override it). Once per
    process; the pipelines and sources call it before dlt resolves their configuration."""
    import dlt
    from dlt.common.configuration.providers import ConfigTomlProvider

    class ProjectConfigToml(ConfigTomlProvider):
        @property
        def name(self) -> str:  # dlt keys providers by name; the working folder's config.toml has the plain one
            return "project .dlt/config.toml"

    dlt.config.register_provider(ProjectConfigToml(settings_dir=str(PROJECT_ROOT / ".dlt")))
    # dlt set up its runtime (telemetry, logging, the HTTP client's retries) when the provider list was first read,
    # before this file was among them: set it up again from the project's settings (telemetry off among them).
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
    from dlt.common.runtime.telemetry import stop_telemetry

    stop_telemetry()
    Container()[PluggableRunContext].initialize_runtime()
