"""The engine (the only Cerebro), costs, money, results, metrics, studies and the CLI.

The Python API (:mod:`backtests.api`)::

    from backtests import run, study, sweep, report, load_config

Importing ``backtests`` is cheap: each name is imported on first use. The rooms behind
them are sub-packages with names of their own, so none shadows an API function:
``backtests.cli`` (the command line), ``backtests.event_study``, ``backtests.sweeps`` and
``backtests.reporting`` (the tearsheet).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["load_config", "report", "run", "study", "sweep"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("backtests.api"), name)
    raise AttributeError(f"module 'backtests' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
