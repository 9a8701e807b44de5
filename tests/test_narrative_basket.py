"""NarrativeBasket by hand: each listing enters at its own first-trade point (Lunar New Year),
board lots per listing, weights, hedge; refusals; narratives in calendar files.

Sessions (2025)::

    9988.HK  idx 0..10: 01-20 01-21 01-22 01-23 01-24 01-27 01-28 | 02-03 02-04 02-05 02-06
    BABA     idx 0..8:        01-21 01-22 01-23 01-24 01-27 01-28   01-29 01-30 01-31

Both open at ``100 + idx`` and close half a unit higher (HKD for 9988.HK, USD for BABA;
USDHKD 7.8). A catalyst published 2025-01-29 00:30 Beijing time (= 01-28 11:30 ET, Hong
Kong shut for the holiday) first trades BABA at the 01-29 open (idx 6) and 9988.HK at the
02-03 open (idx 7).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from backtests.engine import run_backtest
from cli_runner import run_cli
from events.calendar_file import CalendarFileError, loads_calendar
from events.catalyst import Catalyst
from events.schedule import build_schedule
from strategies.narrative_basket import NarrativeBasket, NarrativeBasketParams
from strategies.registry import build_params, resolve
from test_strategies_by_hand import CASH, FREE, FX, HK, IDX, US, bars, flat
from test_strategy_configs import _config

T = pd.Timestamp
QWEN = Catalyst(id="qwen", headline="model release", published_at=T("2025-01-29 00:30", tz="Asia/Shanghai"),
                precision="minute", kind="product", expected_sign=1, listings=(HK, US))


def _run(**params):
    cfg = build_params("narrative_basket", {"hold_sessions": 2, "notional_per_catalyst_base": 200_000} | params)
    resolved = resolve("narrative_basket", cfg)
    listings = {HK: bars(HK, "2025-01-20", [(100 + i, 100.5 + i) for i in range(11)]),
                US: bars(US, "2025-01-21", [(100 + i, 100.5 + i) for i in range(9)])}
    return run_backtest(strategy=resolved.strategy, strategy_config=resolved.config, bars=listings,
                        schedule=build_schedule([QWEN]), benchmark=bars(IDX, "2025-01-20", flat(15, 2000.0)),
                        fx=FX, portfolio=CASH, costs=FREE, hedge=resolved.hedge)


def test_each_listing_enters_at_its_own_first_trade_point() -> None:
    trades = _run().trades.set_index("listing")
    us, hk = trades.loc[US], trades.loc[HK]
    # BABA: 01-29 open (106); 100,000 HKD / (105.5 USD x 7.8) = 121.5 -> 121 ADS (lot 1)
    assert (us.entry_session, us.entry_price, us.quantity) == (T("2025-01-29"), 106.0, 121)
    # 9988.HK waits for the market to reopen: 02-03 open (107); 100,000 / (106.5 x 100) -> 9 lots of 100
    assert (hk.entry_session, hk.entry_price, hk.quantity) == (T("2025-02-03"), 107.0, 900)
    # each held 2 sessions of its own calendar
    assert (us.exit_session, us.exit_price, hk.exit_session, hk.exit_price) == (
        T("2025-01-31"), 108.0, T("2025-02-05"), 109.0)
    assert set(trades["catalyst_id"]) == {"qwen"} and (trades["direction"] == 1).all()


def test_weights_split_the_notional_and_short_sells() -> None:
    trades = _run(weights={HK: 3, US: 1}, direction="short").trades.set_index("listing")
    # 150,000 / 10,650 -> 14 lots; 50,000 / 822.9 -> 60 ADS
    assert trades.loc[HK, "quantity"] == 1400 and trades.loc[US, "quantity"] == 60
    assert (trades["direction"] == -1).all()


def test_a_listing_without_weight_is_not_traded_and_noted() -> None:
    result = _run(weights={HK: 1})
    assert list(result.trades["listing"]) == [HK]
    assert any("no weight for BABA" in n for n in result.notes)


def test_hedge_pairs_each_position_with_the_benchmark() -> None:
    result = _run(hedge=True, beta_window_sessions=5, min_beta_sessions=3)
    hedges = result.trades[result.trades["role"] == "hedge"]
    # 9988.HK's position is hedged at the same 02-03 open; BABA's (01-29 .. 01-31) opens and
    # closes while Hong Kong is shut, so HSTECH never opens during it: no hedge, and a note says so
    assert len(hedges) == 1 and hedges.iloc[0]["listing"] == IDX and hedges.iloc[0]["direction"] == -1
    assert hedges.iloc[0]["entry_session"] == T("2025-02-03")
    assert any("hedge:qwen@BABA: trade opened and closed before HSTECH opened" in n for n in result.notes)


@pytest.mark.parametrize(("params", "message"), [
    ({"weights": {HK: -1}}, "weights: 9988.HK = -1 must be a number > 0"),
    ({"catalysts": "qwen"}, "catalysts must be a list of catalyst ids"),
    ({"hedge": "yes"}, "hedge must be true or false"),
    ({"notional_per_catalyst_base": 0}, "notional_per_catalyst_base must be a number > 0"),
])
def test_bad_parameters_are_refused(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        NarrativeBasketParams(**params)


@pytest.mark.parametrize(("params", "events", "expected"), [
    ('catalysts = ["qwen25maxx"]', "", "catalysts: 'qwen25maxx' is not in this run — did you mean 'qwen25max'?"),
    ('[strategy.params.weights]\n"0700.HK" = 1', "", "weights: '0700.HK' is not in this run"),
    ("hold_sessions = 3", 'narrative = "china_tech"', "no narrative 'china_tech'"),
    ("notional_per_catalyst_base = 10000", "", "the basket share = 5,000 HKD cannot buy one board lot of 9988.HK"),
])
def test_unknown_names_in_a_config_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture, params: str,
                                               events: str, expected: str) -> None:
    path = _config(tmp_path, params, name="narrative_basket", extra=f"[events]\n{events}")
    assert run_cli(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert expected in err, err


def test_the_shipped_narrative_and_its_validation() -> None:
    from events.calendar_file import load_default_calendar

    cal = load_default_calendar()
    (narrative,) = cal.narratives
    assert narrative.id == "china_tech_rerating_2025" and narrative.basket == "@china_internet"
    assert narrative.catalysts == ("deepseek_r1", "deepseek_selloff", "qwen25max", "arena_rank")
    entry = """
[[catalyst]]
id = "a"
headline = "x"
published_at = 2025-02-24
tz = "Asia/Shanghai"
precision = "day"
kind = "capex"
listings = ["9988.HK"]
[catalyst.source]
article = "004.txt"
"""
    bad = entry + """
[[narrative]]
id = "story"
catalysts = ["b"]
basket = "@china_internt"
colour = "red"
"""
    with pytest.raises(CalendarFileError) as info:
        loads_calendar(bad, origin="cal.toml")
    text = str(info.value)
    assert "4 problem(s)" in text or "3 problem(s)" in text
    assert "cal.toml:13: narrative #1 'story': catalysts = 'b': no [[catalyst]] with this id in the file" in text
    assert "basket = '@china_internt'" in text and "@china_internet" in text
    assert "colour = 'red': unknown key" in text
    ok = loads_calendar(entry + '\n[[narrative]]\nid = "s"\ncatalysts = ["a"]\nbasket = "@alibaba"\n')
    assert ok.narratives[0].catalysts == ("a",)
    with pytest.raises(CalendarFileError, match="unknown top-level key 'narratives'.*did you mean 'narrative'"):
        loads_calendar(entry + '\n[[narratives]]\nid = "s"\n')
