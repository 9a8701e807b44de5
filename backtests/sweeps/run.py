"""Run a sweep: enumerate, evaluate in parallel, store, assemble, diagnose.

Pipeline (memory stays flat as the grid grows: combinations are enumerated lazily, at most
a few chunks are in flight, results go to disk as chunks finish):

1. validate the space (empty grid, unknown names with a "did you mean", bad values, a grid
   too large for the free disk) and load the inputs once;
2. cut the canonical sequence of combinations into chunks; skip the keys the store already
   holds (resume); evaluate the rest on local processes (default: all cores), in this
   process (``workers = 1``) or on a Dask cluster (``scheduler``);
3. write each finished chunk to the store at once (atomic Parquet part), then emit chunks in
   canonical order into ``sweep.parquet`` while accumulating what the diagnostics need
   (per-block return sums for CSCV, per-window sums for walk-forward, per-trial Sharpe);
4. write ``sweep_summary.json`` (best rows, trials, deflated Sharpe, PBO, walk-forward,
   heatmaps) and the heatmap CSVs.

The table has one row per combination, ordered by ``combo_id`` (its position in the
canonical sequence), whatever the number of workers or interruptions.
"""

from __future__ import annotations

import collections
import difflib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from backtests.config import RunConfig
from backtests.outdir import check_out_dir, seal, unseal
from backtests.sweeps.guards import (bytes_per_row, check_disk, check_memory, check_space, listing_union,
                                     normalise_space, remove_stale_tmp)
from backtests.results import write_json
from backtests.sweeps import kernel
from backtests.sweeps.assemble import dim_array, dim_types, rows_for
from backtests.sweeps.chunks import ENGINE_MODES, Chunk, ChunkResult, ChunkTask, EngineMode, chunks
from backtests.sweeps.executors import SERIAL_MAX_COMBINATIONS, make_runner, progress_bar
from backtests.sweeps.held import HeldRows, StoredRows, fits_in_memory
from backtests.sweeps.inputs import load_sweep_inputs, sweepable_names
from backtests.sweeps.rowmetrics import ROW_METRICS
from backtests.sweeps.space import Constraint, Space, SweepSpaceError, dimension_names, grid_size, make_constraint
from backtests.sweeps.store import ResultStore
from backtests.sweeps.summary import TABLE_NAME, rank_values, summarise
from backtests.sweeps.trials import StatsSpec, TrialLog
from data_loaders.registry import use_registry

SUMMARY_NAME = "sweep_summary.json"


@dataclass(frozen=True, kw_only=True)
class SweepSpec:
    """How to run a sweep (the space itself is passed to :func:`sweep`).

    Attributes
    ----------
    config
        Base configuration: data, events, portfolio, costs, strategy and default parameters.
    out_dir
        Output folder (``sweep.parquet``, ``sweep_summary.json``, heatmaps); None: a
        temporary folder removed after :func:`sweep` returns its table (a sweep whose rows
        fit in memory keeps no result store there: it could resume nothing).
    store_dir
        Result store (default ``out_dir/parts``); share it between sweeps to reuse rows.
    workers
        Local processes at most (None: all cores; 1: in this process). A sweep of at most
        :data:`~backtests.sweeps.executors.SERIAL_MAX_COMBINATIONS` combinations that all run
        on the kernel runs in this process whatever ``workers`` says (starting processes
        would cost more than they save) and says so. Ignored with ``scheduler``.
    scheduler
        Address of a Dask distributed scheduler (``tcp://host:8786``) to run on instead.
    engine
        ``auto`` (kernel where it applies, else backtrader), ``kernel`` (refuse anything
        else) or ``backtrader`` (every combination through the engine).
    metric
        Column ranking the combinations (best = highest; lower for volatility, durations,
        tracking error and costs).
    top
        Best rows reported in the summary.
    chunk_size
        At most this many combinations per chunk (the unit of work and of storage); a sweep
        cuts smaller chunks when needed so that every worker gets work (at most
        ``combinations / workers`` each). ``sweep.parquet`` is written in row groups of
        ``chunk_size`` rows whatever the chunks, so its bytes do not depend on the workers.
    pbo_blocks
        ``S`` of CSCV (even, >= 2).
    walk_forward_folds
        Windows of the walk-forward (0: off).
    heatmaps
        (x, y) dimension pairs; None: every pair of varied dimensions (at most 6).
    progress
        Progress bar with ETA on stderr.
    cache_dir
        Parquet cache for akshare downloads.
    """

    config: RunConfig
    out_dir: Path | None = None
    store_dir: Path | None = None
    workers: int | None = None
    scheduler: str | None = None
    engine: EngineMode = "auto"
    metric: str = "sharpe"
    top: int = 5
    chunk_size: int = 1000
    pbo_blocks: int = 16
    walk_forward_folds: int = 4
    heatmaps: tuple[tuple[str, str], ...] | None = None
    progress: bool = True
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.config.strategy is None:
            problems.append("the config has no [strategy] section; a sweep varies a strategy's parameters")
        if self.engine not in ENGINE_MODES:
            problems.append(f"engine = {self.engine!r}; use one of {', '.join(ENGINE_MODES)}")
        if self.metric not in ROW_METRICS:
            near = difflib.get_close_matches(self.metric, ROW_METRICS, n=1)
            hint = f" — did you mean '{near[0]}'?" if near else ""
            problems.append(f"metric = {self.metric!r} is not a result column{hint} Columns: {', '.join(ROW_METRICS)}")
        if self.workers is not None and (isinstance(self.workers, bool) or self.workers < 1):
            problems.append(f"workers = {self.workers!r} must be >= 1")
        if isinstance(self.chunk_size, bool) or not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            problems.append(f"chunk_size = {self.chunk_size!r} must be a whole number >= 1")
        if not isinstance(self.pbo_blocks, int) or self.pbo_blocks < 2 or self.pbo_blocks % 2:
            problems.append(f"pbo_blocks = {self.pbo_blocks!r} must be an even number >= 2 (e.g. 16)")
        if not isinstance(self.walk_forward_folds, int) or self.walk_forward_folds < 0 or self.walk_forward_folds == 1:
            problems.append(f"walk_forward_folds = {self.walk_forward_folds!r} must be 0 (off) or >= 2")
        if not isinstance(self.top, int) or self.top < 1:
            problems.append(f"top = {self.top!r} must be >= 1")
        if problems:
            raise SweepSpaceError("; ".join(problems))


@dataclass(frozen=True, kw_only=True)
class SweepOutcome:
    """What a finished sweep produced (paths, summary, counts, timings in seconds)."""

    out_dir: Path
    table_path: Path
    summary_path: Path
    summary: dict[str, Any]
    computed: int
    reused: int
    timings: dict[str, float]
    messages: tuple[str, ...] = ()
    drawn: int = 0  # grid points (or random draws) considered, the constraint's rejects included
    table: pa.Table | None = None  # the rows of sweep.parquet when the sweep held them in memory


# --------------------------------------------------------------------------------------- entry points


def run_sweep(spec: SweepSpec, space: Space, constraint: str | Constraint | None = None, seed: int = 0,
              *, on_message: Callable[[str], None] = lambda _: None) -> SweepOutcome:
    """Run a sweep and write its outputs; see the module docstring.

    Raises
    ------
    SweepSpaceError
        Empty grid, unknown parameter (with a "did you mean"), invalid values or constraint,
        a grid too large for the disk, or ``engine = "kernel"`` with an uncovered combination.
    """
    with use_registry(spec.config.registry):
        return _run_sweep(spec, space, constraint, seed, on_message=on_message)


def _run_sweep(spec: SweepSpec, space: Space, constraint: str | Constraint | None, seed: int,
               *, on_message: Callable[[str], None]) -> SweepOutcome:
    cfg = spec.config
    assert cfg.strategy is not None
    t0 = time.perf_counter()
    space = normalise_space(space)
    check_space(cfg, space)
    dims = dimension_names(space)
    for x, y in spec.heatmaps or ():
        if x not in dims or y not in dims:
            raise SweepSpaceError(f"heatmap ({x}, {y}): both must be swept dimensions ({', '.join(dims)})")
    cnames = sorted({*sweepable_names(cfg.strategy.name)})
    check = make_constraint(constraint, cnames)
    if spec.out_dir is not None:
        check_out_dir(Path(spec.out_dir))
    out_dir = Path(spec.out_dir) if spec.out_dir is not None else Path(tempfile.mkdtemp(prefix="sweep-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    unseal(out_dir, command="sweep")  # the folder is being rewritten: report refuses it until sealed
    remove_stale_tmp(out_dir)
    store_dir = Path(spec.store_dir) if spec.store_dir is not None else out_dir / "parts"

    inputs = load_sweep_inputs(cfg, listings=listing_union(space, cfg), cache_dir=spec.cache_dir)
    n_sessions = len(inputs.benchmark)
    total = grid_size(space)
    check_disk(total, bytes_per_row(n_sessions, len(dims)), out_dir)
    check_memory(total, spec.chunk_size)
    t_loaded = time.perf_counter()

    store = ResultStore(store_dir)
    types = dim_types(space, inputs.kinds)
    workers = spec.workers or os.cpu_count() or 1
    stats_spec = StatsSpec(blocks=spec.pbo_blocks, folds=spec.walk_forward_folds, sessions=n_sessions)
    if not spec.scheduler:
        kernel.kernel_data(inputs)  # prepared once here; forked workers inherit it
    runner = make_runner(inputs, workers=workers, scheduler=spec.scheduler, total=total)
    # a small sweep keeps every row in memory for the diagnostics (nothing is read back)
    held = HeldRows(total, n_sessions) if fits_in_memory(total, n_sessions) else None
    # a store in a temporary folder removed when the call returns resumes nothing: a held sweep
    # writes none (a larger one needs its parts for the diagnostics)
    keep_store = spec.out_dir is not None or spec.store_dir is not None or held is None
    # remote Dask workers may not share this disk: their results come back here to be written
    worker_store = None if spec.scheduler or not keep_store else str(store.root)
    max_inflight = 2 * max(runner.workers, 1)
    # every worker gets work: no chunk larger than combinations / workers
    task_size = max(1, min(spec.chunk_size, -(-total // max(runner.workers, 1))))
    trials_log = TrialLog(capacity=total)  # allocated once: no per-chunk copies to merge
    engines: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    computed_rows = reused_rows = trials = drawn = 0
    table_tmp = out_dir / f".{TABLE_NAME}.{os.getpid()}.tmp"
    writer: pq.ParquetWriter | None = None
    buffered: list[pa.Table] = []

    def write_groups(final: bool) -> None:
        """Write whole row groups of ``spec.chunk_size`` rows (and the rest when ``final``)."""
        held = sum(t.num_rows for t in buffered)
        if writer is None or not held or (held < spec.chunk_size and not final):
            return
        table = pa.concat_tables(buffered)
        whole = held if final else held - held % spec.chunk_size
        writer.write_table(table.slice(0, whole), row_group_size=spec.chunk_size)
        buffered[:] = [table.slice(whole)] if whole < held else []
    progress = progress_bar(spec.progress, total, runner.description, constrained=check is not None)
    pending: collections.deque[tuple[Chunk, Any]] = collections.deque()
    finished: dict[Any, ChunkResult] = {}
    inflight: set[Any] = set()

    def collect(block: bool) -> None:
        nonlocal computed_rows
        if not inflight:
            return
        done = runner.wait(list(inflight)) if block else {f for f in inflight if f.done()}
        for fut in done:
            result = fut.result()  # re-raises a worker's error
            if result.part is None and keep_store:
                store.write_behind(result)
            else:
                store.register(result.part, result.keys)
            computed_rows += len(result.keys)
            finished[fut] = result
            inflight.discard(fut)

    def emit_ready() -> None:
        nonlocal writer, reused_rows, trials, drawn
        while pending and (pending[0][1] is None or pending[0][1] in finished):
            chunk, fut = pending.popleft()
            result = finished.pop(fut) if fut is not None else None
            computed = {k: (result, j) for j, k in enumerate(result.keys)} if result is not None else {}
            reused_rows += sum(1 for k in chunk.keys if k not in computed)
            if chunk.keys:
                metrics, stats, engine, reason, returns = rows_for(chunk, computed, store, stats_spec,
                                                                  want_returns=held is not None)
                table = pa.table({
                    "combo_id": pa.array(chunk.ids, type=pa.int64()),
                    **{d: dim_array([c[d] for c in chunk.combos], types[d]) for d in dims},
                    "engine": pa.array(engine, type=pa.string()),
                    **{m: pa.array(metrics[m], type=pa.float64()) for m in ROW_METRICS},
                    "key": pa.array(chunk.keys, type=pa.string()),
                    "fallback_reason": pa.array(reason, type=pa.string()),
                    "params": pa.array(chunk.params, type=pa.string()),
                })
                if writer is None:
                    writer = pq.ParquetWriter(table_tmp, table.schema, compression="zstd", use_dictionary=False)
                buffered.append(table)
                if held is not None:
                    held.add(table, returns)
                write_groups(final=False)
                trials_log.add(stats, rank_values(metrics[spec.metric], spec.metric))
                engines.update(engine)
                reasons.update(r for r in reason if r)
                trials += len(chunk.keys)
            progress.advance(chunk.consumed, kept=len(chunk.keys))
            drawn += chunk.consumed

    try:
        for chunk in chunks(inputs, space, check, seed, task_size):
            todo = [i for i, k in enumerate(chunk.keys) if k not in store]
            fut = None
            if todo:
                while len(inflight) >= max_inflight:
                    collect(block=True)
                    emit_ready()
                task = ChunkTask(keys=tuple(chunk.keys[i] for i in todo), combos=tuple(chunk.combos[i] for i in todo),
                                 params=tuple(chunk.params[i] for i in todo), stats=stats_spec, engine=spec.engine,
                                 store_dir=worker_store)
                fut = runner.submit(task)
                inflight.add(fut)
            pending.append((chunk, fut))
            collect(block=False)
            emit_ready()
            while len(pending) > 4 * max_inflight:  # bound the results held for ordering
                collect(block=True)
                emit_ready()
        while pending:
            collect(block=True)
            emit_ready()
    except BaseException:
        if writer is not None:
            writer.close()
        table_tmp.unlink(missing_ok=True)
        try:
            store.close()  # parts being written finish (each atomic); the first error is the one raised
        except Exception:  # noqa: BLE001
            pass
        raise
    finally:
        progress.stop()
        runner.close()
    if writer is None:
        raise SweepSpaceError("no combination passes the constraint; loosen it or widen the grid")
    write_groups(final=True)
    writer.close()
    table_path = out_dir / TABLE_NAME
    os.replace(table_tmp, table_path)
    t_evaluated = time.perf_counter()

    messages = []
    if getattr(runner, "started", True) is False and trials:
        messages.append(f"ran in this process: {trials:,} combinations, all on the kernel (local processes start "
                        f"only for a sweep of more than {SERIAL_MAX_COMBINATIONS:,} combinations or one that needs "
                        f"backtrader; below that starting them costs more than they save)")
    if engines.get("backtrader"):
        why = "; ".join(f"{r} ({n})" for r, n in reasons.most_common())
        messages.append(f"{engines['backtrader']:,} of {trials:,} combinations ran on backtrader (the kernel does not "
                        f"cover them: {why}); the rest on the vectorised kernel")
    else:
        messages.append(f"all {trials:,} combinations ran on the vectorised kernel")
    for msg in messages:
        on_message(msg)
    rows = held if held is not None else StoredRows(table_path, store)
    try:  # the store's last parts are written meanwhile (their errors surface at close)
        summary = summarise(spec, inputs, space, constraint, seed, dims, rows, trials_log, trials,
                             engines, reasons, out_dir)
    finally:
        store.close()
    write_json(out_dir / SUMMARY_NAME, summary)
    seal(out_dir, command="sweep",
         files=[TABLE_NAME, SUMMARY_NAME, *(h["file"] for h in summary.get("heatmaps", ()) if h.get("file"))])
    t_done = time.perf_counter()
    return SweepOutcome(out_dir=out_dir, table_path=table_path, summary_path=out_dir / SUMMARY_NAME,
                        summary=summary, computed=computed_rows, reused=reused_rows,
                        timings={"load": t_loaded - t0, "evaluate": t_evaluated - t_loaded,
                                 "diagnostics": t_done - t_evaluated, "total": t_done - t0},
                        messages=tuple(messages), drawn=drawn, table=held.table if held is not None else None)


def sweep(spec: SweepSpec, grid: Space | Mapping[str, Sequence[Any]], constraint: str | Constraint | None = None,
          seed: int = 0) -> pd.DataFrame:
    """Run a parameter sweep and return its table (one row per combination, by ``combo_id``).

    Parameters
    ----------
    spec
        Base config and run options (:class:`SweepSpec`).
    grid
        ``{parameter: [values]}`` (every combination) or a :class:`RandomSearch`.
    constraint
        Drop combinations: an expression over parameter names such as
        ``"take_profit_pct is None or stop_loss_pct is None or take_profit_pct > stop_loss_pct"``,
        or a Python callable ``f(values: dict) -> bool`` (values include unswept parameters).
    seed
        Seed of the random search (the grid ignores it).

    Returns
    -------
    DataFrame
        ``combo_id``, one column per dimension, ``engine`` (kernel / backtrader), the
        :data:`~backtests.sweeps.rowmetrics.ROW_METRICS` columns, ``key`` (store key) and
        ``fallback_reason``. Also written to ``spec.out_dir`` with ``sweep_summary.json``.
    """
    outcome = run_sweep(spec, grid, constraint, seed)
    frame = outcome.table.to_pandas() if outcome.table is not None else pd.read_parquet(outcome.table_path)
    if spec.out_dir is None:
        shutil.rmtree(outcome.out_dir, ignore_errors=True)
    return frame
