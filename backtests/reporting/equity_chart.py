"""The equity chart: strategy vs the rebased benchmark with catalyst first-trade markers.

Layout is fixed in inches (no constrained layout) so label positions are known before
drawing: each catalyst's label sits in the lowest free "lane" above the plot with a
leader to its line, and when most catalysts crowd into a short stretch a second panel
zooms into it (the main panel then labels that stretch once).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D

from backtests.reporting.figures import (
    BENCHMARK, CATALYST, DPI, RC, STARRED, STRATEGY, WIDTH_IN, date_axis, listing_styles, money_formatter, styled,
    to_png,
)
from backtests.reporting.series import Curves


@dataclass(frozen=True, kw_only=True, slots=True)
class _Label:
    """One catalyst label: where its line is (inches from the axes' left) and its text."""

    catalyst_id: str
    x: pd.Timestamp
    starred: bool
    width_in: float
    lane: int = 0
    text: str = ""
    right_aligned: bool = False


def _text_width_in(fig: Figure, text: str, size: float, bold: bool) -> float:
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    prop = FontProperties(family=RC["font.family"], size=size, weight="bold" if bold else "normal")
    width, _, _ = renderer.get_text_width_height_descent(text, prop, ismath=False)
    return float(width) / fig.dpi


def _lanes(labels: list[_Label], x_in: dict[str, float], pad_in: float = 0.08) -> list[_Label]:
    """Greedy lanes: each label goes to the lowest lane where it does not touch the previous one."""
    ends: list[float] = []
    out = []
    for lab in sorted(labels, key=lambda lb: (x_in[lb.catalyst_id], lb.catalyst_id)):
        x = x_in[lab.catalyst_id]
        lane = next((i for i, end in enumerate(ends) if end + pad_in <= x), len(ends))
        if lane == len(ends):
            ends.append(0.0)
        ends[lane] = x + lab.width_in
        out.append(dataclasses.replace(lab, lane=lane))
    return out


def _catalyst_cluster(xs: list[pd.Timestamp], lo: pd.Timestamp, hi: pd.Timestamp,
                      gap_days: int = 21) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The densest run of catalysts (gaps <= ``gap_days``) when it is >= 3 catalysts packed
    into under a third of the chart: worth a zoomed panel."""
    xs = sorted(xs)
    best: tuple[int, int] = (0, 0)
    start = 0
    for i in range(1, len(xs) + 1):
        if i == len(xs) or (xs[i] - xs[i - 1]).days > gap_days:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = i
    first, last = best
    if last - first < 3:
        return None
    a, b = xs[first], xs[last - 1]
    if (b - a) > (hi - lo) / 3:
        return None
    return max(lo, a - pd.Timedelta(days=10)), min(hi, b + pd.Timedelta(days=14))


def _draw_panel(ax: Axes, curves: Curves, rows: pd.DataFrame | None, styles: dict[str, tuple[str, str]],
                xlim: tuple[pd.Timestamp, pd.Timestamp], currency: str, benchmark: str) -> None:
    lo, hi = xlim
    eq = curves.strategy_equity_base
    ax.plot(eq.index, eq.to_numpy(), color=STRATEGY, lw=1.7, label=f"strategy ({currency})", zorder=3)
    shown = [eq[(eq.index >= lo) & (eq.index <= hi)]]
    if curves.benchmark_equity_base is not None:
        b = curves.benchmark_equity_base
        ax.plot(b.index, b.to_numpy(), color=BENCHMARK, lw=1.2, label=f"{benchmark or 'benchmark'} (rebased)", zorder=2)
        shown.append(b[(b.index >= lo) & (b.index <= hi)])
    ax.axhline(curves.start_value_base, color="#444", lw=0.6, ls=":", zorder=1)
    if rows is not None:
        for r in rows.itertuples(index=False):
            ls, _ = styles[str(r.listing)]
            star = bool(r.starred)
            ax.axvline(r.first_trade_session, color=STARRED if star else CATALYST, ls=ls,
                       lw=1.3 if star else 0.8, alpha=0.9 if star else 0.55, zorder=1.5)
    values = np.concatenate([s.to_numpy(dtype=float) for s in shown if len(s)] or [np.array([1.0])])
    values = values[np.isfinite(values)]
    if values.size:
        span = max(float(values.max() - values.min()), 1e-9 + abs(float(values.max())) * 1e-3)
        ax.set_ylim(float(values.min()) - 0.06 * span, float(values.max()) + 0.06 * span)
    ax.set_xlim(lo, hi)
    ax.yaxis.set_major_formatter(money_formatter(currency))
    ax.set_ylabel(f"value ({currency})")
    date_axis(ax)


@styled
def equity_figure(curves: Curves, *, schedule: pd.DataFrame | None, currency: str, benchmark: str) -> bytes:
    """Strategy equity and the rebased benchmark with catalyst first-trade markers.

    Each schedule row is a vertical line at the listing's first-trade session (line style
    per listing; starred catalysts red and thicker). Each catalyst is labelled once, in
    horizontal text above the plot on the first free "lane" with a leader to its line.
    When most catalysts fall into a short stretch, a second panel zooms into it.
    """
    eq = curves.strategy_equity_base
    lo = eq.index.min() if len(eq) else pd.Timestamp("2000-01-01")
    hi = eq.index.max() if len(eq) else lo + pd.Timedelta(days=1)
    if hi <= lo:
        hi = lo + pd.Timedelta(days=1)
    pad = (hi - lo) * 0.01
    full = (lo - pad, hi + pad)
    rows = None
    styles: dict[str, tuple[str, str]] = {}
    if schedule is not None and len(schedule):
        rows = schedule.dropna(subset=["first_trade_session"])
        rows = rows[(rows["first_trade_session"] >= full[0]) & (rows["first_trade_session"] <= full[1])]
        rows = rows if len(rows) else None
    if rows is not None:
        styles = listing_styles(rows["listing"].astype(str))
    firsts = rows.groupby("catalyst_id", sort=False).agg(x=("first_trade_session", "min"), star=("starred", "any")) \
        if rows is not None else pd.DataFrame(columns=["x", "star"])
    zoom = _catalyst_cluster(list(firsts["x"]), lo, hi) if len(firsts) else None

    fig = Figure(figsize=(WIDTH_IN, 6.0), dpi=DPI)
    FigureCanvasAgg(fig)
    left_in, right_in, lane_in, main_in, zoom_in = 0.85, 0.25, 0.19, 3.9, 2.5
    axw_in = WIDTH_IN - left_in - right_in

    def lanes_for(xlim: tuple[pd.Timestamp, pd.Timestamp],
                  collapse: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> list[_Label]:
        inside = firsts[(firsts["x"] >= xlim[0]) & (firsts["x"] <= xlim[1])]
        labels = []
        for c, r in inside.iterrows():
            star, text = bool(r["star"]), _label_text(str(c), bool(r["star"]))
            labels.append(_Label(catalyst_id=str(c), x=r["x"], starred=star, text=text,
                                 width_in=_text_width_in(fig, text, 8.0, star)))
        if collapse is not None:   # the zoom panel labels these; here one label for the group
            grouped = [lb for lb in labels if collapse[0] <= lb.x <= collapse[1]]
            labels = [lb for lb in labels if not collapse[0] <= lb.x <= collapse[1]]
            n_star = sum(lb.starred for lb in grouped)
            text = f"{len(grouped)} catalysts" + (f", {n_star} ★" if n_star else "") + ": see the zoom below"
            labels.append(_Label(catalyst_id="(zoom)", x=collapse[0], starred=n_star > 0, text=text,
                                 width_in=_text_width_in(fig, text, 8.0, n_star > 0)))
        span = (xlim[1] - xlim[0]).total_seconds()
        x_in: dict[str, float] = {}
        placed = []
        for lb in labels:           # left edge of each label; flipped left of its line near the right edge
            x = (lb.x - xlim[0]).total_seconds() / span * axw_in
            flip = x + 0.03 + lb.width_in > axw_in + right_in - 0.05
            x_in[lb.catalyst_id] = x - 0.03 - lb.width_in if flip else x
            placed.append(dataclasses.replace(lb, right_aligned=flip))
        return _lanes(placed, x_in)

    panels = [(full, lanes_for(full, collapse=zoom), main_in)]
    if zoom is not None:
        panels.append((zoom, lanes_for(zoom), zoom_in))
    heights = [0.12 + (max((lb.lane for lb in lanes), default=-1) + 1) * lane_in + 0.06 + h + 0.42
               for _, lanes, h in panels]
    height_in = sum(heights) + (0.2 if zoom is not None else 0.0) + 0.05
    fig.set_size_inches(WIDTH_IN, height_in)
    top = height_in
    axes = []
    for (xlim, lanes, h), block in zip(panels, heights):
        n_lanes = max((lb.lane for lb in lanes), default=-1) + 1
        ax_top = top - 0.12 - n_lanes * lane_in - 0.06
        ax = fig.add_axes((left_in / WIDTH_IN, (ax_top - h) / height_in, axw_in / WIDTH_IN, h / height_in))
        _draw_panel(ax, curves, rows, styles, xlim, currency, benchmark)
        span = (xlim[1] - xlim[0]).total_seconds()
        for lb in lanes:
            x_fig = left_in + (lb.x - xlim[0]).total_seconds() / span * axw_in
            y_text = ax_top + 0.06 + lb.lane * lane_in
            color = STARRED if lb.starred else "#3d4650"
            fig.add_artist(Line2D([x_fig, x_fig], [ax_top, y_text + 0.02], transform=fig.dpi_scale_trans,
                                  color=color, lw=0.6, alpha=0.8))
            fig.text(x_fig - 0.03 if lb.right_aligned else x_fig + 0.03, y_text, lb.text,
                     transform=fig.dpi_scale_trans, fontsize=8.0, color=color,
                     fontweight="bold" if lb.starred else "normal", ha="right" if lb.right_aligned else "left",
                     va="bottom")
        axes.append(ax)
        top -= block + 0.2
    handles, _ = axes[0].get_legend_handles_labels()
    handles += [Line2D([], [], color=CATALYST, ls=ls, lw=1.0, label=f"first trade {sym}")
                for sym, (ls, _) in styles.items()]
    if rows is not None and rows["starred"].any():
        handles.append(Line2D([], [], color=STARRED, lw=1.4, label="★ starred catalyst"))
    axes[0].legend(handles=handles, loc="best", ncols=2, frameon=True, framealpha=0.9, edgecolor="none")
    if zoom is not None:
        axes[0].axvspan(zoom[0], zoom[1], color="#f2c94c", alpha=0.12, lw=0, zorder=0)
        axes[1].set_facecolor("#fffdf3")
        axes[1].text(0.005, 0.97, f"zoom {zoom[0]:%Y-%m-%d} .. {zoom[1]:%Y-%m-%d} (shaded above)",
                     transform=axes[1].transAxes, ha="left", va="top", fontsize=8, color="#555")
    return to_png(fig)


def _label_text(catalyst_id: str, starred: bool) -> str:
    return f"★ {catalyst_id}" if starred else catalyst_id
