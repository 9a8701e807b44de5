"""Where chunks run: in this process, on local processes (fork: the workers inherit the loaded
inputs and the prepared kernel), or on a Dask distributed cluster (inputs scattered once to
every worker). All expose ``submit(task)``, ``wait(futures)`` and ``close()``.

Local processes are started only when they pay for themselves (:class:`_Local`): a sweep of
at most :data:`SERIAL_MAX_COMBINATIONS` combinations that all run on the kernel is evaluated
in this process (the kernel does tens of thousands of combinations a second, and starting
and feeding processes costs more than splitting such a sweep saves); the pool starts at the
first chunk that needs backtrader, or at once for a larger sweep. Rows do not depend on where
they ran.
"""

from __future__ import annotations

import ctypes
import dataclasses
import multiprocessing
import os
import signal
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any

from backtests.sweeps.chunks import ChunkResult, ChunkTask
from backtests.sweeps.evaluate import fallback_reasons, run_chunk, run_kernel_chunks
from backtests.sweeps.inputs import SweepInputs
from backtests.sweeps.space import SweepSpaceError

DASK_CONNECT_TIMEOUT = "20s"

_WORKER_INPUTS: SweepInputs | None = None


PARENT_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Make this worker process end when ``parent_pid`` (the sweep's main process) dies.

    On Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``);
    everywhere a daemon thread also polls the parent id and exits the process when it changes
    (the parent died and the worker was re-parented). Without this a ``kill -9`` of the main
    process leaves the pool's workers computing and writing parts.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the thread below does it
        pass
    if os.getppid() != parent_pid:  # died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            threading.Event().wait(PARENT_POLL_S)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _init_worker(inputs: SweepInputs, parent_pid: int | None = None) -> None:
    global _WORKER_INPUTS
    if parent_pid is not None:
        die_with_parent(parent_pid)
    _WORKER_INPUTS = inputs


def _worker_run(task: ChunkTask) -> ChunkResult:
    assert _WORKER_INPUTS is not None, "worker not initialised"
    return run_chunk(_WORKER_INPUTS, task)


class _Serial:
    """Chunks evaluated in this process, one at a time."""

    description = "in this process"
    workers = 1

    def __init__(self, inputs: SweepInputs) -> None:
        self.inputs = inputs

    def submit(self, task: ChunkTask) -> Future:
        fut: Future = Future()
        try:  # the sweep writes the part behind, on its store's thread
            fut.set_result(run_chunk(self.inputs, dataclasses.replace(task, store_dir=None)))
        except Exception as exc:  # noqa: BLE001 - re-raised by .result()
            fut.set_exception(exc)
        return fut

    def wait(self, futures: Sequence[Any]) -> set[Any]:
        return set(futures)

    def close(self) -> None:
        pass


#: Combinations a sweep may have and still run in this process (when all run on the kernel).
#: Measured on 2 idle cores, whole sweep() calls, in this process vs 2 processes: 800: 0.10 vs
#: 0.16 s; 1,600: 0.18 vs 0.26; 3,200: 0.23 vs 0.30; 6,400: 0.40 vs 0.42 (break-even near there).
SERIAL_MAX_COMBINATIONS = 4_000


class _Processes:
    """A local process pool; workers receive the inputs once, at start."""

    def __init__(self, inputs: SweepInputs, workers: int) -> None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                                        initializer=_init_worker, initargs=(inputs, os.getpid()))
        self.description = f"{workers} local processes"
        self.workers = workers

    def submit(self, task: ChunkTask) -> Future:
        return self.pool.submit(_worker_run, task)

    def wait(self, futures: Sequence[Any]) -> set[Any]:
        done, _ = futures_wait(list(futures), return_when=FIRST_COMPLETED)
        return set(done)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Local:
    """Up to ``workers`` local processes, started only when the work pays for them (see the
    module docstring); until then chunks run here: they are held until the sweep waits for
    one, then all those held are evaluated in one kernel pass."""

    def __init__(self, inputs: SweepInputs, workers: int, total: int) -> None:
        self.inputs = inputs
        self.workers = workers
        self.small = total <= SERIAL_MAX_COMBINATIONS
        self.pool: _Processes | None = None
        self.held: list[tuple[ChunkTask, list[Any], Future]] = []
        self.description = f"up to {workers} local processes"

    @property
    def started(self) -> bool:
        """Whether the process pool was started."""
        return self.pool is not None

    def submit(self, task: ChunkTask) -> Future:
        if self.pool is None and self.small:
            plans, reasons = fallback_reasons(self.inputs, task)
            if all(r is None for r in reasons):
                fut: Future = Future()
                self.held.append((task, plans, fut))
                return fut
        if self.pool is None:
            self.pool = _Processes(self.inputs, self.workers)
        return self.pool.submit(task)

    def _run_held(self) -> None:
        held, self.held = self.held, []
        try:  # the sweep writes the parts behind, on its store's thread
            results = run_kernel_chunks(self.inputs, [t for t, _, _ in held], [p for _, p, _ in held])
        except Exception as exc:  # noqa: BLE001 - re-raised by .result()
            for _, _, fut in held:
                fut.set_exception(exc)
            return
        for (_, _, fut), result in zip(held, results):
            fut.set_result(result)

    def wait(self, futures: Sequence[Any]) -> set[Any]:
        if self.held:
            self._run_held()
        done = {f for f in futures if f.done()}
        return done or (self.pool.wait(futures) if self.pool is not None else set(futures))

    def close(self) -> None:
        for _, _, fut in self.held:
            fut.cancel()
        self.held = []
        if self.pool is not None:
            self.pool.close()


class _Dask:
    """A Dask distributed cluster; the inputs are scattered to every worker once."""

    def __init__(self, inputs: SweepInputs, address: str) -> None:
        from distributed import Client

        try:
            self.client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
        except OSError as exc:
            raise SweepSpaceError(f"cannot reach the Dask scheduler at {address!r}: {exc}; start one with "
                                  f"'dask scheduler' (and 'dask worker {address}') or drop --scheduler") from exc
        self.inputs = self.client.scatter(inputs, broadcast=True)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self.description = f"Dask cluster {address} ({self.workers} workers)"

    def submit(self, task: ChunkTask) -> Any:
        return self.client.submit(run_chunk, self.inputs, task, pure=False)

    def wait(self, futures: Sequence[Any]) -> set[Any]:
        from distributed import wait

        done, _ = wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done)

    def close(self) -> None:
        self.client.close()


def make_runner(inputs: SweepInputs, *, workers: int, scheduler: str | None, total: int) -> Any:
    """The executor for a sweep of ``total`` combinations: Dask when ``scheduler`` is set, else
    this process (``workers = 1``) or up to ``workers`` local processes (:class:`_Local`)."""
    if scheduler:
        return _Dask(inputs, scheduler)
    return _Serial(inputs) if workers == 1 else _Local(inputs, workers, total)


def progress_bar(enabled: bool, total: int, where: str, *, constrained: bool = False) -> Any:
    """A progress bar on stderr over the ``total`` grid points (random draws); with a
    constraint it also counts the combinations that pass it (kept), the number the summary
    reports. Narrow enough for 80 columns."""
    class _Off:
        def advance(self, n: int, kept: int = 0) -> None:
            pass

        def stop(self) -> None:
            pass

    if not enabled:
        return _Off()
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)

    counted = TextColumn("grid points, {task.fields[kept]:,} kept" if constrained else "combinations")
    bar = Progress(TextColumn("[bold]sweep[/bold] " + where), BarColumn(bar_width=12), MofNCompleteColumn(),
                   counted, TextColumn("ETA"), TimeRemainingColumn(), console=Console(stderr=True), transient=False)
    task = bar.add_task("sweep", total=total, kept=0)
    bar.start()

    class _On:
        def advance(self, n: int, kept: int = 0) -> None:
            bar.update(task, advance=n, kept=bar.tasks[0].fields["kept"] + kept)

        def stop(self) -> None:
            bar.stop()

    return _On()
