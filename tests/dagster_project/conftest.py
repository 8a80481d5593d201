"""One full sample run through the Dagster job per session; tests that change data work on copies of its files."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import AS_OF


@dataclass(frozen=True)
class SampleBuild:
    """The warehouse and serving file of a good sample build, kept pristine: copy them before changing anything."""

    warehouse: Path
    serving: Path
    check_evaluations: list
    materializations: dict  # asset key string -> {metadata key: value}

    def copy_to(self, folder: Path) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        warehouse, serving = folder / "warehouse.duckdb", folder / "serving.duckdb"
        shutil.copy(self.warehouse, warehouse)
        shutil.copy(self.serving, serving)
        return warehouse, serving


def use_sample_env(monkeypatch: pytest.MonkeyPatch, warehouse: Path, serving: Path) -> None:
    monkeypatch.setenv("TREASURY_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TREASURY_SERVING", str(serving))
    monkeypatch.setenv("TREASURY_SAMPLE", "1")
    monkeypatch.setenv("TREASURY_AS_OF", AS_OF.isoformat())


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> SampleBuild:
    folder = tmp_path_factory.mktemp("sample_build")
    mp = pytest.MonkeyPatch()
    use_sample_env(mp, folder / "warehouse.duckdb", folder / "serving.duckdb")
    try:
        from dagster_project.definitions import defs

        result = defs().resolve_job_def("refresh_all").execute_in_process()
        assert result.success
        evaluations = result.get_asset_check_evaluations()
        materializations = {}
        for event in result.all_events:
            if event.is_step_materialization:
                m = event.event_specific_data.materialization
                materializations[m.asset_key.to_user_string()] = {k: v.value for k, v in m.metadata.items()}
    finally:
        mp.undo()
    pristine = folder / "pristine"
    pristine.mkdir()
    for name in ("warehouse.duckdb", "serving.duckdb"):
        shutil.copy(folder / name, pristine / name)
    return SampleBuild(pristine / "warehouse.duckdb", pristine / "serving.duckdb", evaluations, materializations)
