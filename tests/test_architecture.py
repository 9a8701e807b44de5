"""Layering rules from DESIGN.md, checked by parsing imports (no import side effects)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("data_loaders", "events", "strategies", "backtests")
# package -> our packages it may import
ALLOWED = {
    "data_loaders": set(),
    "events": {"data_loaders"},
    "strategies": {"data_loaders", "events"},
    "backtests": {"data_loaders", "events", "strategies"},
}
BACKTRADER_ALLOWED = {"strategies/base.py", "backtests/engine.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_flow_one_way(package: str) -> None:
    bad = []
    for path in sorted((REPO / package).rglob("*.py")):
        for name in _imports(path) & set(PACKAGES):
            if name != package and name not in ALLOWED[package]:
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert not bad, "layering violated:\n" + "\n".join(bad)


def test_only_the_engine_and_strategy_base_know_backtrader() -> None:
    users = {str(p.relative_to(REPO)) for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")
             if "backtrader" in _imports(p)}
    extra = users - BACKTRADER_ALLOWED - {p for p in users if p.startswith("backtests/sweeps")}
    assert not extra, f"backtrader imported outside the engine/strategy base: {sorted(extra)}"


@pytest.mark.parametrize("package", PACKAGES)
def test_top_level_package_resolves_inside_the_repository(package: str) -> None:
    # `events` and `strategies` are also names of unrelated PyPI distributions.
    module = importlib.import_module(package)
    assert Path(module.__file__).resolve().parent == REPO / package
