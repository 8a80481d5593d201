"""The dbt project as Dagster sees it; the manifest is rebuilt with `dbt parse` when missing or older than the project."""

from pathlib import Path

from dagster_dbt import DbtProject

from ingestion import settings
from ingestion.transform import DBT_DIR, run_dbt

DBT_PROJECT = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def _manifest_is_stale(manifest: Path) -> bool:
    """True when the manifest is missing or any model, test, macro, seed or project file changed after it was written."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [
        DBT_DIR / "dbt_project.yml",
        *(p for d in ("models", "macros", "tests", "seeds") for p in (DBT_DIR / d).rglob("*")),
    ]
    return any(p.is_file() and p.stat().st_mtime > built for p in sources)


if _manifest_is_stale(DBT_PROJECT.manifest_path):
    # Definitions need a manifest that matches the project (`dg dev` rebuilds it too); one parse is enough.
    run_dbt(["parse"], settings.warehouse_path())
