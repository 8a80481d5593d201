"""Dagster entry point: everything under defs/ autoloads; cross-cutting policy is applied here, once."""

from pathlib import Path

import dagster as dg

from dagster_project.lib.progress import LOGGERS
from ingestion import settings

settings.load_dotenv()  # `dg dev` and `dg check` started by hand read .env like every `treasury` command


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    # One DuckDB writer at a time: every run executes its steps in one process, one after another. The loggers are
    # Dagster's console (the default) and the ones `treasury build` selects (progress line per step, log file).
    return dg.Definitions.merge(loaded, dg.Definitions(executor=dg.in_process_executor, loggers=LOGGERS))
