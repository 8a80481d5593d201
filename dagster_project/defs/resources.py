"""Resources shared by the ingestion, transform and publish assets."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dlt import DagsterDltResource

from dagster_project.defs.transform.project import DBT_PROJECT
from ingestion import settings


@dg.definitions
def resources() -> dg.Definitions:
    # dbt runs in its project folder: give it the warehouse as an absolute path (one variable for all three tools).
    os.environ[settings.WAREHOUSE_ENV] = str(settings.warehouse_path().resolve())
    return dg.Definitions(resources={"dlt": DagsterDltResource(), "dbt": DbtCliResource(project_dir=DBT_PROJECT)})
