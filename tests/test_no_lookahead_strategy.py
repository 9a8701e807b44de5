"""Property (b) of the no-look-ahead contract: a strategy's decisions up to instant t are
identical when every price after t is replaced by noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests.costs import CostBook, HKCosts, USCosts
from backtests.engine import PortfolioSpec, run_backtest
from bars_factory import constant_fx, make_bars
from data_loaders.calendars import session_opens_utc
from data_loaders.schema import DailyBars
from events.catalyst import Catalyst
from events.schedule import ScheduleRow, build_schedule
from strategies.base import CatalystStrategy

T = pd.Timestamp
START, END = "2025-01-02", "2025-03-31"


class PriceHungry(CatalystStrategy):
    """Uses every price it is allowed to see: direction from recent closes (and the
    session's open when acting at the close), size from the last known price."""

    def on_catalyst(self, event: ScheduleRow, listing: str) -> None:
        closes = self.closes(listing)
        signal = closes.iloc[-1] - closes.iloc[-3] if len(closes) >= 3 else 0.0
        if event.first_trade_point == "close":
            signal += (self.current_open(listing) or 0.0) - closes.iloc[-1]
        self.enter(listing, direction=1 if signal >= 0 else -1, notional_base=150_000,
                   hold_sessions=3, catalyst_id=event.catalyst_id)


def _catalysts() -> list[Catalyst]:
    out = []
    for i, day in enumerate(pd.bdate_range("2025-01-10", "2025-03-10", freq="6B")):
        out.append(Catalyst(id=f"c{i}", headline="test", precision="hour", listings=("9988.HK", "BABA"),
                            published_at=T(day).tz_localize("Asia/Hong_Kong") + pd.Timedelta(hours=3 + 5 * (i % 4))))
    return out


def _noise_after(bars: DailyBars, t: pd.Timestamp, rng: np.random.Generator) -> DailyBars:
    """Replace every price struck after ``t`` by noise (the open stays when it was before ``t``)."""
    frame = bars.frame.copy()
    opens_utc = session_opens_utc("XHKG" if bars.currency == "HKD" else "XNYS", frame.index)
    for i, (session, row) in enumerate(frame.iterrows()):
        if row["close_utc"] <= t:
            continue
        o = row["open"] if opens_utc[i] <= t else float(rng.uniform(10, 500))
        c = float(rng.uniform(10, 500))
        frame.loc[session, ["open", "high", "low", "close"]] = [o, max(o, c) * 1.01, min(o, c) * 0.99, c]
    return DailyBars(symbol=bars.symbol, currency=bars.currency, adjustment=bars.adjustment,
                     source=bars.source, frame=frame, issues=bars.issues)


def _run(bars: dict[str, DailyBars], policy: str):
    return run_backtest(strategy=PriceHungry, strategy_config=None, bars=bars,
                        schedule=build_schedule(_catalysts(), fill_policy=policy),
                        benchmark=make_bars("HSTECH", START, END, open_=4000.0),
                        fx=constant_fx("2024-12-01", END), portfolio=PortfolioSpec(),
                        costs=CostBook(by_market={"HK": HKCosts(), "US": USCosts()}))


BASE = {"9988.HK": make_bars("9988.HK", START, END, step=0.7), "BABA": make_bars("BABA", START, END, open_=90.0, step=-0.3)}
FILL_KEYS = ["listing", "side", "quantity", "session", "point", "instant_utc", "price"]


ROWS = build_schedule(_catalysts()).rows


@settings(max_examples=25, deadline=None)
@given(row=st.integers(0, len(ROWS) - 1), minutes=st.integers(min_value=0, max_value=12 * 60),
       seed=st.integers(0, 2**32 - 1), policy=st.sampled_from(["next_open", "same_close"]))
def test_decisions_before_t_ignore_prices_after_t(row: int, minutes: int, seed: int, policy: str) -> None:
    # t near a decision (a catalyst's first trade) is where look-ahead would show
    t = ROWS[row].first_trade_utc + pd.Timedelta(minutes=minutes)
    rng = np.random.default_rng(seed)
    noisy = {sym: _noise_after(b, t, rng) for sym, b in BASE.items()}
    clean_fills, noisy_fills = _run(BASE, policy).fills, _run(noisy, policy).fills
    before = lambda f: f[f["instant_utc"] <= t][FILL_KEYS].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(before(clean_fills), before(noisy_fills))
    assert len(clean_fills) > 0
