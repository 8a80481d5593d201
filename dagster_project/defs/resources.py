"""Resources shared by the ingestion, transform and publish assets."""

import os
import sys
from functools import cached_property
from importlib.metadata import version
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dlt import DagsterDltResource
from packaging.version import Version

from dagster_project.defs.transform.project import DBT_PROJECT
from ingestion import settings

# dbt as a child that dies with its parent (dagster_project/lib/dbt_child.py), installed beside this Python.
DBT_CHILD = str(Path(sys.executable).with_name("treasury-dbt"))


class ProjectDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, reading dbt's version from the installed package: dagster-dbt would run
    `dbt --version`, which asks the package index for the latest release (a request to a non-data host)."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))


@dg.definitions
def resources() -> dg.Definitions:
    # dbt runs in its project folder: give it the warehouse as an absolute path (one variable for all three tools).
    os.environ[settings.WAREHOUSE_ENV] = str(settings.warehouse_path().resolve())
    return dg.Definitions(
        resources={
            "dlt": DagsterDltResource(),
            "dbt": ProjectDbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_CHILD),
        }
    )
