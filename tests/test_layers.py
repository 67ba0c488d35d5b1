"""The dependency direction between leadsync's packages (docs/architecture.md, "Layers").

Every `import` in a package is checked against the packages it may use; a test fails naming the
file, line and the import that crosses a layer the wrong way.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Which of our packages each package may import (besides itself).
ALLOWED: dict[str, frozenset[str]] = {
    "scoring": frozenset(),
    "config": frozenset({"scoring"}),
    "connectors": frozenset({"scoring"}),
    "sync": frozenset({"config", "connectors", "scoring"}),
    "revops": frozenset({"sync", "config", "connectors", "scoring"}),
    "cli": frozenset({"revops", "sync", "config", "connectors", "scoring", "sandbox"}),
    "sandbox": frozenset(),
}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import of one of our packages in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, mod) for line, mod in found if mod.split(".")[0] in ALLOWED]


def violations(package: str) -> list[str]:
    """Imports in `package` of packages it may not use, as `file:line imports module`."""
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imported_packages(path):
            top = module.split(".")[0]
            if top != package and top not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_lower_layers(package: str) -> None:
    assert violations(package) == []


def test_checker_reports_a_wrong_way_import(tmp_path: Path) -> None:
    source = tmp_path / "wrong.py"
    source.write_text("import json\nfrom sync.engine import Engine\nimport scoring.types\n")
    assert imported_packages(source) == [(2, "sync.engine"), (3, "scoring.types")]


def test_every_package_has_a_rule() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(ALLOWED)


def test_daemon_command_loads_no_sandbox_revops_or_plots() -> None:
    code = (
        "import sys, click, cli.main\n"
        "cli.main.cli.get_command(click.Context(cli.main.cli), 'run')\n"
        "heavy = ('sandbox', 'revops', 'plotly', 'sklearn', 'numpy')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_every_lazily_listed_command_exists_under_its_name() -> None:
    import click

    from cli.main import COMMAND_MODULES, cli

    ctx = click.Context(cli)
    for name in COMMAND_MODULES:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name, name
    # and no module registers a command the lazy list does not know
    assert set(cli.commands) == set(COMMAND_MODULES)
