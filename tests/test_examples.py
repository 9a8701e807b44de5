"""The README's Python example and the example notebook run as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "examples" / "catalyst_bt_api.ipynb"


def readme_python_example() -> str:
    """The first ```python block of the README's "Python API" section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README's Python API section has no ```python block"
    return match.group(1)


def test_readme_python_example_runs(prices_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the example uses the README's relative paths
    namespace: dict[str, object] = {}
    exec(compile(readme_python_example(), "README.md", "exec"), namespace)  # noqa: S102
    res = namespace["res"]
    assert res.config.strategy.params.hold_sessions == 3  # type: ignore[attr-defined]
    assert len(res.trades) > 0  # type: ignore[attr-defined]


def test_example_notebook_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernel inherits the environment: make this checkout importable in it
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()  # raises on a failing cell
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "did you mean 'hold_sessions'" in text
    assert "tearsheet.html True" in text
