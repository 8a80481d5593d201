"""Resources shared by the ingestion, transform and publish assets: the run settings (`warehouse`), dlt and dbt."""

import dagster as dg
from dagster_dlt import DagsterDltResource

from dagster_project.lib.dbt import dbt_resource
from dagster_project.lib.warehouse import Warehouse


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"warehouse": Warehouse.from_environment(), "dlt": DagsterDltResource(), "dbt": dbt_resource()}
    )
