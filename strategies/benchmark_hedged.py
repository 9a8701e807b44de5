"""``BenchmarkHedged``: any catalyst strategy, with every trade hedged by the benchmark index.

The wrapped strategy trades as it would alone; each of its trades is paired with an
opposite position in the benchmark index (HSTECH), worth ``beta ×`` the trade's value at
the decision, where ``beta`` is the rolling OLS beta of the listing on the index over
completed sessions. The hedge is placed at the index's first open at or after the
decision (the same instant for a Hong Kong trade at the open; the next Hong Kong morning
for a BABA trade) and lifted at the index's first open at or after the trade's exit.
The mechanics live in :class:`strategies.base.CatalystStrategy` (``HedgeSpec``); this module
is the parameter object users write in config files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strategies.base import HedgeSpec


@dataclass(frozen=True, kw_only=True, slots=True)
class BenchmarkHedgedParams:
    """Parameters.

    Attributes
    ----------
    strategy
        Name of the wrapped strategy (any registered one except this).
    params
        The wrapped strategy's parameters (validated by its own parameter class).
    beta_window_sessions, min_beta_sessions
        Rolling beta window, and the fewest aligned returns to trust it (else beta 1).
    inner
        The wrapped strategy's validated parameter object (built here).
    """

    strategy: str = "post_event_drift"
    params: Mapping[str, Any] = field(default_factory=dict)
    beta_window_sessions: int = 60
    min_beta_sessions: int = 20
    inner: Any = field(init=False, default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        from strategies.registry import build_params  # the registry lists this module too

        if self.strategy == "benchmark_hedged":
            raise ValueError("benchmark_hedged cannot wrap itself; set strategy = \"post_event_drift\" or another")
        if not isinstance(self.params, Mapping):
            raise ValueError(f"params must be a table of the wrapped strategy's parameters, got {self.params!r}")
        self.spec  # validates the beta window
        object.__setattr__(self, "inner", build_params(self.strategy, dict(self.params),
                                                       where=f"benchmark_hedged params of {self.strategy}"))

    @property
    def spec(self) -> HedgeSpec:
        return HedgeSpec(beta_window_sessions=self.beta_window_sessions, min_beta_sessions=self.min_beta_sessions)
