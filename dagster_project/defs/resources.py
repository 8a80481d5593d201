"""Resources shared by the ingestion, transform and publish assets."""

import dagster as dg
from dagster_dlt import DagsterDltResource

from dagster_project.lib.dbt import dbt_resource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"dlt": DagsterDltResource(), "dbt": dbt_resource()})
