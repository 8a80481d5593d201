"""Settings shared by the CLI, the sources and the emulator: one environment variable per concept."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")

# The DuckDB file the pipeline builds (dlt, dbt and Dagster all read this one variable).
WAREHOUSE_ENV = "TREASURY_WAREHOUSE"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
# The read-only copy BI tools and SQL users open, published after a fully checked build.
SERVING_ENV = "TREASURY_SERVING"
# Sample mode: run every source against the built-in API emulator instead of the public hosts.
SAMPLE_ENV = "TREASURY_SAMPLE"
# The date the run treats as today (the emulator's data horizon and the end of every fetch range).
AS_OF_ENV = "TREASURY_AS_OF"

# Public hosts; each is overridable through dlt config (`sources.<name>.base_url`) or its env var.
FISCALDATA_BASE_URL = "https://api.fiscaldata.treasury.gov/services/api/fiscal_service"
YIELD_CURVE_BASE_URL = "https://home.treasury.gov/resource-center/data-chart-center/interest-rates"
CFTC_BASE_URL = "https://publicreporting.cftc.gov"
TIC_BASE_URL = "https://ticdata.treasury.gov/resource-center/data-chart-center/tic/Documents"
PRIMARY_DEALERS_BASE_URL = "https://markets.newyorkfed.org/api/pd"
FUNDING_RATES_BASE_URL = "https://markets.newyorkfed.org/api"
FRED_BASE_URL = "https://fred.stlouisfed.org/graph"

# dlt, dbt and Dagster send nothing anywhere but the data hosts.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
# A replaced table (TIC's current table) is swapped in one transaction from a staging copy, never truncated first.
os.environ.setdefault("DESTINATION__REPLACE_STRATEGY", "insert-from-staging")
# One load job at a time: DuckDB has one writer, and dlt's default of 20 parallel jobs held the CFTC load's peak memory
# at about 1.4 GB instead of 1.0 GB on 2 cores, for no gain in time.
os.environ.setdefault("LOAD__WORKERS", "1")
# Every raw row carries the dlt load that wrote it (dlt leaves it off Arrow tables by default).
os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")


def warehouse_path() -> Path:
    """TREASURY_WAREHOUSE (default data/warehouse.duckdb), as an absolute path: dbt runs in another folder."""
    return Path(os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE).absolute()


def serving_path() -> Path:
    """TREASURY_SERVING, default serving.duckdb beside the warehouse file."""
    return Path(os.environ.get(SERVING_ENV) or warehouse_path().parent / "serving.duckdb").absolute()


def sample_mode() -> bool:
    return os.environ.get(SAMPLE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def as_of() -> date:
    """TREASURY_AS_OF if set, otherwise today's date in New York (the sources' publication clock)."""
    raw = os.environ.get(AS_OF_ENV, "").strip()
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise ValueError(f"{AS_OF_ENV}={raw!r} is not a date (YYYY-MM-DD)") from exc
    return datetime.now(NEW_YORK).date()


def load_dotenv(path: Path | None = None) -> bool:
    """Read `.env` (in the working folder) into the environment, without overriding what is already set: every
    command (`treasury`, `python -m ingestion`, `dg dev` through the definitions) honours it. True if a file was read."""
    from dotenv import load_dotenv as _load

    file = path or Path(".env")
    return file.is_file() and _load(file, override=False)
