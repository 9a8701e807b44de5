"""The synthetic market: deterministic, calendar-true, valid, with its planted ground truth."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from data_loaders.calendars import sessions_between
from data_loaders.errors import SourceUnavailableError
from data_loaders.synthetic import (
    DEFAULT_PLANTED_JUMPS,
    FX_BAND,
    SYNTHETIC_SYMBOLS,
    PlantedJump,
    SyntheticMarket,
    hk_tick,
)

STOCKS_AND_INDEX = ("9988.HK", "BABA", "HSTECH", "KWEB")


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return SyntheticMarket(seed=3)


@pytest.fixture(scope="module")
def no_jumps() -> SyntheticMarket:
    return SyntheticMarket(seed=3, jumps=())


def digest(m: SyntheticMarket) -> str:
    h = hashlib.sha256()
    for symbol in SYNTHETIC_SYMBOLS:
        h.update(m.daily_bars(symbol).frame.to_csv().encode())
    return h.hexdigest()


def log_returns(m: SyntheticMarket, symbol: str) -> pd.Series:
    return np.log(m.daily_bars(symbol).frame["close"]).diff()


def test_same_seed_same_bytes_other_seed_differs(market):
    assert digest(SyntheticMarket(seed=3)) == digest(market)
    assert digest(SyntheticMarket(seed=4)) != digest(market)


def test_sessions_are_the_exchange_calendars(market):
    hk = market.daily_bars("9988.HK").sessions
    us = market.daily_bars("BABA").sessions
    assert hk[0] == pd.Timestamp("2023-01-03") and hk[-1] == pd.Timestamp("2025-12-31")
    assert hk.equals(sessions_between("XHKG", pd.Timestamp("2023-01-03"), pd.Timestamp("2025-12-31")))
    assert us.equals(sessions_between("XNYS", pd.Timestamp("2023-01-03"), pd.Timestamp("2025-12-31")))
    assert pd.Timestamp("2023-09-08") not in hk  # black-rainstorm closure
    assert market.daily_bars("HSTECH").sessions.equals(hk)


def test_labelled_synthetic_and_valid_without_issues(market):
    for symbol in STOCKS_AND_INDEX:
        bars = market.daily_bars(symbol)
        assert bars.synthetic and bars.source == "synthetic(seed=3)"
        assert bars.issues == (), symbol
    assert [i.kind for i in market.daily_bars("USDHKD").issues] == ["no_calendar"]  # FX has no exchange calendar


def test_ohlc_consistent_volumes_positive_prices_on_ticks(market):
    for symbol in STOCKS_AND_INDEX:
        f = market.daily_bars(symbol).frame
        assert (f["low"] <= f[["open", "close"]].min(axis=1)).all(), symbol
        assert (f["high"] >= f[["open", "close"]].max(axis=1)).all(), symbol
        assert (f["volume"] > 0).all() and (f["volume"] == f["volume"].round()).all(), symbol
    hk = market.daily_bars("9988.HK").frame
    prices = hk[["open", "high", "low", "close"]].to_numpy().ravel()
    steps = prices / hk_tick(prices)
    assert np.allclose(steps, np.round(steps), atol=1e-6)
    assert (hk["volume"] % 100 == 0).all()  # whole board lots
    baba = market.daily_bars("BABA").frame[["open", "high", "low", "close"]].to_numpy().ravel()
    assert np.allclose(baba * 100, np.round(baba * 100), atol=1e-6)


def test_hk_tick_table():
    assert list(hk_tick(np.array([9.99, 10.0, 19.98, 20.0, 99.95, 100.0, 250.0]))) == \
        [0.01, 0.02, 0.02, 0.05, 0.05, 0.1, 0.2]


def test_usdhkd_inside_peg_band(market):
    f = market.daily_bars("USDHKD").frame
    lo, hi = FX_BAND
    assert f["low"].min() >= lo and f["high"].max() <= hi


def test_daily_volatility_and_beta_are_realistic(market):
    r = pd.concat([log_returns(market, "9988.HK"), log_returns(market, "HSTECH")], axis=1,
                  keys=["stock", "market"]).dropna()
    assert 0.02 < r["stock"].std() < 0.035
    beta = np.polyfit(r["market"], r["stock"], 1)[0]
    assert abs(beta - market.ground_truth.betas["9988.HK"]) < 0.15


def test_default_jumps_are_the_starred_catalysts(market):
    truth = market.ground_truth
    assert [j.catalyst_id for j in truth.jumps] == ["qwen25max", "apple_report", "earnings_fy25q3", "capex_380b"]
    assert list(truth.listing_jumps("9988.HK").index.strftime("%Y-%m-%d")) == \
        ["2025-02-03", "2025-02-12", "2025-02-21", "2025-02-24"]
    assert list(truth.listing_jumps("BABA").index.strftime("%Y-%m-%d")) == \
        ["2025-01-28", "2025-02-11", "2025-02-20", "2025-02-24"]
    assert truth.jump_on("BABA", "2025-02-20") == 0.10
    assert truth.jump_on("HSTECH", "2025-02-24") == 0.0


@pytest.mark.parametrize("symbol", ["9988.HK", "BABA"])
def test_planted_jump_shows_exactly_on_each_reaction_session(market, no_jumps, symbol):
    """Same draws with and without jumps: returns differ by the jump on reaction sessions only."""
    diff = (log_returns(market, symbol) - log_returns(no_jumps, symbol)).dropna()
    planted = market.ground_truth.listing_jumps(symbol)
    for session, jump in planted.items():
        assert diff[session] == pytest.approx(jump, abs=3e-3), session
    # Elsewhere only tick rounding and the slow mean reversion of the jumped level remain.
    assert diff.drop(planted.index).abs().max() < 3e-3
    pd.testing.assert_frame_equal(market.daily_bars("HSTECH").frame, no_jumps.daily_bars("HSTECH").frame)


def test_baba_tracks_parity_with_usdhkd(market):
    baba = market.daily_bars("BABA").frame["close"]
    hk = market.daily_bars("9988.HK").frame["close"].reindex(baba.index)
    fx = market.daily_bars("USDHKD").frame["close"].reindex(baba.index)
    premium = (baba / (8 * hk / fx) - 1).dropna()
    assert abs(premium.median()) < 0.005
    assert premium.abs().quantile(0.95) < 0.06


def test_jump_sessions_must_be_calendar_sessions_and_first_reactions():
    with pytest.raises(ValueError, match="2025-01-29 is not an XHKG session"):
        SyntheticMarket(jumps=[PlantedJump(catalyst_id="x", session_hk="2025-01-29", session_us="2025-01-28",
                                           jump_log=0.05)])
    with pytest.raises(ValueError, match="reaches XHKG first on 2025-02-12, not 2025-02-13"):
        SyntheticMarket(jumps=[PlantedJump(catalyst_id="x", session_hk="2025-02-13", session_us="2025-02-11",
                                           jump_log=0.05)])


def test_slices_unknown_symbols_and_out_of_range(market):
    whole = market.daily_bars("BABA").frame
    part = market.daily_bars("BABA", "2025-02-01", "2025-02-28")
    pd.testing.assert_frame_equal(part.frame, whole.loc["2025-02-01":"2025-02-28"])
    adjusted = market.daily_bars("BABA", adjustment="adjusted")
    assert adjusted.adjustment == "adjusted"
    pd.testing.assert_frame_equal(adjusted.frame, whole)  # no dividends in the model
    with pytest.raises(SourceUnavailableError, match="only 9988.HK, BABA, HSTECH, USDHKD, KWEB, not 0700.HK"):
        market.daily_bars("0700.HK")
    with pytest.raises(SourceUnavailableError, match="covers 2023-01-03..2025-12-31"):
        market.daily_bars("BABA", "2026-02-01")


def test_default_jumps_constant_matches_ground_truth(market):
    assert market.ground_truth.jumps == DEFAULT_PLANTED_JUMPS
