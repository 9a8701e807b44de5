"""Parameter sweeps: grid or seeded random search over a strategy's parameters, catalyst
subsets and listings, evaluated by a vectorised kernel with exact parity to the backtrader
engine (falling back to the engine where the kernel does not apply), in parallel on local
processes or a Dask cluster, stored resumably as Parquet, with overfitting diagnostics
(deflated Sharpe ratio, probability of backtest overfitting, walk-forward).

Entry points: :func:`sweep` (API) and ``catalyst-bt sweep CONFIG`` (:mod:`backtests.cli.sweep`).
"""

from backtests.sweeps.run import SweepOutcome, SweepSpec, run_sweep, sweep
from backtests.sweeps.space import RandomSearch, SweepSpaceError

__all__ = ["RandomSearch", "SweepOutcome", "SweepSpaceError", "SweepSpec", "run_sweep", "sweep"]
