"""The Python API: ``from backtests import run, study, sweep, report, load_config``.

Every entry point takes a config — a TOML path or a :class:`~backtests.config.RunConfig` —
plus keyword overrides (:mod:`backtests.overrides`): a bare name is a strategy parameter
(for :func:`study`, a ``[study]`` key), a dotted name any key of the file::

    from backtests import run
    res = run("configs/alibaba_2025.toml", data_dir="../shared/data/prices", hold_sessions=3,
              **{"portfolio.slippage_bps": 10})     # or portfolio__slippage_bps=10
    res.stats()["sharpe"], res.equity.equity_base.iloc[-1], res.trades[["listing", "net_pnl_base"]]
    res.report("out/alibaba")                       # files + tearsheet.html

``prices=`` takes DataFrames keyed by symbol instead of the config's source; they pass the
same validation as CSV files (:class:`data_loaders.frame_source.FrameSource`). Nothing is
written unless ``out=`` (or ``.report(path)``) says where. Errors a user can fix raise
:class:`data_loaders.errors.UserError` subclasses whose message names the key, value and fix.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from backtests.api_results import RunResult, StudyResult, SweepResult
from backtests.config import RunConfig
from backtests.config import load_config as _load_file
from backtests.overrides import apply_overrides
from data_loaders.errors import UserError
from data_loaders.frame_source import FrameSource

__all__ = ["RunResult", "StudyResult", "SweepResult", "load_config", "report", "run", "study", "sweep"]

ConfigLike = str | Path | RunConfig
Prices = Mapping[str, pd.DataFrame] | Any  # or any object with PriceSource.daily_bars


def _prepare(config: ConfigLike, *, prices: Prices | None, data_dir: str | Path | None, source: str | None,
             refresh: bool, overrides: Mapping[str, Any], bare: str) -> RunConfig:
    if isinstance(config, RunConfig):
        cfg = config
    elif isinstance(config, (str, Path)):
        cfg = _load_file(config, need_strategy=False)
    else:
        raise TypeError(f"config must be a path to a TOML file or a RunConfig, got {type(config).__name__}")
    if data_dir is not None:
        data_dir = Path(data_dir).resolve()
    cfg = cfg.with_overrides(source=source, data_dir=data_dir, refresh=refresh)
    cfg = apply_overrides(cfg, overrides, bare=bare)
    if prices is not None:
        if data_dir is not None or source is not None or refresh:
            raise UserError("prices= replaces the config's price source; drop data_dir=, source= and refresh= "
                            "(or drop prices= to read them from the source)")
        frames = prices if hasattr(prices, "daily_bars") else FrameSource(prices)
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, frames=frames, source="frames"))
    return cfg


def load_config(config: ConfigLike, /, *, prices: Prices | None = None, data_dir: str | Path | None = None,
                source: str | None = None, refresh: bool = False, **overrides: Any) -> RunConfig:
    """A validated configuration from a TOML path (or an existing one), overrides applied.

    Parameters
    ----------
    config
        Path of a TOML config (see ``configs/``) or a :class:`RunConfig`.
    prices
        Symbol -> DataFrame (date index or column; open, high, low, close[, adj_close][, volume])
        used instead of the configured source, or any object with a ``daily_bars`` method.
    data_dir, source, refresh
        As ``--data-dir``, ``--source`` and ``--refresh`` on the command line.
    **overrides
        Strategy parameters by name; any other key dotted (``"run.start"``, ``"events.only"``,
        ``"strategy.listings"``, ``"portfolio.slippage_bps"``) or with ``__`` for the dot.

    Raises
    ------
    ConfigError
        Every problem at once (unknown names with a "did you mean", refused values).
    """
    return _prepare(config, prices=prices, data_dir=data_dir, source=source, refresh=refresh,
                    overrides=overrides, bare="strategy.params")


def run(config: ConfigLike, /, *, prices: Prices | None = None, out: str | Path | None = None,
        data_dir: str | Path | None = None, source: str | None = None, refresh: bool = False,
        cache_dir: str | Path | None = None, **overrides: Any) -> RunResult:
    """Run one backtest and return its tidy result (:class:`RunResult`).

    Parameters are those of :func:`load_config`, plus ``out`` (write the run's files there,
    as ``catalyst-bt run --out``) and ``cache_dir`` (akshare's Parquet cache).

    Raises
    ------
    UserError
        A config or data problem (see :func:`load_config`), a notional below one board lot,
        a listing without prices in the period.
    """
    from backtests.runner import run_config

    cfg = _prepare(config, prices=prices, data_dir=data_dir, source=source, refresh=refresh,
                   overrides=overrides, bare="strategy.params")
    out_dir = Path(out) if out is not None else None
    result, inputs = run_config(cfg, out_dir=out_dir, cache_dir=Path(cache_dir) if cache_dir else None)
    return RunResult.of(result, inputs, cfg, out_dir)


def study(config: ConfigLike, /, *, prices: Prices | None = None, out: str | Path | None = None,
          seed: int | None = None, data_dir: str | Path | None = None, source: str | None = None,
          refresh: bool = False, cache_dir: str | Path | None = None, **overrides: Any) -> StudyResult:
    """Run the event study of the config's ``[study]`` section (:class:`StudyResult`).

    Bare override names are ``[study]`` keys (``placebo_draws=2000``, ``windows=[[0, 1]]``,
    ``listings=["9988.HK"]``); ``seed`` sets the placebo seed. Other parameters as :func:`run`.
    """
    from backtests.event_study.section import parse_study_section, run_study_config
    from backtests.outdir import write_study_folder

    cfg = _prepare(config, prices=prices, data_dir=data_dir, source=source, refresh=refresh,
                   overrides=overrides, bare="study")
    section = parse_study_section(cfg)
    if seed is not None:
        section = dataclasses.replace(section, seed=_seed(seed))
    result = run_study_config(cfg, section, cache_dir=Path(cache_dir) if cache_dir else None)
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        write_study_folder(result, out_dir)  # staged, sealed by the study marker
    return StudyResult.of(result, cfg, out_dir)


def sweep(config: ConfigLike, /, grid: Mapping[str, Sequence[Any]] | Any | None = None, *,
          constraint: str | Callable[[dict[str, Any]], bool] | None = None, seed: int | None = None,
          prices: Prices | None = None, out: str | Path | None = None, data_dir: str | Path | None = None,
          source: str | None = None, refresh: bool = False, cache_dir: str | Path | None = None,
          workers: int | None = None, engine: str | None = None, metric: str | None = None,
          top: int | None = None, progress: bool = False, **overrides: Any) -> SweepResult:
    """Sweep the config's strategy over ``grid`` (default: its ``[sweep]`` section).

    Parameters
    ----------
    grid
        ``{name: [values]}`` (every combination; names as overrides take them) or a
        :class:`backtests.sweeps.RandomSearch`; None: the config's ``[sweep]`` grid or search.
    constraint
        An expression over parameter names, or ``f(values: dict) -> bool``; None: the
        ``[sweep]`` constraint when the grid comes from the file.
    seed, workers, engine, metric, top
        As ``[sweep]`` keys (explicit values win; a ``scheduler`` in the file is used too).
    progress
        Progress bar on stderr.
    out
        Folder for ``sweep.parquet``, ``sweep_summary.json`` and heatmaps (None: a temporary
        folder that lives as long as the result).
    **overrides
        Base values of what the grid does not vary (as :func:`run`).
    """
    from backtests.sweeps.run import SweepSpec, run_sweep
    from backtests.sweeps.section import parse_sweep_section

    cfg = _prepare(config, prices=prices, data_dir=data_dir, source=source, refresh=refresh,
                   overrides=overrides, bare="strategy.params")
    options: dict[str, Any] = {}
    if grid is None:
        section = parse_sweep_section(cfg)
        grid, options = section.space, dict(section.options)
        constraint = section.constraint if constraint is None else constraint
        seed = section.seed if seed is None else seed
    for key, value in (("workers", workers), ("engine", engine), ("metric", metric), ("top", top)):
        if value is not None:
            options[key] = value
    keep = None
    if out is None:
        keep = tempfile.TemporaryDirectory(prefix="catalyst-bt-sweep-")
        out = keep.name
    spec = SweepSpec(config=cfg, out_dir=Path(out), progress=progress,
                     cache_dir=Path(cache_dir) if cache_dir else None, **options)
    outcome = run_sweep(spec, grid, constraint, _seed(seed or 0))
    table = (outcome.table.to_pandas() if outcome.table is not None
             else pd.read_parquet(outcome.table_path)).set_index("combo_id")
    return SweepResult(config=cfg, table=table, summary=outcome.summary, out_dir=outcome.out_dir,
                       store_dir=Path(spec.store_dir) if spec.store_dir else outcome.out_dir / "parts", keep=keep)


def report(results: str | Path | RunResult | StudyResult | SweepResult
           | Sequence[RunResult | StudyResult | SweepResult], path: str | Path | None = None) -> Path:
    """Write the tearsheet (``tearsheet.html`` + ``figures/``); returns the HTML path.

    Parameters
    ----------
    results
        A results folder (as ``catalyst-bt report OUTDIR``), or one or more result objects,
        whose files are written into ``path`` first (a run, a study and a sweep may share
        one page).
    path
        The folder to write into; required with result objects.
    """
    from backtests.reporting import render_report

    if isinstance(results, (str, Path)):
        return render_report(Path(results) if path is None else _same(Path(results), Path(path)))
    if path is None:
        raise UserError("report(result, path): say which folder to write the files and tearsheet.html into")
    items = results if isinstance(results, Sequence) else [results]
    for item in items:
        if not isinstance(item, (RunResult, StudyResult, SweepResult)):
            raise TypeError(f"report() takes results of run(), study() or sweep(), got {type(item).__name__}")
        item.write(path)
    return render_report(Path(path))


def _same(folder: Path, path: Path) -> Path:
    if folder.resolve() != path.resolve():
        raise UserError(f"report({folder}, {path}): the tearsheet is written into the results folder itself; "
                        f"call report({str(folder)!r})")
    return folder


def _seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserError(f"seed = {seed!r} must be a whole number >= 0")
    return seed
