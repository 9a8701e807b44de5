"""Sweep throughput: the vectorised kernel against backtrader's ``optstrategy``, on real prices.

Run: ``python benchmarks/sweep_bench.py [--data-dir ../shared/data/prices] [--sample 60]``.

What it measures, in one run (2023-01-03..2025-12-31, 9988.HK + BABA, HKD base, statutory
HK/US costs and 5 bps slippage, PostEventDrift):

1. a grid of 10,800 combinations (hold × notional × direction × when_holding × stop-loss ×
   take-profit × trailing stop) through :func:`backtests.sweep.run_sweep` on 2 local
   processes: the whole call's wall time (data loading, pool start, evaluation, Parquet
   store, table assembly) and, apart, the overfitting diagnostics (DSR, CSCV PBO over all
   12,870 splits, walk-forward) — combinations per second are counted without the
   diagnostics, which backtrader does not do;
2. ``cerebro.optstrategy`` (maxcpus=2, optreturn) on a seeded random sample of the same
   grid: combinations per second, and the final equity of every sampled combination
   against the kernel's (parity);
3. peak resident memory of a fresh process running the sweep at 10,800 and at 43,200
   combinations (results stream to disk, so it should barely move).

Prints the figures and the ratio; targets: >= 1,000x and < 10 s for the 10,000+.
Timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO.parent / "shared" / "data" / "prices"
CONFIG = REPO / "configs" / "sweep_alibaba_2025.toml"
GRID = {
    "hold_sessions": list(range(1, 26)),
    "notional_per_trade_base": [100_000.0, 200_000.0, 300_000.0, 400_000.0],
    "direction": ["long", "short", "expected"],
    "when_holding": ["stack", "skip"],
    "stop_loss_pct": [None, 0.05, 0.10],
    "take_profit_pct": [None, 0.10, 0.20],
    "trailing_stop_pct": [None, 0.05],
}
BIG_GRID = {**GRID, "notional_per_trade_base": [50_000.0 * k for k in range(1, 17)]}


def _config(data_dir: Path):
    from backtests.config import load_config

    cfg = load_config(CONFIG).with_overrides(data_dir=data_dir)
    return dataclasses.replace(cfg, start=pd.Timestamp("2023-01-03"), end=pd.Timestamp("2025-12-31"))


def _sweep(data_dir: Path, grid: dict, out: Path, workers: int = 2):
    from backtests.sweep import SweepSpec, run_sweep

    spec = SweepSpec(config=_config(data_dir), out_dir=out, workers=workers, progress=False, chunk_size=1000)
    return run_sweep(spec, grid)


def _rss_child(data_dir: Path, big: bool) -> None:
    """Entry of the memory probe: run one sweep in this fresh process and print peak RSS (MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        outcome = _sweep(data_dir, BIG_GRID if big else GRID, Path(tmp))
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps({"trials": outcome.summary["trials"], "main_mb": own, "worker_mb": workers,
                          "seconds": outcome.timings["total"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--sample", type=int, default=60, help="combinations timed with optstrategy")
    parser.add_argument("--rss-child", choices=("small", "big"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (args.data_dir / "9988.HK.csv").is_file():
        sys.exit(f"no real prices in {args.data_dir}; pass --data-dir (the benchmark needs the real data)")
    if args.rss_child:
        _rss_child(args.data_dir, args.rss_child == "big")
        return

    t_import = time.perf_counter()
    import backtests.sweep  # noqa: F401 - imports are a process cost, timed apart
    from backtests.sweep.baseline import optstrategy_run
    from backtests.sweep.inputs import load_sweep_inputs
    from backtests.sweep.space import iter_space
    t_import = time.perf_counter() - t_import

    n_grid = int(np.prod([len(v) for v in GRID.values()]))
    print(f"data: {args.data_dir}; cores: {os.cpu_count()}; PostEventDrift on 9988.HK + BABA, 2023-01-03..2025-12-31, "
          f"HKD base, statutory costs, 5 bps slippage; imports {t_import:.2f} s (not counted)")

    # 1. the kernel sweep (fresh store: everything computed)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        outcome = _sweep(args.data_dir, GRID, Path(tmp) / "out")
        wall = time.perf_counter() - t0
        table = pd.read_parquet(outcome.table_path, columns=["combo_id", "final_equity_base", "engine"])
    t = outcome.timings
    assert outcome.summary["trials"] == n_grid and (table["engine"] == "kernel").all()
    without_diag = t["load"] + t["evaluate"]
    kernel_rate = n_grid / without_diag
    print(f"\nkernel sweep, 2 local processes: {n_grid:,} combinations in {wall:.2f} s wall "
          f"(load {t['load']:.2f} + evaluate/store/assemble {t['evaluate']:.2f} + diagnostics {t['diagnostics']:.2f})")
    print(f"  {kernel_rate:,.0f} combinations/s without the diagnostics; {n_grid / wall:,.0f}/s with them")
    print(f"  DSR {outcome.summary['deflated_sharpe']['value']:.3g}, PBO {outcome.summary['pbo']['value']:.3f} "
          f"over {outcome.summary['pbo']['splits']:,} splits, {outcome.summary['distinct_trials']:,} distinct series")

    # 2. backtrader optstrategy on a seeded sample of the same grid
    inputs = load_sweep_inputs(_config(args.data_dir), listings=("9988.HK", "BABA"))
    combos = list(iter_space(GRID, seed=0, kinds=inputs.kinds))
    pick = sorted(np.random.default_rng(0).choice(len(combos), size=args.sample, replace=False))
    plans = [inputs.plan(combos[i]) for i in pick]
    t0 = time.perf_counter()
    equity = optstrategy_run(inputs, plans, maxcpus=2)
    bt_seconds = time.perf_counter() - t0
    bt_rate = args.sample / bt_seconds
    kernel_equity = table.set_index("combo_id").loc[pick, "final_equity_base"].to_numpy()
    rel = np.abs(np.array(equity) - kernel_equity) / np.abs(kernel_equity)
    print(f"\nbacktrader optstrategy (maxcpus=2, optreturn): {args.sample} sampled combinations in {bt_seconds:.2f} s "
          f"= {bt_rate:.2f} combinations/s")
    print(f"  parity on the sample: {(rel <= 1e-9).sum()}/{args.sample} final equities within 1e-9 relative "
          f"(max {rel.max():.2e})")

    print(f"\nratio: {kernel_rate / bt_rate:,.0f}x combinations/s (target >= 1,000x); "
          f"{(n_grid / wall) / bt_rate:,.0f}x counting the diagnostics too")
    print(f"wall for the {n_grid:,}: {wall:.2f} s (target < 10 s on 2 cores); optstrategy would need about "
          f"{n_grid / bt_rate / 60:,.0f} min")

    # 3. peak memory of fresh processes at two grid sizes
    print("\npeak resident memory (fresh process per size; workers = the largest pool process):")
    for size in ("small", "big"):
        res = subprocess.run([sys.executable, __file__, "--data-dir", str(args.data_dir), "--rss-child", size],
                             capture_output=True, text=True, check=True)
        probe = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"  {probe['trials']:>7,} combinations: main {probe['main_mb']:.0f} MB, worker {probe['worker_mb']:.0f} MB "
              f"({probe['seconds']:.1f} s)")


if __name__ == "__main__":
    main()
