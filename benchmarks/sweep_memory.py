"""Peak resident memory of a sweep at about 12k and about 240k combinations (flat memory).

Run: ``python benchmarks/sweep_memory.py [--data-dir ../shared/data/prices] [--sizes small big]``.

Each size runs in a fresh process (PostEventDrift on 9988.HK + BABA, 2023-01-03..2025-12-31,
2 local processes, chunks of 1,000) and prints the main process's peak RSS and the largest
worker's peak RSS (``RUSAGE_CHILDREN``), in MB, and their ratio big / small. Target: the
big sweep's peaks stay within 1.5x of the small sweep's (per-combination state is released
as parts are written). It also shows the refusal of a 10^7 grid with its memory estimate.
Timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO.parent / "shared" / "data" / "prices"
CONFIG = REPO / "configs" / "sweep_alibaba_2025.toml"
BASE = {
    "hold_sessions": list(range(1, 26)),
    "direction": ["long", "short", "expected"],
    "when_holding": ["stack", "skip"],
    "stop_loss_pct": [None, 0.03, 0.05, 0.08, 0.10],
    "take_profit_pct": [None, 0.10, 0.15, 0.20],
}
SIZES = {  # 25 x 3 x 2 x 5 x 4 = 3,000 per notional
    "small": {**BASE, "notional_per_trade_base": [100_000.0 * k for k in range(1, 5)]},     # 12,000
    "big": {**BASE, "notional_per_trade_base": [100_000.0 + 5_000.0 * k for k in range(80)]},  # 240,000
    "huge": {**BASE, "notional_per_trade_base": [100_000.0 + 10.0 * k for k in range(3_400)]},  # 10,200,000
}


def _config(data_dir: Path):
    from backtests.config import load_config

    cfg = load_config(CONFIG).with_overrides(data_dir=data_dir)
    return dataclasses.replace(cfg, start=pd.Timestamp("2023-01-03"), end=pd.Timestamp("2025-12-31"))


def _child(data_dir: Path, size: str) -> None:
    from backtests.sweeps import SweepSpec, run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        spec = SweepSpec(config=_config(data_dir), out_dir=Path(tmp), workers=2, progress=False, chunk_size=1000)
        outcome = run_sweep(spec, SIZES[size])
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps({"trials": outcome.summary["trials"], "main_mb": own, "worker_mb": workers,
                          "seconds": outcome.timings["total"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--sizes", nargs="+", default=["small", "big"], choices=["small", "big"])
    parser.add_argument("--child", choices=tuple(SIZES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (args.data_dir / "9988.HK.csv").is_file():
        sys.exit(f"no real prices in {args.data_dir}; pass --data-dir (the benchmark needs the real data)")
    if args.child:
        _child(args.data_dir, args.child)
        return
    probes = {}
    for size in args.sizes:
        res = subprocess.run([sys.executable, __file__, "--data-dir", str(args.data_dir), "--child", size],
                             capture_output=True, text=True, check=True)
        probes[size] = json.loads(res.stdout.strip().splitlines()[-1])
        p = probes[size]
        print(f"{p['trials']:>9,} combinations: main {p['main_mb']:.0f} MB, largest worker {p['worker_mb']:.0f} MB "
              f"({p['seconds']:.1f} s)", flush=True)
    if {"small", "big"} <= probes.keys():
        s, b = probes["small"], probes["big"]
        print(f"ratio big/small: main {b['main_mb'] / s['main_mb']:.2f}x, worker {b['worker_mb'] / s['worker_mb']:.2f}x "
              f"(target <= 1.5x)")
    res = subprocess.run([sys.executable, __file__, "--data-dir", str(args.data_dir), "--child", "huge"],
                         capture_output=True, text=True)
    last = (res.stderr.strip().splitlines() or [""])[-1]
    print(f"10,200,000 combinations: exit {res.returncode}: {last[:300]}")


if __name__ == "__main__":
    main()
