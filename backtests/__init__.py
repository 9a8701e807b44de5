"""The engine (the only Cerebro), costs, money, results, metrics, studies and the CLI.

The Python API (:mod:`backtests.api`)::

    from backtests import run, study, sweep, report, load_config

Importing ``backtests`` is cheap: each name is imported on first use. ``sweep`` and
``report`` are also sub-packages (``backtests.sweep``, ``backtests.report``); calling either
package runs the API function of its name, so ``from backtests import sweep`` gives a
callable whichever was imported first.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__all__ = ["load_config", "report", "run", "study", "sweep"]


class _CallablePackage(types.ModuleType):
    """A sub-package that is also the API function of its name (see the module docstring)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        api = importlib.import_module("backtests.api")
        return getattr(api, self.__name__.rpartition(".")[2])(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<package {self.__name__!r}, callable as backtests.api.{self.__name__.rpartition('.')[2]}>"


def callable_package(name: str) -> None:
    """Make package ``name`` (``backtests.sweep``, ``backtests.report``) call its API function."""
    sys.modules[name].__class__ = _CallablePackage


def __getattr__(name: str) -> Any:
    if name in ("run", "study", "load_config"):
        return getattr(importlib.import_module("backtests.api"), name)
    if name in ("sweep", "report"):
        return importlib.import_module(f"backtests.{name}")
    raise AttributeError(f"module 'backtests' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
