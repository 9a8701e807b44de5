"""Sweep speed, from one process run: catalyst-bt against vectorbt and backtrader, on real prices.

Run: ``python benchmarks/sweep_bench.py [--data-dir ../shared/data/prices] [--repeats 9] [--quick]``.

1. **Event sweep** (PostEventDrift long on 9988.HK + BABA, 2023-01-03..2025-12-31, HKD base,
   5 bps slippage; hold 1..20 × 4 notionals × 10 catalyst subsets = 800 combinations):
   the whole :func:`backtests.sweeps.sweep` call with ``workers=2`` (load, evaluate — in this
   process, as the sweep decides for a kernel-only grid this small, and again with 2 processes
   forced —, store, table, diagnostics: DSR, PBO, walk-forward, heatmaps) against vectorbt ``Portfolio.from_orders``
   on the same orders (sizes from the same event table, then Sharpe, drawdown, return and
   trade records for every combination); the fast path alone against vectorbt's simulation;
   and against a plain backtrader strategy that places the same orders (no catalyst logic,
   no ledger) — per combination. Same trades are checked on 3 combinations (fills netted per
   listing and session: quantity and price). vectorbt is an optional benchmark dependency
   (``pip install catalyst-bt[bench]``); without it the bench says so and skips its rows.
   Every timed call is warm (a first untimed call pays imports and vectorbt's numba
   compilation; catalyst-bt's caches of validated inputs and prepared kernel arrays, keyed by
   file fingerprints and the data hash, are warm too — the first call of a fresh process is
   printed beside it); timings are medians of ``--repeats`` interleaved runs, since the machine
   is shared.
2. **Per strategy**: combinations per second of each library strategy's fast path (a grid
   of a few hundred combinations, median of 5 evaluations) against its backtrader path (the
   engine, per combination).
3. **Scaling**: fresh processes sweeping ~1k, ~10k and ~40k combinations: combinations per
   second and peak resident memory (main process and largest worker).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.sweep_bench_parts import (EVENT_IDS, bare_backtrader_run, per_strategy_rows, same_trades,  # noqa: E402
                                          vectorbt_run)

DEFAULT_DIR = REPO.parent / "shared" / "data" / "prices"
CONFIG = REPO / "configs" / "sweep_alibaba_2025.toml"
EVENT_GRID = {"hold_sessions": list(range(1, 21)),
              "notional_per_trade_base": [100_000.0, 200_000.0, 300_000.0, 400_000.0],
              "events.only": [tuple(EVENT_IDS[:k]) for k in range(1, 11)]}
SCALE = {  # name -> drift grid
    "1k": {"hold_sessions": list(range(1, 26)), "notional_per_trade_base": [1e5, 2e5, 3e5, 4e5],
           "direction": ["long", "short", "expected"], "when_holding": ["stack", "skip"],
           "trailing_stop_pct": [None, 0.05]},
    "10k": {"hold_sessions": list(range(1, 26)), "notional_per_trade_base": [1e5, 2e5, 3e5, 4e5],
            "direction": ["long", "short", "expected"], "when_holding": ["stack", "skip"],
            "stop_loss_pct": [None, 0.05, 0.10], "take_profit_pct": [None, 0.10, 0.20], "trailing_stop_pct": [None, 0.05]},
}
SCALE["40k"] = {**SCALE["10k"], "notional_per_trade_base": [50_000.0 * k for k in range(1, 17)]}


def config(data_dir: Path):
    from backtests.config import load_config

    cfg = load_config(CONFIG).with_overrides(data_dir=data_dir)
    cfg = dataclasses.replace(cfg, start=pd.Timestamp("2023-01-03"), end=pd.Timestamp("2025-12-31"))
    params = dataclasses.replace(cfg.strategy.params, direction="long")
    return dataclasses.replace(cfg, strategy=dataclasses.replace(cfg.strategy, params=params))


def whole_sweep(cfg, grid: dict, workers: int = 2) -> tuple[float, pd.DataFrame]:
    from backtests.sweeps import SweepSpec, sweep

    t0 = time.perf_counter()
    table = sweep(SweepSpec(config=cfg, workers=workers, progress=False), grid)
    return time.perf_counter() - t0, table


def where_it_ran(cfg, grid: dict, workers: int = 2) -> str:
    """The sweep's own account of where its combinations ran (its first console message)."""
    from backtests.sweeps import SweepSpec, run_sweep

    with tempfile.TemporaryDirectory() as out:
        outcome = run_sweep(SweepSpec(config=cfg, workers=workers, progress=False, out_dir=Path(out) / "s"), grid)
    return outcome.messages[0]


def forced_processes(cfg, grid: dict, workers: int = 2) -> float:
    """The same call with local processes started whatever the sweep's size."""
    from backtests.sweeps import executors

    saved = executors.SERIAL_MAX_COMBINATIONS
    executors.SERIAL_MAX_COMBINATIONS = 0
    try:
        return whole_sweep(cfg, grid, workers)[0]
    finally:
        executors.SERIAL_MAX_COMBINATIONS = saved


def _peak_mb() -> float:
    """This process's peak resident memory: VmHWM (reset at exec, unlike ru_maxrss, which can carry
    the launching process's size), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cold_child(data_dir: Path) -> None:
    """The first sweep() call of a fresh process, its imports done first and not timed: the
    inputs are read and validated from the CSVs, the kernel's arrays prepared, nothing cached."""
    import scipy.cluster.hierarchy  # noqa: F401  (imports the diagnostics use, not timed)
    import scipy.stats  # noqa: F401

    import backtests.runner  # noqa: F401
    import backtests.sweeps.kernel  # noqa: F401
    import backtests.sweeps.summary  # noqa: F401

    cfg = config(data_dir)
    print(json.dumps({"seconds": whole_sweep(cfg, EVENT_GRID)[0]}))


def _rss_child(data_dir: Path, size: str) -> None:
    wall, table = whole_sweep(config(data_dir), SCALE[size])
    print(json.dumps({"combinations": len(table), "seconds": wall, "main_mb": _peak_mb(),
                      "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def event_sweep(data_dir: Path, repeats: int) -> None:
    from backtests.sweeps import kernel
    from backtests.sweeps.inputs import load_sweep_inputs
    from backtests.sweeps.space import iter_space

    cfg = config(data_dir)
    inputs = load_sweep_inputs(cfg, listings=("9988.HK", "BABA"))
    plans = [inputs.plan(c) for c in iter_space(EVENT_GRID, seed=0, kinds=inputs.kinds)]
    n = len(plans)
    print(f"\n1. event sweep: {n} combinations (hold 1..20 x 4 notionals x 10 catalyst subsets), PostEventDrift long "
          f"on 9988.HK + BABA, 2023-01-03..2025-12-31, diagnostics on")
    try:
        import vectorbt  # noqa: F401
        have_vbt = True
    except ImportError:
        have_vbt = False
        print("  vectorbt is not installed (optional: pip install 'catalyst-bt[bench]'); its rows are skipped")
    whole_sweep(cfg, EVENT_GRID)  # warm: imports, calendars, caches
    kernel.evaluate(inputs, plans)
    if have_vbt:
        vectorbt_run(inputs, plans)  # warm: numba compilation
    walls, kernels, vbt_wholes, vbt_sims = [], [], [], []
    for _ in range(repeats):
        walls.append(whole_sweep(cfg, EVENT_GRID)[0])
        t0 = time.perf_counter()
        kernel.evaluate(inputs, plans)
        kernels.append(time.perf_counter() - t0)
        if have_vbt:
            whole, sim, _ = vectorbt_run(inputs, plans)
            vbt_wholes.append(whole)
            vbt_sims.append(sim)
    wall, kern = median(walls), median(kernels)
    print(f"  catalyst-bt sweep() whole call (workers=2, diagnostics on): {wall:.3f} s = {n / wall:,.0f} combinations/s "
          f"(runs {', '.join(f'{w:.2f}' for w in walls)})")
    print(f"    where it ran: {where_it_ran(cfg, EVENT_GRID)}")
    # informational, outside the interleaved loop (forking and reaping workers disturbs the next call)
    forced = [forced_processes(cfg, EVENT_GRID) for _ in range(max(3, repeats // 2))]
    print(f"    the same call with 2 local processes forced: {median(forced):.3f} s")
    colds = [json.loads(subprocess.run([sys.executable, __file__, "--data-dir", str(data_dir), "--cold-child"],
                                       capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
             ["seconds"] for _ in range(3)]
    print(f"    the first call of a fresh process (imports not timed; CSVs read and validated, nothing cached): "
          f"{median(colds):.3f} s")
    print(f"  catalyst-bt fast path alone (in process, metrics included): {kern:.3f} s = {n / kern:,.0f} combinations/s")
    if have_vbt:
        vw, vs = median(vbt_wholes), median(vbt_sims)
        print(f"  vectorbt (orders from the event table + from_orders + Sharpe/drawdown/return/trades): {vw:.3f} s; "
              f"simulation + metrics alone {vs:.3f} s")
        checked = same_trades(inputs, plans, picks=(0, n // 2, n - 1))
        print(f"  same trades on 3 combinations (fills per listing and session, quantity and price): {checked}")
        print(f"  RATIO whole call, sweep() / vectorbt: {vw / wall:.2f}x faster (target >= 3x)")
        print(f"  RATIO fast path / vectorbt simulation: {vs / kern:.2f}x faster")
    bt_times = [bare_backtrader_run(inputs, plans[i]) for i in (0, n // 2, n - 1)]
    bt_rate = 1.0 / median(bt_times)
    print(f"  plain backtrader strategy placing the same orders: {median(bt_times):.3f} s per combination "
          f"= {bt_rate:.2f} combinations/s")
    print(f"  RATIO whole call vs plain backtrader: {(n / wall) / bt_rate:,.0f}x; fast path vs plain backtrader: "
          f"{(n / kern) / bt_rate:,.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="skip the 40k scaling point")
    parser.add_argument("--rss-child", choices=tuple(SCALE), help=argparse.SUPPRESS)
    parser.add_argument("--cold-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (args.data_dir / "9988.HK.csv").is_file():
        sys.exit(f"no real prices in {args.data_dir}; pass --data-dir (the benchmark needs the real data)")
    if args.rss_child:
        _rss_child(args.data_dir, args.rss_child)
        return
    if args.cold_child:
        _cold_child(args.data_dir)
        return
    print(f"data: {args.data_dir}; cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} "
          f"(the machine may be shared: ratios are measured side by side, medians of {args.repeats})")
    event_sweep(args.data_dir, args.repeats)

    print("\n2. per strategy: fast path vs backtrader path (combinations/s, real data 2024-2025)")
    print(f"  {'strategy':<24}{'combos':>8}{'fast path/s':>14}{'backtrader/s':>14}{'ratio':>10}")
    for row in per_strategy_rows(args.data_dir):
        print(f"  {row['strategy']:<24}{row['combos']:>8}{row['fast']:>14,.0f}{row['backtrader']:>14.2f}"
              f"{row['fast'] / row['backtrader']:>9,.0f}x")

    print("\n3. scaling (fresh process per size, 2 workers): combinations/s and peak resident memory")
    sizes = [s for s in SCALE if not (args.quick and s == "40k")]
    peaks = {}
    for size in sizes:
        res = subprocess.run([sys.executable, __file__, "--data-dir", str(args.data_dir), "--rss-child", size],
                             capture_output=True, text=True, check=True)
        probe = json.loads(res.stdout.strip().splitlines()[-1])
        peaks[size] = max(probe["main_mb"], probe["worker_mb"])
        print(f"  {probe['combinations']:>7,} combinations: {probe['combinations'] / probe['seconds']:>8,.0f}/s "
              f"({probe['seconds']:.1f} s); peak RSS main {probe['main_mb']:.0f} MB, worker {probe['worker_mb']:.0f} MB")
    first, last = sizes[0], sizes[-1]
    print(f"  peak RSS {last} / {first}: {peaks[last] / peaks[first]:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
