"""The dbt project as Dagster sees it; the manifest is built with `dbt parse` when missing."""

from dagster_dbt import DbtProject

from ingestion import settings
from ingestion.transform import DBT_DIR, run_dbt

DBT_PROJECT = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
if not DBT_PROJECT.manifest_path.exists():
    # Definitions need the manifest; `dg dev` rebuilds it, and elsewhere one parse is enough.
    run_dbt(["parse"], settings.warehouse_path())
