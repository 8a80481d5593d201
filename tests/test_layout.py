"""The architecture, read from the code: `ingestion/` is plain dlt (no Dagster, no emulator, anywhere in a module,
at the top or inside a function), the emulator is a leaf, production code never imports the tests, and the README's
layout section names every package folder."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports(path: Path) -> set[str]:
    """Every module a file imports, wherever the import statement is."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(package: str, *, exclude: str | None = None) -> list[Path]:
    return [p for p in sorted((ROOT / package).rglob("*.py")) if exclude is None or (ROOT / exclude) not in p.parents]


def test_ingestion_imports_neither_dagster_nor_the_emulator():
    offending = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in imports(path)
            if name.split(".")[0] in ("dagster", "dagster_project", "dagster_dbt", "dagster_dlt")
            or name.split(".")[0] == "emulator"
        )
        for path in modules("ingestion")
    }
    assert {path: names for path, names in offending.items() if names} == {}
    assert len(offending) > 15  # the check saw the package


def test_the_emulator_is_a_leaf_and_production_code_never_imports_tests():
    users = {
        str(path.relative_to(ROOT))
        for package in ("ingestion", "dagster_project")
        for path in modules(package)
        if any(name.split(".")[0] == "emulator" for name in imports(path))
    }
    assert users == {"dagster_project/cli.py"}  # `--sample` and `treasury emulator` start it
    for package in ("ingestion", "dagster_project", "emulator"):
        for path in modules(package):
            assert not any(name.split(".")[0] == "tests" for name in imports(path)), path


def test_the_readme_layout_names_every_package_folder():
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    folders = {
        str(p.relative_to(ROOT))
        for package in ("ingestion", "dagster_project", "emulator")
        for p in [ROOT / package, *(ROOT / package).rglob("*")]
        if p.is_dir() and p.name != "__pycache__" and (p / "__init__.py").exists()
    }
    missing = [folder for folder in sorted(folders) if f"{folder.rsplit('/', 1)[-1]}/" not in layout]
    assert missing == []
