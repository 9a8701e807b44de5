"""Tearsheet figures as PNG bytes, drawn with matplotlib's Agg canvas.

Figures are built as :class:`matplotlib.figure.Figure` objects attached to an explicit
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`: pyplot (and with it any GUI
backend such as TkAgg) is never imported, so rendering works headless and leaves the
caller's matplotlib state alone. ``backtrader.plot`` is not used (it forces TkAgg).
PNG metadata is stripped so the same data give the same bytes.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable, Sequence
from typing import ParamSpec

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib import dates as mdates
from matplotlib import ticker as mticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

P = ParamSpec("P")

DPI = 110
WIDTH_IN = 11.0
STRATEGY = "#1f3b73"
BENCHMARK = "#9aa0a6"
STARRED = "#c0392b"
CATALYST = "#7b5ea7"
LISTING_COLORS = ("#1f77b4", "#e67e22", "#2ca02c", "#9467bd")
LISTING_STYLES = ("-", "--", ":", "-.")

RC = {
    "font.size": 9, "axes.titlesize": 10.5, "axes.titleweight": "bold", "axes.labelsize": 9,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25,
    "grid.linewidth": 0.6, "legend.fontsize": 8, "legend.frameon": False, "xtick.labelsize": 8,
    "ytick.labelsize": 8, "font.family": "DejaVu Sans",
}


def styled(func: Callable[P, bytes]) -> Callable[P, bytes]:
    """Run a figure function under the tearsheet's rc settings (restored afterwards)."""
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> bytes:
        with matplotlib.rc_context(RC):
            return func(*args, **kwargs)
    return wrapper


def _figure(height_in: float, width_in: float = WIDTH_IN) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def money_formatter(currency: str) -> mticker.FuncFormatter:
    def fmt(v: float, _pos: int) -> str:
        if abs(v) >= 1e6:
            return f"{v / 1e6:,.2f}M"
        if abs(v) >= 1e3:
            return f"{v / 1e3:,.0f}k"
        return f"{v:,.0f}"
    return mticker.FuncFormatter(fmt)


def date_axis(ax: object) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=12)
    ax.xaxis.set_major_locator(locator)  # type: ignore[attr-defined]
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[attr-defined]


def listing_styles(listings: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Listing -> (line style, colour), stable by first appearance."""
    out: dict[str, tuple[str, str]] = {}
    for sym in listings:
        if sym not in out:
            i = len(out)
            out[sym] = (LISTING_STYLES[i % len(LISTING_STYLES)], LISTING_COLORS[i % len(LISTING_COLORS)])
    return out


@styled
def drawdown_figure(strategy_dd: pd.Series, benchmark_dd: pd.Series | None, *, benchmark: str) -> bytes:
    """Underwater chart: strategy drawdown filled, the benchmark's as a line."""
    fig = _figure(2.6)
    ax = fig.add_subplot()
    ax.fill_between(strategy_dd.index, strategy_dd.to_numpy(), 0.0, color=STARRED, alpha=0.35, lw=0,
                    label="strategy")
    ax.plot(strategy_dd.index, strategy_dd.to_numpy(), color=STARRED, lw=0.8)
    if benchmark_dd is not None:
        ax.plot(benchmark_dd.index, benchmark_dd.to_numpy(), color=BENCHMARK, lw=1.0, label=benchmark or "benchmark")
    ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
    ax.set_ylim(top=0.0)
    date_axis(ax)
    if len(strategy_dd) and np.isfinite(strategy_dd.to_numpy(dtype=float)).any():
        at = strategy_dd.idxmin()
        ax.annotate(f"strategy max {100 * strategy_dd.min():.2f}%", xy=(at, strategy_dd.min()),
                    xytext=(8, -14), textcoords="offset points", fontsize=8, color=STARRED,
                    arrowprops={"arrowstyle": "-", "color": STARRED, "lw": 0.6})
    ax.legend(loc="lower left", ncols=2)
    return to_png(fig)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@styled
def monthly_figure(table: pd.DataFrame) -> bytes:
    """Year x month heatmap of compounded returns with the values written in (percent)."""
    values = table.to_numpy(dtype=float)
    fig = _figure(0.9 + 0.42 * len(table))
    ax = fig.add_subplot()
    ax.grid(False)
    months = values[:, :12]
    finite = months[np.isfinite(months)]
    vmax = float(np.nanmax(np.abs(finite))) if finite.size else 0.01
    vmax = max(vmax, 1e-4)
    norm = mcolors.TwoSlopeNorm(vmin=-vmax, vcenter=0.0, vmax=vmax)
    cmap = mcolors.LinearSegmentedColormap.from_list("rg", ["#c0392b", "#f7f7f7", "#1e8449"])
    shown = values.copy()
    shown[:, 12] = np.nan                  # the year column is written, not coloured
    ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, norm=norm, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, "0.0%" if abs(v) < 5e-5 else f"{100 * v:+.1f}%", ha="center", va="center", fontsize=8,
                    fontweight="bold" if j == 12 else "normal", color="#111")
    ax.set_xticks(range(13), [*_MONTHS, "Year"])
    ax.set_yticks(range(len(table)), [str(y) for y in table.index])
    ax.tick_params(length=0)
    ax.axvline(11.5, color="#333", lw=1.0)
    for s in ax.spines.values():
        s.set_visible(False)
    return to_png(fig)


@styled
def rolling_figure(rolling: pd.DataFrame, *, window_sessions: int, benchmark: str, alpha_label: str) -> bytes:
    """Rolling beta (top) and rolling alpha (bottom) against the benchmark."""
    fig = _figure(4.0)
    ax_b, ax_a = fig.subplots(2, 1, sharex=True)
    ax_b.plot(rolling.index, rolling["beta"].to_numpy(), color=STRATEGY, lw=1.2)
    ax_b.axhline(0.0, color="#444", lw=0.6)
    ax_b.axhline(1.0, color="#444", lw=0.6, ls=":")
    ax_b.set_ylabel("beta")
    ax_b.text(0.005, 0.96, f"{window_sessions}-session window vs {benchmark or 'benchmark'}",
              transform=ax_b.transAxes, ha="left", va="top", fontsize=8, color="#555")
    ax_a.plot(rolling.index, rolling["alpha"].to_numpy(), color="#1e8449", lw=1.2)
    ax_a.axhline(0.0, color="#444", lw=0.6)
    ax_a.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
    ax_a.set_ylabel(alpha_label)
    date_axis(ax_a)
    return to_png(fig)


@styled
def event_study_figure(paths: pd.DataFrame, *, order: Sequence[str], starred: set[str],
                       band_low: str | None, band_high: str | None, band_label: str) -> bytes:
    """Small multiples, one panel per catalyst: CAR path per listing with its placebo band.

    The band (``band_low``..``band_high`` columns) is the placebo distribution of the CAR
    path scaled to that event's residual sigma; AR per day is drawn as thin bars.
    """
    listings = list(dict.fromkeys(paths["listing"].astype(str)))
    styles = listing_styles(listings)
    n = len(order)
    ncols = min(5, max(n, 1))
    nrows = int(np.ceil(n / ncols))
    height_in = 0.45 + 2.15 * nrows + 0.45
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)   # fixed margins: constrained layout of
    FigureCanvasAgg(fig)                                   # 10+ panels costs a second
    fig.subplots_adjust(left=0.65 / WIDTH_IN, right=1 - 0.15 / WIDTH_IN, top=1 - 0.45 / height_in,
                        bottom=0.45 / height_in, wspace=0.08, hspace=0.24)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)).ravel()
    width = 0.8 / max(len(listings), 1)
    for ax, cid in zip(axes, order):
        sub = paths[paths["catalyst_id"] == cid]
        for k, sym in enumerate(listings):
            rows = sub[sub["listing"].astype(str) == sym].sort_values("rel_day")
            if not len(rows):
                continue
            _, color = styles[sym]
            x = rows["rel_day"].to_numpy(dtype=float)
            if band_low and band_high and rows[band_low].notna().any():
                ax.fill_between(x, rows[band_low].to_numpy(dtype=float), rows[band_high].to_numpy(dtype=float),
                                color=color, alpha=0.13, lw=0)
            ax.bar(x + (k - (len(listings) - 1) / 2) * width, rows["ar"].to_numpy(dtype=float), width=width,
                   color=color, alpha=0.35, lw=0)
            ax.plot(x, rows["car"].to_numpy(dtype=float), color=color, lw=1.5)
        ax.axvline(0.0, color="#333", lw=0.7, ls=":")
        ax.axhline(0.0, color="#333", lw=0.6)
        star = cid in starred
        ax.set_title(f"★ {cid}" if star else cid, loc="left", fontsize=9.5,
                     color=STARRED if star else "#222", fontweight="bold" if star else "normal")
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
    for ax in axes[:n]:
        ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True, nbins=6))
    for ax in axes[(nrows - 1) * ncols:n]:
        ax.set_xlabel("sessions from day 0")
    handles = [Line2D([], [], color=styles[s][1], lw=1.5, label=f"CAR {s}") for s in listings]
    handles += [Patch(color=styles[s][1], alpha=0.35, label=f"AR {s}") for s in listings]
    if band_low and band_high:
        handles.append(Patch(color="#999", alpha=0.3, label=band_label))
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncols=len(handles), fontsize=8,
               frameon=False)
    return to_png(fig)


@styled
def heatmap_figure(frame: pd.DataFrame, *, x: str, y: str, metric: str, best: tuple[object, object] | None) -> bytes:
    """A sweep metric over two parameters (``frame``: index = y values, columns = x values)."""
    values = frame.to_numpy(dtype=float)
    fig = _figure(min(1.6 + 0.38 * len(frame), 6.0), width_in=min(4.5 + 1.0 * frame.shape[1], WIDTH_IN))
    ax = fig.add_subplot()
    ax.grid(False)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", aspect="auto", origin="lower")
    finite = values[np.isfinite(values)]
    mid = float(np.mean([finite.min(), finite.max()])) if finite.size else 0.0
    if values.size <= 400:
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7.5,
                        color="white" if v < mid else "black")
    ax.set_xticks(range(frame.shape[1]), [_tick(c) for c in frame.columns], rotation=0)
    ax.set_yticks(range(len(frame)), [_tick(v) for v in frame.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.tick_params(length=0)
    if best is not None:
        col, row = _position(frame.columns, best[0]), _position(frame.index, best[1])
        if col is not None and row is not None:
            ax.add_patch(_best_box(col, row))
    fig.colorbar(image, ax=ax, label=metric, shrink=0.9)
    ax.set_title(f"{metric} over {x} × {y}", loc="left", fontsize=9)
    return to_png(fig)


def _tick(value: object, width: int = 24) -> str:
    """An axis label short enough to leave room for the cells (long catalyst subsets are cut)."""
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _position(labels: Iterable[object], value: object) -> int | None:
    """Index of ``value`` among axis labels read from CSV (``"10"`` matches ``10`` and ``10.0``)."""
    def same(a: object, b: object) -> bool:
        try:
            return float(a) == float(b)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(a) == str(b)
    return next((i for i, lab in enumerate(labels) if same(lab, value)), None)


def _best_box(col: int, row: int) -> Patch:
    from matplotlib.patches import Rectangle

    return Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor=STARRED, lw=2.0)
