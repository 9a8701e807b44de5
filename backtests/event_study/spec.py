"""What an event study computes: windows, estimation design, return model, inference sizes.

:class:`EventStudySpec` is a frozen value object validated at construction; every message
names the field, the value and the fix. The TOML ``[study]`` section maps onto it key for
key (see :mod:`backtests.cli.study`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from data_loaders.errors import UserError

ReturnModel = Literal["market", "market_adjusted", "constant_mean"]
RETURN_MODELS: tuple[ReturnModel, ...] = ("market", "market_adjusted", "constant_mean")

PrimaryTest = Literal["joint_placebo", "placebo"]
PRIMARY_TESTS: tuple[PrimaryTest, ...] = ("joint_placebo", "placebo")

CrossClock = Literal["dimson", "last_close", "next_close"]
CROSS_CLOCKS: tuple[CrossClock, ...] = ("dimson", "last_close", "next_close")

Window = tuple[int, int]
DEFAULT_WINDOWS: tuple[Window, ...] = ((0, 0), (0, 1), (-1, 1), (0, 5), (-5, 10))

#: Default benchmark of each listing (used by the CLI when ``[study.benchmarks]`` is absent).
#: BABA is measured against KWEB, a China-internet ETF that closes at the same NYSE instant;
#: see :mod:`backtests.event_study.returns` for why and for the alternatives.
DEFAULT_BENCHMARKS: dict[str, str] = {"9988.HK": "HSTECH", "BABA": "KWEB"}

#: Quantiles of the placebo CAR paths kept for plots (as fractions).
BAND_QUANTILES: tuple[float, ...] = (0.025, 0.05, 0.5, 0.95, 0.975)

MIN_PLACEBO_DRAWS = 1_000
MAX_PLACEBO_DRAWS = 1_000_000  # memory guard (10**12 draws would need terabytes)


class EventStudySpecError(UserError, ValueError):
    """An event-study setting that cannot work; the message says which field and how to fix it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class EventStudySpec:
    """Settings of an event study (all session counts are on each listing's own calendar).

    Attributes
    ----------
    windows
        Event windows ``(start, end)`` in sessions relative to day 0 (the schedule's
        ``reaction_session``), inclusive at both ends, ``start <= end``.
    estimation_sessions
        Length of the estimation window in sessions (fixed span; masked or missing
        sessions inside it are dropped, not replaced by earlier ones).
    gap_sessions
        Sessions between the end of the estimation window and day 0: the estimation
        window is ``[-gap - estimation_sessions, -gap - 1]``. Must be at least the
        earliest window start's distance from day 0 so the two never overlap.
    min_estimation_sessions
        Fewest usable estimation sessions (after masking other catalysts' windows and
        dropping missing returns) for a row to be computed; fewer is reported per row.
    model
        ``market`` (OLS on the benchmark), ``market_adjusted`` (AR = r - r_benchmark)
        or ``constant_mean`` (AR = r - mean r).
    cross_clock
        How a benchmark on another exchange clock is matched to a listing (only used
        when the two calendars differ, e.g. BABA vs HSTECH): ``dimson`` regresses on the
        benchmark's last-closed return at lags -1, 0, +1 (beta = sum); ``last_close``
        uses the benchmark's last close at or before the listing's close; ``next_close``
        the benchmark's first close at or after it.
    placebo_draws
        Kept for older configs; no longer used: placebo p-values enumerate every distinct
        eligible session exactly (random draws from them only added Monte-Carlo noise and
        hid the floor ``1 / (1 + n_placebo_sessions)``).
    min_placebo_sessions
        Fewest distinct eligible placebo sessions for a placebo p-value.
    leadlag_horizon
        Lead-lag CARs run over ``[0, leadlag_horizon]`` of each listing's clock.
    primary_window, primary_test
        The pre-specified primary family: one test per catalyst x firm on
        ``primary_window`` (one of ``windows``; default ``(0, 1)`` when it is one of them,
        else the first window), by ``primary_test``:
        ``joint_placebo`` (the firm-level matched placebo over all its listings; a catalyst
        on one listing uses that listing's placebo) or ``placebo`` (one per catalyst x
        listing). Holm and BH run over this family only; every other p-value is
        exploratory and uncorrected.
    episodes
        Merge catalysts whose primary windows overlap on some listing into one episode
        tested once (window from the first day 0 + start to the last day 0 + end).
    ewma_lambda
        Decay of the EWMA volatility used to standardise day-0 abnormal returns
        (``0`` = off; 0.94 is RiskMetrics' daily value); must be in ``[0, 1)``.
    rank_test
        Also compute ``p_rank`` (exploratory, not size-checked; off by default).

    Raises
    ------
    EventStudySpecError
        Any inconsistent value, with the fix in the message.
    """

    windows: tuple[Window, ...] = DEFAULT_WINDOWS
    estimation_sessions: int = 120
    gap_sessions: int = 10
    min_estimation_sessions: int = 60
    model: ReturnModel = "market"
    cross_clock: CrossClock = "dimson"
    placebo_draws: int = 10_000
    min_placebo_sessions: int = 50
    leadlag_horizon: int = 1
    primary_window: Window | None = None
    primary_test: PrimaryTest = "joint_placebo"
    episodes: bool = False
    ewma_lambda: float = 0.0
    rank_test: bool = False

    def __post_init__(self) -> None:
        windows = tuple(self.windows)
        if not windows:
            raise EventStudySpecError("windows is empty; give at least one, e.g. windows = [[0, 0], [0, 1]]")
        clean: list[Window] = []
        for w in windows:
            try:
                a, b = (int(v) for v in w)
                ok = all(float(v) == int(v) for v in w)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise EventStudySpecError(
                    f"window {w!r} is not a pair of whole numbers; write it as [start, end], e.g. [-1, 1]")
            if a > b:
                raise EventStudySpecError(f"window [{a}, {b}] starts after it ends; write it as [{b}, {a}]")
            if (a, b) in clean:
                raise EventStudySpecError(f"window [{a}, {b}] is listed twice; remove the duplicate")
            clean.append((a, b))
        object.__setattr__(self, "windows", tuple(clean))
        for name in ("estimation_sessions", "gap_sessions", "min_estimation_sessions", "placebo_draws",
                     "min_placebo_sessions", "leadlag_horizon"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise EventStudySpecError(f"{name} = {value!r} must be a whole number")
        if self.model not in RETURN_MODELS:
            raise EventStudySpecError(f"model = {self.model!r}; choose one of {', '.join(RETURN_MODELS)}")
        if self.cross_clock not in CROSS_CLOCKS:
            raise EventStudySpecError(
                f"cross_clock = {self.cross_clock!r}; choose one of {', '.join(CROSS_CLOCKS)}")
        earliest = min(a for a, _ in clean)
        if self.gap_sessions < max(0, -earliest):
            raise EventStudySpecError(
                f"gap_sessions = {self.gap_sessions} lets the estimation window overlap the event window "
                f"starting at day {earliest}; set gap_sessions >= {max(0, -earliest)}")
        if self.min_estimation_sessions < 10:
            raise EventStudySpecError(
                f"min_estimation_sessions = {self.min_estimation_sessions} is too few to estimate a "
                f"residual variance; use at least 10 (default 60)")
        if self.estimation_sessions < self.min_estimation_sessions:
            raise EventStudySpecError(
                f"estimation_sessions = {self.estimation_sessions} is below min_estimation_sessions = "
                f"{self.min_estimation_sessions}; raise estimation_sessions or lower the minimum")
        if self.placebo_draws < MIN_PLACEBO_DRAWS:
            raise EventStudySpecError(
                f"placebo_draws = {self.placebo_draws} gives p-values too coarse to adjust for multiple "
                f"tests; use at least {MIN_PLACEBO_DRAWS} (default 10000)")
        if self.placebo_draws > MAX_PLACEBO_DRAWS:
            raise EventStudySpecError(
                f"placebo_draws = {self.placebo_draws:,} is too many: each row keeps its draws in memory "
                f"(~{self.placebo_draws * 8 * 8 / 1e9:,.1f} GB for a 8-session window); use at most "
                f"{MAX_PLACEBO_DRAWS:,} (default 10000)")
        if self.min_placebo_sessions < 1:
            raise EventStudySpecError(f"min_placebo_sessions = {self.min_placebo_sessions} must be >= 1")
        if self.leadlag_horizon < 0:
            raise EventStudySpecError(f"leadlag_horizon = {self.leadlag_horizon} must be >= 0")
        if self.primary_window is None:
            object.__setattr__(self, "primary_window", (0, 1) if (0, 1) in clean else clean[0])
        try:
            primary = tuple(int(v) for v in self.primary_window)  # type: ignore[union-attr]
            ok = len(primary) == 2 and all(float(v) == int(v) for v in self.primary_window)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise EventStudySpecError(f"primary_window = {self.primary_window!r} is not a pair of whole numbers; "
                                      f"write it as [start, end], e.g. [0, 1]")
        if primary not in clean:
            raise EventStudySpecError(
                f"primary_window = [{primary[0]}, {primary[1]}] is not one of windows "
                f"{[list(w) for w in clean]}; add it to windows or pick one of them")
        object.__setattr__(self, "primary_window", primary)
        if self.primary_test not in PRIMARY_TESTS:
            raise EventStudySpecError(
                f"primary_test = {self.primary_test!r}; choose one of {', '.join(PRIMARY_TESTS)}")
        for name in ("episodes", "rank_test"):
            if not isinstance(getattr(self, name), bool):
                raise EventStudySpecError(f"{name} = {getattr(self, name)!r} must be true or false")
        if isinstance(self.ewma_lambda, bool) or not isinstance(self.ewma_lambda, (int, float)) \
                or not 0.0 <= self.ewma_lambda < 1.0:
            raise EventStudySpecError(f"ewma_lambda = {self.ewma_lambda!r} must be a number in [0, 1) "
                                      f"(0 = off, 0.94 = RiskMetrics daily)")

    @property
    def span(self) -> Window:
        """Days kept around each day 0: the union of the windows and ``[0, leadlag_horizon]``.

        This is also what is masked around every catalyst in other estimation windows and
        what a placebo day 0 must keep clear of.
        """
        return (min(0, *(a for a, _ in self.windows)),
                max(self.leadlag_horizon, *(b for _, b in self.windows)))


def window_label(window: Window) -> str:
    """``(-1, 1)`` -> ``"[-1,+1]"`` (the ``window`` column of the results)."""
    a, b = window

    def fmt(v: int) -> str:
        return f"+{v}" if v > 0 else str(v)

    return f"[{fmt(a)},{fmt(b)}]"
