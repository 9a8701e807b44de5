"""The embedded default: a seeded SYNTHETIC market with a known ground truth.

Not market data. Every :class:`DailyBars` it produces has ``synthetic=True`` and source
``"synthetic(seed=N)"``, and whatever is computed from it must say so.

The model lives on the real exchange calendars. All session closes of XHKG and XNYS are
merged into one timeline in true UTC order (the US session of date D closes after the Hong
Kong session of D). Each step of the timeline — from one close to the next, whichever market
it belongs to — draws

- a market innovation ``dm ~ N(0, sigma_m^2 / 2)`` (two steps make one day), and
- per-listing idiosyncratic innovations ``de ~ N(0, sigma_e^2 / 2)``.

Log prices are then, at a listing's session closes only:

- ``HSTECH``:  ``log H0 + M``                              (the market factor itself)
- ``9988.HK``: ``log P0 + beta * M + A``, ``A`` = cumulated idiosyncratic steps + planted jumps
- ``BABA``:    ``log(8 * 9988.HK value / USDHKD) + u``     (ADS parity, 1 ADS = 8 shares),
  ``u`` a small AR(1) parity dislocation, ``USDHKD`` taken as of the US close (the last FX
  bar stamped at or before it, as the engine samples FX)
- ``KWEB``:    ``log K0 + beta_k * M + A_k`` (a US-listed China-internet reference)
- ``USDHKD``:  a mean-reverting rate kept inside the 7.75–7.85 peg band, on weekdays.

``M`` and the idiosyncratic parts revert slowly to their start (half-life about a year),
which keeps three years of prices plausible without changing daily behaviour.

So a market move during the US session shows in BABA that day and in 9988.HK/HSTECH at the
next Hong Kong close, as in reality. A planted jump is added to ``A`` on the timeline step
that ends at the earlier of its two reaction closes, so each listing shows it exactly on its
own reaction session. It happens during the session of the listing that reacts first and
in the opening gap of the other one.

Prices sit on valid steps (HKEX spread table for 9988.HK, cents in the US, 0.01 index
points, 0.0001 for USDHKD); ``low <= open, close <= high``; volumes are positive whole
numbers (whole board lots for 9988.HK). Same seed and span, same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType, SimpleNamespace

import numpy as np
import pandas as pd

from data_loaders.calendars import session_closes_utc, sessions_between
from data_loaders.errors import SourceUnavailableError
from data_loaders.markets import get_listing
from data_loaders.registry import active_registry
from data_loaders.schema import Adjustment, DailyBars
from data_loaders.synthetic_pairs import pair_tables
from data_loaders.validation import normalise_bars, restrict_bars

DEFAULT_SEED = 3  # a path that stays in a plausible price range
SYNTHETIC_START = pd.Timestamp("2023-01-03")
SYNTHETIC_END = pd.Timestamp("2025-12-31")
SYNTHETIC_SYMBOLS: tuple[str, ...] = ("9988.HK", "BABA", "HSTECH", "USDHKD", "KWEB")

ADS_RATIO = 8
FX_BAND: tuple[float, float] = (7.75, 7.85)

# HKEX spread table (lower bound of the price band, tick), the pre-2025 schedule.
_HK_TICKS: tuple[tuple[float, float], ...] = (
    (0.0, 0.001), (0.25, 0.005), (0.5, 0.01), (10.0, 0.02), (20.0, 0.05), (100.0, 0.1),
    (200.0, 0.2), (500.0, 0.5), (1000.0, 1.0), (2000.0, 2.0), (5000.0, 5.0),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlantedJump:
    """A jump planted in the synthetic market on a catalyst's reaction sessions.

    Attributes
    ----------
    catalyst_id
        Which catalyst it stands for ("qwen25max").
    session_hk
        XHKG session on which 9988.HK first shows it.
    session_us
        XNYS session on which BABA first shows it.
    jump_log
        Size as a log return (abnormal to the market: HSTECH does not jump).
    """

    catalyst_id: str
    session_hk: pd.Timestamp
    session_us: pd.Timestamp
    jump_log: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "session_hk", pd.Timestamp(self.session_hk).normalize())
        object.__setattr__(self, "session_us", pd.Timestamp(self.session_us).normalize())


# The four starred catalysts of CATALYSTS.md with their reaction sessions (who could first
# react, from the exchange calendars). Hard-coded: this is the synthetic market's ground
# truth, independent of how the events package schedules catalysts.
DEFAULT_PLANTED_JUMPS: tuple[PlantedJump, ...] = (
    PlantedJump(catalyst_id="qwen25max", session_us=pd.Timestamp("2025-01-28"),
                session_hk=pd.Timestamp("2025-02-03"), jump_log=0.06),
    PlantedJump(catalyst_id="apple_report", session_us=pd.Timestamp("2025-02-11"),
                session_hk=pd.Timestamp("2025-02-12"), jump_log=0.07),
    PlantedJump(catalyst_id="earnings_fy25q3", session_us=pd.Timestamp("2025-02-20"),
                session_hk=pd.Timestamp("2025-02-21"), jump_log=0.10),
    PlantedJump(catalyst_id="capex_380b", session_hk=pd.Timestamp("2025-02-24"),
                session_us=pd.Timestamp("2025-02-24"), jump_log=0.05),
)


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, kw_only=True, slots=True)
class SyntheticParams:
    """Model parameters (daily figures are standard deviations of log returns).

    Attributes
    ----------
    market_sigma_daily
        Market factor (= HSTECH) daily volatility.
    betas
        Loading of each stock/ETF's log price on the market factor (BABA inherits 9988.HK's).
    idio_sigmas_daily
        Idiosyncratic daily volatility per listing.
    parity_noise_sd, parity_ar
        Stationary sd and AR(1) coefficient of BABA's log premium over 8 x 9988.HK / USDHKD.
    start_levels
        First-session close levels (HKD, USD, index points, HKD per USD).
    pre_open_share
        Share of a session's own continuous move already in its opening price.
    half_life_sessions
        Log levels (market factor, idiosyncratic parts) revert to their start with this
        half-life, which keeps three years of prices in a plausible range. The pull is about
        0.1% a day at most, small beside the daily noise, so betas are unchanged.
    """

    market_sigma_daily: float = 0.020
    betas: Mapping[str, float] = field(default_factory=lambda: _frozen({"9988.HK": 1.2, "KWEB": 0.9}))
    idio_sigmas_daily: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"9988.HK": 0.015, "KWEB": 0.008}))
    parity_noise_sd: float = 0.004
    parity_ar: float = 0.6
    fx_mean: float = 7.81
    fx_sigma_daily: float = 0.002
    fx_ar: float = 0.98
    start_levels: Mapping[str, float] = field(default_factory=lambda: _frozen(
        {"HSTECH": 4500.0, "9988.HK": 95.0, "KWEB": 28.0, "USDHKD": 7.80}))
    pre_open_share: float = 0.3
    half_life_sessions: float = 250.0


@dataclass(frozen=True, kw_only=True)
class GroundTruth:
    """What the synthetic market was built from — the answers an event study should find.

    Attributes
    ----------
    seed
        The random seed.
    start, end
        Calendar span of the market.
    market_symbol
        The listing that *is* the market factor ("HSTECH").
    params
        All model parameters (betas, sigmas, parity noise ...).
    jumps
        The planted jumps.
    """

    seed: int
    start: pd.Timestamp
    end: pd.Timestamp
    market_symbol: str
    params: SyntheticParams
    jumps: tuple[PlantedJump, ...]

    label = "SYNTHETIC"

    @property
    def betas(self) -> Mapping[str, float]:
        """Loading on the market factor; BABA carries 9988.HK's (it is the same company)."""
        return _frozen({**self.params.betas, "BABA": self.params.betas["9988.HK"], self.market_symbol: 1.0})

    @property
    def sigmas_daily(self) -> Mapping[str, float]:
        """Idiosyncratic daily volatility (log) per listing; the market's under its own symbol."""
        return _frozen({**self.params.idio_sigmas_daily, self.market_symbol: self.params.market_sigma_daily})

    def listing_jumps(self, symbol: str) -> pd.Series:
        """Planted log jumps of ``symbol`` indexed by its reaction session (empty if none)."""
        attr = {"9988.HK": "session_hk", "BABA": "session_us"}.get(symbol)
        if attr is None:
            return pd.Series([], index=pd.DatetimeIndex([], name="session"), dtype=float, name=symbol)
        idx = pd.DatetimeIndex([getattr(j, attr) for j in self.jumps], name="session")
        return pd.Series([j.jump_log for j in self.jumps], index=idx, dtype=float, name=symbol).groupby(
            level=0).sum()

    def jump_on(self, symbol: str, session: pd.Timestamp | str) -> float:
        """Planted log jump of ``symbol`` on ``session`` (0.0 when none)."""
        return float(self.listing_jumps(symbol).get(pd.Timestamp(session), 0.0))


def mean_reverting(innovations: np.ndarray, kappa: float) -> np.ndarray:
    """x_k = (1 - kappa) x_{k-1} + innovation_k, from x_{-1} = 0."""
    out = np.empty(len(innovations))
    level = 0.0
    for k, shock in enumerate(innovations):
        level = (1.0 - kappa) * level + shock
        out[k] = level
    return out


def hk_tick(price: np.ndarray) -> np.ndarray:
    """HKEX price step for each price (pre-2025 spread table)."""
    bounds = np.array([b for b, _ in _HK_TICKS])
    ticks = np.array([t for _, t in _HK_TICKS])
    return ticks[np.searchsorted(bounds, price, side="right") - 1]


def _on_ticks(price: np.ndarray, tick: np.ndarray | float) -> np.ndarray:
    # The second round removes float noise (95.35000000000001) so CSVs show the tick.
    return np.round(np.round(price / tick) * tick, 4)


class SyntheticMarket:
    """A seeded synthetic market; a :class:`~data_loaders.schema.PriceSource`.

    Parameters
    ----------
    seed
        Random seed; the same seed, span, jumps and params give identical bytes.
    start, end
        Span of the market (default 2023-01-03 .. 2025-12-31). The draws depend on the
        span: a different span is a different market.
    jumps
        Planted jumps; ``None`` plants :data:`DEFAULT_PLANTED_JUMPS`, ``()`` plants none.
    params
        Model parameters.

    Raises
    ------
    ValueError
        A jump's sessions are not sessions of their calendars, or are not the first sessions
        of both listings after a common instant (then no news could produce them).
    """

    name = "synthetic"

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        start: pd.Timestamp | str = SYNTHETIC_START,
        end: pd.Timestamp | str = SYNTHETIC_END,
        jumps: Sequence[PlantedJump] | None = None,
        params: SyntheticParams | None = None,
    ) -> None:
        self.seed = int(seed)
        self.start = pd.Timestamp(start).normalize()
        self.end = pd.Timestamp(end).normalize()
        self.params = params or SyntheticParams()
        self.ground_truth = GroundTruth(
            seed=self.seed, start=self.start, end=self.end, market_symbol="HSTECH", params=self.params,
            jumps=tuple(DEFAULT_PLANTED_JUMPS if jumps is None else jumps),
        )
        self.source = f"synthetic(seed={self.seed})"
        self._tables = self._generate()
        self._bars: dict[tuple[str, Adjustment], DailyBars] = {}

    def daily_bars(
        self,
        symbol: str,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
        adjustment: Adjustment = "raw",
    ) -> DailyBars:
        """Synthetic bars of ``symbol`` (no dividends: ``adjusted`` equals ``raw``).

        Raises
        ------
        UnknownSymbolError
            Not a catalyst-bt symbol.
        SourceUnavailableError
            Not one of :data:`SYNTHETIC_SYMBOLS`, or [start, end] outside the market's span.
        """
        listing = get_listing(symbol)
        if symbol not in self._tables:
            pair = next(iter(active_registry().pairs_of(symbol)), None)
            if pair is None:
                raise SourceUnavailableError(
                    f"the synthetic market has only {', '.join(SYNTHETIC_SYMBOLS)}, not {symbol} (besides both "
                    f"listings of any declared cross-listed pair, e.g. JD and 9618.HK); use --data-dir DIR with "
                    f"a {symbol}.csv file or --source akshare")
            self._tables.update(pair_tables(self, pair))
        lo = pd.Timestamp(start) if start is not None else None
        hi = pd.Timestamp(end) if end is not None else None
        if (lo is not None and lo > self.end) or (hi is not None and hi < self.start):
            asked = f"{'' if lo is None else f'{lo:%Y-%m-%d}'}..{'' if hi is None else f'{hi:%Y-%m-%d}'}"
            raise SourceUnavailableError(
                f"the synthetic market (seed={self.seed}) covers {self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}, "
                f"not {symbol} {asked}; choose --start/--end inside it")
        key = (symbol, adjustment)
        if key not in self._bars:
            self._bars[key] = normalise_bars(
                self._tables[symbol], listing=listing, adjustment=adjustment, source=self.source,
                origin=f"{self.source}:{symbol}", synthetic=True,
            )
        return restrict_bars(self._bars[key], start=lo, end=hi)

    # -- generation -------------------------------------------------------------------

    def _generate(self) -> dict[str, pd.DataFrame]:
        p = self.params
        rng = np.random.default_rng(self.seed)
        hk = sessions_between("XHKG", self.start, self.end)
        us = sessions_between("XNYS", self.start, self.end)
        # Closes as naive UTC nanoseconds: one unit for every comparison below.
        hk_close = session_closes_utc("XHKG", hk).tz_convert(None).as_unit("ns")
        us_close = session_closes_utc("XNYS", us).tz_convert(None).as_unit("ns")
        timeline = pd.DataFrame({
            "close_utc": np.concatenate([hk_close.asi8, us_close.asi8]),
            "market": ["HK"] * len(hk) + ["US"] * len(us),
            "session": np.concatenate([hk.to_numpy(), us.to_numpy()]),
        }).sort_values("close_utc", kind="stable").reset_index(drop=True)
        n = len(timeline)
        k_hk = np.flatnonzero((timeline["market"] == "HK").to_numpy())
        k_us = np.flatnonzero((timeline["market"] == "US").to_numpy())

        half = np.sqrt(0.5)  # two timeline steps make one day
        dm = rng.normal(0.0, p.market_sigma_daily * half, n)
        de_baba = rng.normal(0.0, p.idio_sigmas_daily["9988.HK"] * half, n)
        de_kweb = rng.normal(0.0, p.idio_sigmas_daily["KWEB"] * half, n)
        jump = self._jump_steps(timeline, hk, us, hk_close, us_close)

        kappa = np.log(2) / (2 * p.half_life_sessions)  # per timeline step
        market = mean_reverting(dm, kappa)
        idio = mean_reverting(de_baba + jump, kappa)
        idio_kweb = mean_reverting(de_kweb, kappa)
        alibaba = p.betas["9988.HK"] * market + idio    # log value of one 9988.HK share
        kweb = p.betas["KWEB"] * market + idio_kweb
        d_market = np.diff(market, prepend=0.0)
        cont_hk = np.diff(alibaba, prepend=0.0) - jump   # each step's move without its jump
        cont_kweb = np.diff(kweb, prepend=0.0)

        fx = self._fx(rng)
        fx_close = fx["close"].to_numpy()
        # The engine samples FX as of the fill: the last FX bar stamped (23:00 UTC of its
        # label date) at or before the US close.
        fx_stamp = (pd.DatetimeIndex(fx["date"]) + pd.Timedelta(hours=23)).as_unit("ns")
        asof = np.searchsorted(fx_stamp.asi8, us_close.asi8, side="right") - 1
        log_fx = np.log(fx_close[asof])
        parity = np.zeros(len(us))
        shocks = rng.normal(0.0, p.parity_noise_sd * np.sqrt(1 - p.parity_ar ** 2), len(us))
        parity[0] = rng.normal(0.0, p.parity_noise_sd)
        for j in range(1, len(us)):
            parity[j] = p.parity_ar * parity[j - 1] + shocks[j]

        self._model = SimpleNamespace(hk=hk, us=us, k_hk=k_hk, k_us=k_us, market=market, kappa=kappa,
                                      log_fx=log_fx, n=n)
        lv = p.start_levels
        hk0 = np.log(lv["9988.HK"]) - alibaba[k_hk[0]]
        hstech0 = np.log(lv["HSTECH"]) - market[k_hk[0]]
        kweb0 = np.log(lv["KWEB"]) - kweb[k_us[0]]
        baba_offset = np.log(ADS_RATIO) + hk0 - log_fx + parity
        baba_open_offset = np.log(ADS_RATIO) + hk0 - log_fx + np.concatenate([[parity[0]], parity[:-1]])

        tables = {
            "HSTECH": self.bars_table(rng, hk, k_hk, market, d_market, hstech0, 0.0, 0.006,
                                       volume=3.0e9, tick=0.01),
            "9988.HK": self.bars_table(rng, hk, k_hk, alibaba, cont_hk, hk0, 0.0, 0.008,
                                        volume=4.0e7, tick=None, lot=100),
            "BABA": self.bars_table(rng, us, k_us, alibaba, cont_hk, baba_offset, baba_open_offset - baba_offset,
                                     0.008, volume=1.5e7, tick=0.01),
            "KWEB": self.bars_table(rng, us, k_us, kweb, cont_kweb, kweb0, 0.0, 0.006,
                                     volume=1.2e7, tick=0.01),
            "USDHKD": fx[(fx["date"] >= self.start) & (fx["date"] <= self.end)].reset_index(drop=True),
        }
        return tables

    def _jump_steps(self, timeline: pd.DataFrame, hk: pd.DatetimeIndex, us: pd.DatetimeIndex,
                    hk_close: pd.DatetimeIndex, us_close: pd.DatetimeIndex) -> np.ndarray:
        """Planted jumps per timeline step: each on the step ending at its earlier reaction close."""
        closes = timeline["close_utc"].to_numpy()
        out = np.zeros(len(timeline))
        for jmp in self.ground_truth.jumps:
            where = {}
            for code, sessions, session_close, session in (("XHKG", hk, hk_close, jmp.session_hk),
                                                           ("XNYS", us, us_close, jmp.session_us)):
                pos = sessions.get_indexer([session])[0]
                if pos < 0:
                    raise ValueError(
                        f"planted jump {jmp.catalyst_id}: {session:%Y-%m-%d} is not an {code} session "
                        f"between {self.start:%Y-%m-%d} and {self.end:%Y-%m-%d}; pick a trading day")
                where[code] = (sessions, session_close, pos)
            first_close = min(where["XHKG"][1].asi8[where["XHKG"][2]], where["XNYS"][1].asi8[where["XNYS"][2]])
            k = int(np.flatnonzero(closes == first_close)[0])
            before = closes[k - 1] if k > 0 else None
            for code, (sessions, session_close, pos) in where.items():
                first_after = int(np.flatnonzero(session_close.asi8 > before)[0]) if before is not None else 0
                if first_after != pos:
                    raise ValueError(
                        f"planted jump {jmp.catalyst_id}: news between the closes at "
                        f"{pd.Timestamp(before)} and {pd.Timestamp(first_close)} UTC reaches {code} first on "
                        f"{sessions[first_after]:%Y-%m-%d}, not {sessions[pos]:%Y-%m-%d}; give each "
                        f"listing its first session after the news")
            out[k] += jmp.jump_log
        return out

    def bars_table(
        self, rng: np.random.Generator, sessions: pd.DatetimeIndex, steps: np.ndarray, level: np.ndarray,
        cont: np.ndarray, offset: np.ndarray | float, open_shift: np.ndarray | float, range_sd: float,
        *, volume: float, tick: float | None, lot: int = 1,
    ) -> pd.DataFrame:
        """OHLCV at ``steps`` of the timeline from a cumulated log ``level``.

        The open carries every step since the previous close but the last, plus a share of
        the last step's continuous move: overnight news is in the opening gap, planted jumps
        of the last step (news during this session) are not.
        """
        p = self.params
        prev = np.where(steps > 0, level[np.maximum(steps - 1, 0)], 0.0)
        log_close = offset + level[steps]
        log_open = offset + open_shift + prev + p.pre_open_share * cont[steps] + rng.normal(0, 0.002, len(steps))
        log_open[0] = log_close[0] + rng.normal(0, 0.005)
        up = np.abs(rng.normal(0.0, range_sd, len(steps)))
        down = np.abs(rng.normal(0.0, range_sd, len(steps)))
        log_high = np.maximum(log_open, log_close) + up
        log_low = np.minimum(log_open, log_close) - down
        prices = {name: np.exp(x) for name, x in
                  (("open", log_open), ("high", log_high), ("low", log_low), ("close", log_close))}
        # Rounding to the spread table is monotone (band edges are multiples of both
        # neighbouring ticks), so low <= open, close <= high survives it.
        rounded = {name: _on_ticks(v, hk_tick(v) if tick is None else tick) for name, v in prices.items()}
        abs_ret = np.abs(np.diff(log_close, prepend=log_close[0]))
        vol = volume * np.exp(rng.normal(0.0, 0.25, len(steps))) * (1.0 + 15.0 * abs_ret)
        vol = np.maximum(np.round(vol / lot), 1) * lot
        return pd.DataFrame({"date": sessions, **rounded, "adj_close": rounded["close"], "volume": vol})

    def _fx(self, rng: np.random.Generator) -> pd.DataFrame:
        """USDHKD on weekdays from a week before the span (BABA's first close needs an as-of rate)."""
        p = self.params
        days = pd.bdate_range(self.start - pd.Timedelta(days=7), self.end)
        lo, hi = FX_BAND
        dev = np.empty(len(days))
        shocks = rng.normal(0.0, p.fx_sigma_daily, len(days))
        dev[0] = p.start_levels["USDHKD"] - p.fx_mean
        for i in range(1, len(days)):
            dev[i] = p.fx_ar * dev[i - 1] + shocks[i]
        close = np.clip(p.fx_mean + dev, lo + 0.0005, hi - 0.0005)
        opn = np.concatenate([[close[0]], close[:-1]])
        high = np.minimum(np.maximum(opn, close) + np.abs(rng.normal(0, 0.0008, len(days))), hi)
        low = np.maximum(np.minimum(opn, close) - np.abs(rng.normal(0, 0.0008, len(days))), lo)
        rounded = {k: _on_ticks(v, 0.0001) for k, v in
                   (("open", opn), ("high", high), ("low", low), ("close", close))}
        return pd.DataFrame({"date": pd.DatetimeIndex(days.to_numpy()), **rounded,
                             "adj_close": rounded["close"], "volume": np.nan})
