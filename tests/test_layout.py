"""The architecture, read from the code: `ingestion/` is plain dlt (no Dagster, no emulator, anywhere in a module,
at the top or inside a function), the emulator is a leaf, production code never imports the tests, and the README's
layout section names every package folder."""

from __future__ import annotations

import ast
import re
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
    assert users == {"dagster_project/runner/cli.py"}  # `--sample` and `treasury emulator` start it
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


def _code_strings_and_names(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant that is not a docstring, every name and attribute, and every imported
    module of a file: what the code says, not what its prose says."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Name):
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.lineno, node.module)] + [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def test_a_source_is_named_only_in_its_places():
    """A source's name (or its raw schema) appears in code only in its folder, its emulator module and the registry:
    everything else iterates the registry (ingestion/registry.py). The emulator's modules may use each other (the
    synthetic world is one: auctions are priced off the curve, SOMA holds the auctioned securities)."""
    from ingestion.registry import NAMES

    patterns = {name: re.compile(rf"(?:^|[^a-z_]|raw_){name}(?![a-z_])") for name in NAMES}
    found = {}
    for package in ("ingestion", "dagster_project", "emulator"):
        for path in modules(package):
            relative = path.relative_to(ROOT)
            for line, text in _code_strings_and_names(path):
                for name, pattern in patterns.items():
                    own = relative.parts[:2] == ("ingestion", name) or relative == Path("emulator", f"{name}.py")
                    if own or relative == Path("ingestion/registry.py"):
                        continue
                    if relative.parts[0] == "emulator" and text.startswith(f"emulator.{name}"):
                        continue
                    if pattern.search(text):
                        found.setdefault(f"{relative}:{line}", set()).add(name)
    assert found == {}


def test_only_the_command_line_entry_writes_the_environment():
    """Run settings travel as the Warehouse resource and as arguments: only the CLI entry (sample mode's hosts for
    dlt, DAGSTER_HOME for the in-process build) writes os.environ."""
    writes = {}
    for package in ("ingestion", "dagster_project", "emulator"):
        for path in modules(package):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                target = None
                if isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
                    targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
                    target = next((t for t in targets if isinstance(t, ast.Subscript)), None)
                    target = target.value if target is not None else None
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    if node.func.attr in ("update", "setdefault", "pop", "clear", "popitem", "__setitem__"):
                        target = node.func.value
                    elif node.func.attr in ("putenv", "unsetenv"):
                        writes.setdefault(str(path.relative_to(ROOT)), []).append(node.lineno)
                if target is not None and ast.unparse(target) in ("os.environ", "environ"):
                    writes.setdefault(str(path.relative_to(ROOT)), []).append(node.lineno)
    assert set(writes) == {"dagster_project/runner/cli.py"}, writes
