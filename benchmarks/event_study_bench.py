"""Speed of the event study: 10 catalysts x 2 listings x 5 windows, exact placebo over every eligible session.

Run: ``python benchmarks/event_study_bench.py [--data-dir ../shared/data/prices] [--repeat 5]``.
Uses the real prices when the folder exists, else the seeded synthetic market. Prints the
time of :func:`run_event_study` alone (data loading and imports excluded, reported apart).
Target: under 3 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from backtests.event_study import EventStudySpec, run_event_study
from data_loaders.csv_source import CsvFolderSource
from data_loaders.synthetic import SyntheticMarket
from events.calendar_file import load_default_calendar
from events.schedule import build_schedule

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    t0 = time.perf_counter()
    if (args.data_dir / "9988.HK.csv").is_file():
        source, label = CsvFolderSource(args.data_dir), f"csv {args.data_dir}"
    else:
        source, label = SyntheticMarket(), "synthetic market (no data folder)"
    bars = {s: source.daily_bars(s, "2023-01-03", "2025-12-31", "adjusted")
            for s in ("9988.HK", "BABA", "HSTECH", "KWEB")}
    catalysts = load_default_calendar().catalysts[:10]
    schedule = build_schedule(catalysts, ("9988.HK", "BABA"))
    prices = {"9988.HK": bars["9988.HK"], "BABA": bars["BABA"]}
    benchmarks = {"9988.HK": bars["HSTECH"], "BABA": bars["KWEB"]}
    spec = EventStudySpec()
    load_s = time.perf_counter() - t0

    times = []
    for i in range(args.repeat):
        t = time.perf_counter()
        result = run_event_study(prices, benchmarks, schedule, spec, seed=i)
        times.append(time.perf_counter() - t)
    rows = len(result.table)
    print(f"data: {label}; loading {load_s:.2f} s; cores available: {os.cpu_count()}")
    print(f"event study: {len(catalysts)} catalysts x 2 listings x {len(spec.windows)} windows = {rows} rows, "
          f"placebo over {int(result.table['n_placebo_sessions'].max())} distinct sessions per listing "
          f"(+ joint, + primary family)")
    print(f"run_event_study: median {statistics.median(times):.3f} s, best {min(times):.3f} s, "
          f"first {times[0]:.3f} s over {args.repeat} runs (target < 3 s)")


if __name__ == "__main__":
    main()
