"""No look-ahead, for every strategy of the library: fills up to an instant t are identical
when every price struck after t — the traded listings' and the benchmark's — is replaced by
noise. The strategies read closes of both (fade, lead–lag, hedge beta), so each is run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests.engine import PortfolioSpec, run_backtest
from bars_factory import constant_fx
from data_loaders.calendars import session_opens_utc, sessions_between
from data_loaders.markets import get_listing
from data_loaders.schema import DailyBars
from data_loaders.validation import normalise_bars
from events.catalyst import Catalyst
from events.schedule import build_schedule
from strategies.registry import build_params, resolve

START, END = "2024-10-02", "2025-03-31"
T = pd.Timestamp


def _walk(symbol: str, open_: float, seed: int, vol: float = 0.03) -> DailyBars:
    """A seeded random walk on the symbol's real sessions (moves big enough to trip fades and stops)."""
    listing = get_listing(symbol)
    days = sessions_between(listing.market.calendar_code, T(START), T(END))
    rng = np.random.default_rng(seed)
    closes = open_ * np.exp(np.cumsum(rng.normal(0, vol, len(days))))
    opens = np.concatenate([[open_], closes[:-1] * np.exp(rng.normal(0, vol / 2, len(days) - 1))])
    frame = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "open": opens, "close": closes,
                          "high": np.maximum(opens, closes) * 1.01, "low": np.minimum(opens, closes) * 0.99,
                          "adj_close": closes, "volume": 1e6})
    return normalise_bars(frame, listing=listing, adjustment="raw", source="test", origin=f"walk:{symbol}")


def _catalysts() -> list[Catalyst]:
    out = []
    for i, day in enumerate(pd.bdate_range("2025-01-08", "2025-03-14", freq="7B")):
        out.append(Catalyst(id=f"c{i}", headline="test", precision="hour", listings=("9988.HK", "BABA"),
                            kind="earnings" if i % 3 == 0 else "product", scheduled=i % 3 == 0,
                            expected_sign=(1, -1, None)[i % 3] if i % 3 else 1,
                            published_at=T(day).tz_localize("Asia/Hong_Kong") + pd.Timedelta(hours=2 + 5 * (i % 4))))
    return out


SCHEDULE = build_schedule(_catalysts(), fill_policy="next_open")
BARS = {"9988.HK": _walk("9988.HK", 90.0, 1), "BABA": _walk("BABA", 92.0, 2)}
BENCH = _walk("HSTECH", 4000.0, 3, vol=0.02)
FX = constant_fx("2024-09-01", END)

CASES = {
    "post_event_drift": ("post_event_drift", {"hold_sessions": 4, "direction": "expected",
                                              "trailing_stop_pct": 0.03, "stop_loss_pct": 0.04}),
    "pre_event_run_up": ("pre_event_run_up", {"enter_sessions_before": 2}),
    "event_fade": ("event_fade", {"threshold": 0.01, "hold_sessions": 2}),
    "cross_listing_lead_lag": ("cross_listing_lead_lag", {"min_gap": 0.001, "hold_sessions": 2}),
    "benchmark_hedged": ("benchmark_hedged", {"strategy": "post_event_drift", "min_beta_sessions": 10,
                                              "params": {"hold_sessions": 3, "direction": "short"}}),
    "buy_and_hold": ("buy_and_hold", {"instrument": "benchmark"}),
}


def _noise_after(bars: DailyBars, t: pd.Timestamp, rng: np.random.Generator) -> DailyBars:
    frame = bars.frame.copy()
    opens_utc = session_opens_utc(get_listing(bars.symbol).market.calendar_code, frame.index)
    for i, session in enumerate(frame.index):
        if frame["close_utc"].iloc[i] <= t:
            continue
        o = frame["open"].iloc[i] if opens_utc[i] <= t else float(rng.uniform(0.5, 1.5) * frame["open"].iloc[i])
        c = float(rng.uniform(0.5, 1.5) * frame["close"].iloc[i])
        frame.loc[session, ["open", "high", "low", "close"]] = [o, max(o, c) * 1.01, min(o, c) * 0.99, c]
    return DailyBars(symbol=bars.symbol, currency=bars.currency, adjustment=bars.adjustment, source=bars.source,
                     frame=frame, issues=bars.issues)


def _fills(case: str, bars: dict[str, DailyBars], bench: DailyBars) -> pd.DataFrame:
    name, table = CASES[case]
    resolved = resolve(name, build_params(name, table))
    result = run_backtest(strategy=resolved.strategy, strategy_config=resolved.config, bars=bars,
                          schedule=SCHEDULE, benchmark=bench, fx=FX, hedge=resolved.hedge,
                          portfolio=PortfolioSpec(initial_cash_base=2_000_000))
    return result.fills


KEYS = ["listing", "side", "quantity", "session", "point", "instant_utc", "price"]


@pytest.mark.parametrize("case", list(CASES))
def test_each_strategy_trades_on_the_walk(case: str) -> None:
    assert len(_fills(case, BARS, BENCH)) > 0, "the property below would be vacuous"


@pytest.mark.parametrize("case", list(CASES))
@settings(max_examples=6, deadline=None)
@given(day=st.integers(0, 9), minutes=st.integers(0, 24 * 60), seed=st.integers(0, 2**32 - 1))
def test_fills_before_t_ignore_prices_after_t(case: str, day: int, minutes: int, seed: int) -> None:
    t = T("2025-01-08", tz="UTC") + pd.Timedelta(days=7 * day, minutes=minutes)
    rng = np.random.default_rng(seed)
    noisy = {sym: _noise_after(b, t, rng) for sym, b in BARS.items()}
    clean = _fills(case, BARS, BENCH)
    dirty = _fills(case, noisy, _noise_after(BENCH, t, rng))
    before = lambda f: f[f["instant_utc"] <= t][KEYS].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(before(clean), before(dirty))
