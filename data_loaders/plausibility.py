"""Plausibility of validated prices: numbers that parse but cannot be right.

Validation (:mod:`data_loaders.validation`) refuses rows that are not prices at all; this
module finds prices that are prices but implausible:

* **jumps**: a close-to-close move of at least ``jump_factor`` (x or ÷: 2 = doubling or
  halving in one session) or of at least ``jump_sigma`` robust standard deviations (the
  median absolute deviation of the series' log returns, x 1.4826); the 1e12 spike, a
  misplaced decimal point, an unadjusted split;
* **parity**: a cross-listed pair whose price levels disagree with the declared ratio
  (``adr = shares_per_adr x ordinary / fx``) by more than ``parity_tolerance`` in the median
  over their common dates (an ADR file in cents is 100x off).

Each finding is a :class:`~data_loaders.schema.DataIssue` naming the date, the values and
the likely fix; :class:`Plausibility` says whether findings refuse the run or only warn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from data_loaders.errors import DataValidationError
from data_loaders.schema import DailyBars, DataIssue

ACTIONS: tuple[str, ...] = ("refuse", "warn")
KINDS: frozenset[str] = frozenset({"implausible_jump", "parity_mismatch"})
_MAX_LISTED = 5


@dataclass(frozen=True, kw_only=True, slots=True)
class Plausibility:
    """Thresholds of the checks and what a finding does (``[data]`` keys of a config).

    Attributes
    ----------
    action
        ``refuse`` (default: the run stops with the findings) or ``warn`` (they go to the
        console, ``notes.txt`` and ``provenance.json`` and the run goes on).
    jump_factor
        Smallest one-session move (x or ÷) that is implausible (> 1; default 2).
    jump_sigma
        Smallest move in robust standard deviations that is implausible (default 25; real
        daily series in ../shared stay below 13).
    parity_tolerance
        Largest relative gap of the median price level from pair parity (default 0.25).
    """

    action: str = "refuse"
    jump_factor: float = 2.0
    jump_sigma: float = 25.0
    parity_tolerance: float = 0.25

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"plausibility = {self.action!r}; allowed: {', '.join(ACTIONS)}")
        if not (isinstance(self.jump_factor, (int, float)) and 1 < self.jump_factor < math.inf):
            raise ValueError(f"max_jump_factor must be a number > 1 (2 = doubling), got {self.jump_factor!r}")
        if not (isinstance(self.jump_sigma, (int, float)) and 0 < self.jump_sigma < math.inf):
            raise ValueError(f"max_jump_sigma must be a number > 0 (e.g. 25), got {self.jump_sigma!r}")
        if not (isinstance(self.parity_tolerance, (int, float)) and 0 < self.parity_tolerance < math.inf):
            raise ValueError(f"max_parity_gap must be a fraction > 0 (e.g. 0.25), got {self.parity_tolerance!r}")


def jump_issues(bars: DailyBars, spec: Plausibility) -> tuple[DataIssue, ...]:
    """One issue listing the implausible close-to-close moves of ``bars`` (empty when none)."""
    close = bars.frame["close"].astype(float)
    if len(close) < 3:
        return ()
    logret = np.log(close.to_numpy()[1:] / close.to_numpy()[:-1])
    scale = 1.4826 * float(np.median(np.abs(logret - np.median(logret))))
    z = np.abs(logret) / scale if scale > 0 else np.zeros_like(logret)
    bad = (np.abs(logret) >= math.log(spec.jump_factor)) | ((z >= spec.jump_sigma) & (scale > 0))
    if not bad.any():
        return ()
    idx = close.index
    lines = []
    for i in np.flatnonzero(bad):
        factor = math.exp(abs(logret[i]))
        word = "x" if logret[i] > 0 else "÷"
        lines.append(f"{idx[i + 1]:%Y-%m-%d} close {close.iloc[i + 1]:.6g} is {word}{factor:,.3g} the "
                     f"{idx[i]:%Y-%m-%d} close {close.iloc[i]:.6g} ({z[i]:,.0f} sigma)")
    shown = "; ".join(lines[:_MAX_LISTED]) + (f" (+{len(lines) - _MAX_LISTED} more)" if len(lines) > _MAX_LISTED else "")
    sessions = tuple(f"{idx[i + 1]:%Y-%m-%d}" for i in np.flatnonzero(bad))
    return (DataIssue(kind="implausible_jump", sessions=sessions, message=(
        f"{len(lines)} implausible one-session move(s) (>= x/÷{spec.jump_factor:g} or >= {spec.jump_sigma:g} "
        f"sigma): {shown}; correct the row(s) (a spike, a misplaced decimal point, an unadjusted split?)")),)


def parity_ratios(*, adr: DailyBars, ordinary: DailyBars, fx: DailyBars, shares_per_adr: float) -> np.ndarray:
    """``adr_close(d) / (shares_per_adr x ordinary_close(d) / fx(d))`` on each common session date
    ``d`` where it is known (dates before the first fx close are left out), in date order.

    ``fx(d)`` is the last fx close on or before ``d`` (as-of; a missing close is carried forward).
    """
    a, o = adr.frame["close"], ordinary.frame["close"]
    common = a.index.intersection(o.index)
    if len(common) == 0 or not len(fx.frame):
        return np.empty(0)
    fx_close = fx.frame["close"].astype(float).ffill().to_numpy()
    at = fx.frame.index.searchsorted(common, side="right") - 1
    rate = np.where(at >= 0, fx_close[np.maximum(at, 0)], np.nan)
    a_common = a.to_numpy(dtype=float)[a.index.get_indexer(common)]
    o_common = o.to_numpy(dtype=float)[o.index.get_indexer(common)]
    ratio = a_common / (shares_per_adr * o_common / rate)
    return ratio[~np.isnan(ratio)]


def parity_issue(*, adr: DailyBars, ordinary: DailyBars, fx: DailyBars, shares_per_adr: float,
                 spec: Plausibility) -> DataIssue | None:
    """A finding when the ADR's median price level is off parity with its ordinary share.

    Parity on each common session date ``d``: ``shares_per_adr x ordinary_close(d) / fx(d)``
    (``fx`` in ordinary currency per ADR currency, as-of ``d``), compared with ``adr_close(d)``.
    """
    ratio = parity_ratios(adr=adr, ordinary=ordinary, fx=fx, shares_per_adr=shares_per_adr)
    if not len(ratio):
        return None
    med = float(np.median(ratio))
    if abs(med - 1.0) <= spec.parity_tolerance:
        return None
    hint = next((f" — in {unit}? divide its prices by {k:g}" for k, unit in ((100, "cents"), (1000, "thousandths"))
                 if abs(med / k - 1.0) <= spec.parity_tolerance), "")
    if not hint and abs(med * shares_per_adr - 1.0) <= spec.parity_tolerance:
        hint = f" — per share instead of per ADS? multiply by {shares_per_adr:g}"
    return DataIssue(kind="parity_mismatch", message=(
        f"{adr.symbol} closes are {med:,.4g}x their parity with {ordinary.symbol} ({shares_per_adr:g} x "
        f"{ordinary.symbol} / {fx.symbol}, median over {len(ratio)} common dates; tolerance "
        f"{spec.parity_tolerance:.0%}){hint}; check the file's units and the pair ratio"))


class ImplausibleDataError(DataValidationError):
    """Prices that parse but cannot be right, refused under ``plausibility = "refuse"``."""

    def __init__(self, origin: str, problems: list[str], fix: str) -> None:
        super().__init__(origin, problems)
        self.args = (f"{origin}: {len(problems)} finding(s) make these prices implausible:\n"
                     + "\n".join(f"  - {p}" for p in problems) + f"\n{fix}",)

    def __str__(self) -> str:
        return str(self.args[0])


def refuse_or_warn(findings: dict[str, tuple[DataIssue, ...]], spec: Plausibility) -> None:
    """Raise :class:`ImplausibleDataError` for ``findings`` when ``spec.action`` is refuse.

    Raises
    ------
    ImplausibleDataError
        Listing every finding by symbol, with how to run anyway.
    """
    lines = [f"{sym}: {i.message}" for sym, issues in findings.items() for i in issues]
    if lines and spec.action == "refuse":
        raise ImplausibleDataError("implausible prices", lines, (
            "Fix the data, or set [data] plausibility = \"warn\" to run anyway (the findings then go to the "
            "console, notes.txt and provenance.json), or raise [data] max_jump_factor / max_jump_sigma / "
            "max_parity_gap"))


def as_frame_issue(bars: DailyBars, extra: tuple[DataIssue, ...]) -> DailyBars:
    """``bars`` with ``extra`` findings appended to its issues."""
    return replace(bars, issues=(*bars.issues, *extra)) if extra else bars


__all__ = ["ACTIONS", "KINDS", "ImplausibleDataError", "Plausibility", "as_frame_issue", "jump_issues",
           "parity_issue", "refuse_or_warn"]
