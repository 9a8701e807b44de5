"""Speed and size of the tearsheet for a 3-year daily backtest (2023-01-03 .. 2025-12-31).

Run: ``python benchmarks/report_bench.py [--data-dir ../shared/data/prices] [--repeat 3]``.
Runs ``configs/alibaba_2025.toml`` over three years on the real prices when the folder
exists (else the seeded synthetic market), adds the event study of
``configs/study_alibaba_2025.toml`` to the same folder, then times
:func:`backtests.reporting.render_report` alone (imports, the backtest and the study are
reported apart) and prints the HTML size, then times ``--png`` (the matplotlib files) once.
Targets: a few seconds, under 5 MB.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO.parent / "shared" / "data" / "prices"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="Keep the results folder here (default: a temporary folder).")
    args = parser.parse_args()

    t0 = time.perf_counter()
    from backtests.cli.study import parse_study_section, run_study_config
    from backtests.config import load_config
    from backtests.event_study import write_event_study
    from backtests.reporting import render_report
    from backtests.runner import run_config
    import_s = time.perf_counter() - t0

    real = (args.data_dir / "9988.HK.csv").is_file()
    cfg = load_config(REPO / "configs" / "alibaba_2025.toml")
    study_cfg = load_config(REPO / "configs" / "study_alibaba_2025.toml", need_strategy=False)
    if real:
        cfg = cfg.with_overrides(data_dir=args.data_dir)
        study_cfg = study_cfg.with_overrides(data_dir=args.data_dir)
        label = f"csv {args.data_dir}"
    else:
        cfg = cfg.with_overrides(source="synthetic")
        study_cfg = study_cfg.with_overrides(source="synthetic")
        label = "synthetic market (no data folder)"
    cfg = dataclasses.replace(cfg, start=pd.Timestamp("2023-01-03"), end=pd.Timestamp("2025-12-31"))

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "report3y"
        t = time.perf_counter()
        result, _ = run_config(cfg, out_dir=out)
        run_s = time.perf_counter() - t
        t = time.perf_counter()
        write_event_study(run_study_config(study_cfg, parse_study_section(study_cfg)), out)
        study_s = time.perf_counter() - t

        times = []
        html = out
        for _ in range(args.repeat):
            t = time.perf_counter()
            html = render_report(out)
            times.append(time.perf_counter() - t)
        size = html.stat().st_size
        text = html.read_text(encoding="utf-8")
        bundle = len(text.split('id="plotly-gz">', 1)[1].split("<", 1)[0]) if 'id="plotly-gz">' in text else 0
        charts = text.count('data-chart role="img"')
        t = time.perf_counter()
        render_report(out, png=True)
        png_s = time.perf_counter() - t
        figures = sorted((out / "figures").glob("*.png"))
        sessions = len(pd.read_csv(out / "returns.csv")) if (out / "returns.csv").is_file() else 0

        print(f"data: {label}; backtest {cfg.start:%Y-%m-%d}..{cfg.end:%Y-%m-%d}: {sessions} benchmark sessions, "
              f"{len(result.trades)} trades")
        print(f"imports {import_s:.2f} s, backtest {run_s:.2f} s, event study {study_s:.2f} s (not timed below)")
        print(f"render_report: median {statistics.median(times):.2f} s, min {min(times):.2f} s "
              f"over {len(times)} run(s)")
        print(f"tearsheet.html: {size / 1e6:.2f} MB ({size:,} bytes): {charts} interactive charts, plotly.js "
              f"inlined once ({bundle / 1e6:.2f} MB gzip+base64), the rest {(size - bundle) / 1e6:.2f} MB")
        print(f"with --png: {png_s:.2f} s, {len(figures)} PNG files, "
              f"{sum(p.stat().st_size for p in figures) / 1e6:.2f} MB")
        print(f"targets: a few seconds -> {'ok' if statistics.median(times) < 5 else 'SLOW'}; "
              f"< 5 MB -> {'ok' if size < 5e6 else 'TOO BIG'}")
        if args.out:
            print(f"kept {html}")


if __name__ == "__main__":
    main()
