"""akshare source: recorded frames through the Fetcher seam, no network."""

from __future__ import annotations

import datetime as dt
import inspect
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from data_loaders.akshare_source import (
    AkshareCall,
    AkshareSource,
    FetchTimeout,
    RetryPolicy,
    akshare_routes,
)
from data_loaders.errors import DataValidationError, SourceUnavailableError, UnknownSymbolError
from data_loaders.markets import HK, Listing, get_listing

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "akshare"

# What each akshare function returns (read from the installed akshare 1.19 source):
# the date column's Python type and the integer columns; everything else is float64.
_DATE_KIND = {
    "stock_hk_hist": ("日期", "date"),            # .dt.date -> datetime.date objects
    "stock_us_hist": ("日期", "str"),             # left as the API's strings
    "stock_hk_daily": ("date", "date"),
    "stock_us_daily": ("date", "datetime64"),     # index reset from pd.to_datetime
    "stock_hk_index_daily_sina": ("date", "date"),
    "forex_hist_em": ("日期", "date"),
}
_INT_COLUMNS = {"stock_hk_hist": ("成交量",), "stock_us_hist": ("成交量",)}
_STR_COLUMNS = {"forex_hist_em": ("代码", "名称")}


def load_recorded(name: str, function: str | None = None) -> pd.DataFrame:
    """A recorded frame with akshare's dtypes restored (``name`` = fixture file stem)."""
    function = function or name
    frame = pd.read_csv(FIXTURES / f"{name}.csv", dtype=str)
    date_col, kind = _DATE_KIND[function]
    for col in frame.columns:
        if col == date_col:
            parsed = pd.to_datetime(frame[col])
            frame[col] = {"date": parsed.dt.date.astype(object), "str": frame[col],
                          "datetime64": parsed}[kind]
        elif col in _STR_COLUMNS.get(function, ()):
            continue
        elif col in _INT_COLUMNS.get(function, ()):
            frame[col] = pd.to_numeric(frame[col]).astype("int64")
        else:
            frame[col] = pd.to_numeric(frame[col]).astype("float64")
    return frame


Answer = pd.DataFrame | BaseException


class RecordedFetcher:
    """Answers calls from recorded frames; a list of answers is consumed one per call."""

    def __init__(self, answers: Mapping[str, Answer | list[Answer]]) -> None:
        self.answers = {k: list(v) if isinstance(v, list) else v for k, v in answers.items()}
        self.calls: list[AkshareCall] = []

    def fetch(self, call: AkshareCall) -> pd.DataFrame:
        self.calls.append(call)
        answer = self.answers[call.function]
        if isinstance(answer, list):
            answer = answer.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer.copy()


def make_source(fetcher: RecordedFetcher, *, attempts: int = 3, now: str = "2026-01-01 00:00") -> tuple[
        AkshareSource, list[float]]:
    slept: list[float] = []
    source = AkshareSource(fetcher=fetcher, retry=RetryPolicy(attempts=attempts, backoff_s=1.0, timeout_s=5.0),
                           sleep=slept.append, clock=lambda: pd.Timestamp(now, tz="UTC"))
    return source, slept


# -- recorded fixtures really have akshare's shape ------------------------------------

def test_recorded_frames_have_akshare_column_names_and_dtypes():
    hist = load_recorded("stock_hk_hist")
    assert list(hist.columns) == ["日期", "开盘", "收盘", "最高", "最低", "成交量", "成交额", "振幅",
                                  "涨跌幅", "涨跌额", "换手率"]
    assert isinstance(hist["日期"].iloc[0], dt.date)
    assert hist["成交量"].dtype == np.int64 and hist["收盘"].dtype == np.float64
    assert isinstance(load_recorded("stock_us_hist")["日期"].iloc[0], str)
    assert pd.api.types.is_datetime64_dtype(load_recorded("stock_us_daily")["date"])


# -- symbol mapping ---------------------------------------------------------------------

@pytest.mark.parametrize("symbol, expected", [
    ("9988.HK", [("stock_hk_hist", "09988"), ("stock_hk_daily", "09988")]),
    ("0700.HK", [("stock_hk_hist", "00700"), ("stock_hk_daily", "00700")]),
    ("BABA", [("stock_us_hist", "106.BABA"), ("stock_us_daily", "BABA")]),
    ("AAPL", [("stock_us_hist", "105.AAPL"), ("stock_us_daily", "AAPL")]),
    ("HSTECH", [("stock_hk_index_daily_sina", "HSTECH")]),
    ("IXIC", [("index_us_stock_sina", ".IXIC")]),
    ("USDHKD", [("forex_hist_em", "USDHKD")]),
])
def test_symbol_mapping(symbol, expected):
    routes = akshare_routes(get_listing(symbol))
    assert [(r.function, r.symbol) for r in routes] == expected


def test_akshare_importable_and_mapped_functions_exist():
    """Catches API drift: every mapped function exists and its source names our columns."""
    akshare = pytest.importorskip("akshare")
    for symbol in ("9988.HK", "BABA", "HSTECH", "IXIC", "USDHKD"):
        for route in akshare_routes(get_listing(symbol)):
            fn = getattr(akshare, route.function, None)
            assert fn is not None, f"akshare.{route.function} is gone"
            params = inspect.signature(fn).parameters
            assert "symbol" in params
            assert ("adjust" in params) == route.takes_adjust, route.function
            text = inspect.getsource(fn)
            # Sina's decoded rows carry "volume" as a JavaScript key, so only check the rest.
            missing = [c for c, ours in route.columns.items() if ours != "volume" and f'"{c}"' not in text]
            assert not missing, f"akshare.{route.function} no longer mentions {missing}"


# -- normalisation ------------------------------------------------------------------------

def test_hk_hist_chinese_headers_and_date_objects_normalise():
    fetcher = RecordedFetcher({"stock_hk_hist": load_recorded("stock_hk_hist")})
    source, _ = make_source(fetcher)
    bars = source.daily_bars("9988.HK", "2025-02-10", "2025-02-14")
    assert fetcher.calls[0].kwargs == (("symbol", "09988"), ("period", "daily"), ("start_date", "20250210"),
                                       ("end_date", "20250214"), ("adjust", ""))
    assert len(bars) == 5 and bars.issues == ()
    assert bars.adjustment == "raw" and bars.currency == "HKD"
    assert bars.source == "akshare:stock_hk_hist(symbol='09988', adjust='')"
    row = bars.frame.loc["2025-02-12"]
    assert (row["open"], row["high"], row["low"], row["close"], row["volume"]) == (103.0, 109.4, 102.8, 108.7,
                                                                                   98765400.0)
    assert row["close_utc"] == pd.Timestamp("2025-02-12 08:00", tz="UTC")


def test_us_hist_string_dates_normalise_with_us_close_time():
    source, _ = make_source(RecordedFetcher({"stock_us_hist": load_recorded("stock_us_hist")}))
    bars = source.daily_bars("BABA")
    assert bars.currency == "USD" and bars.issues == ()
    assert bars.frame.loc["2025-02-11", "close"] == 109.4
    assert bars.frame.loc["2025-02-11", "close_utc"] == pd.Timestamp("2025-02-11 21:00", tz="UTC")


def test_sina_fallback_english_headers_match_eastmoney():
    east, _ = make_source(RecordedFetcher({"stock_hk_hist": load_recorded("stock_hk_hist")}))
    sina, _ = make_source(RecordedFetcher({"stock_hk_hist": TypeError("'NoneType' object is not subscriptable"),
                                           "stock_hk_daily": load_recorded("stock_hk_daily")}))
    a, b = east.daily_bars("9988.HK"), sina.daily_bars("9988.HK")
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert b.source.startswith("akshare:stock_hk_daily")


def test_us_daily_datetime_dates_and_hk_index_and_fx():
    us, _ = make_source(RecordedFetcher({"stock_us_hist": requests.exceptions.HTTPError("502"),
                                         "stock_us_daily": load_recorded("stock_us_daily")}), attempts=1)
    assert us.daily_bars("BABA").frame["close"].iloc[-1] == 117.8
    idx, _ = make_source(RecordedFetcher({"stock_hk_index_daily_sina": load_recorded("stock_hk_index_daily_sina")}))
    assert idx.daily_bars("HSTECH").frame.loc["2025-02-12", "close"] == 5112.4
    fx, _ = make_source(RecordedFetcher({"forex_hist_em": load_recorded("forex_hist_em")}))
    rate = fx.daily_bars("USDHKD")
    assert rate.frame.loc["2025-02-13", "close"] == 7.7876
    assert rate.frame["volume"].isna().all()
    assert [i.kind for i in rate.issues] == ["no_calendar"]


def test_adjusted_requests_qfq_and_keeps_its_prices():
    fetcher = RecordedFetcher({"stock_hk_hist": load_recorded("stock_hk_hist_qfq", "stock_hk_hist")})
    source, _ = make_source(fetcher)
    bars = source.daily_bars("9988.HK", adjustment="adjusted")
    assert dict(fetcher.calls[0].kwargs)["adjust"] == "qfq"
    assert bars.adjustment == "adjusted" and "adjust='qfq'" in bars.source
    assert bars.frame.loc["2025-02-12", "close"] == 106.78


def test_index_has_no_adjust_argument_and_same_prices_either_way():
    fetcher = RecordedFetcher({"stock_hk_index_daily_sina": load_recorded("stock_hk_index_daily_sina")})
    source, _ = make_source(fetcher)
    raw, adj = source.daily_bars("HSTECH"), source.daily_bars("HSTECH", adjustment="adjusted")
    assert all("adjust" not in dict(c.kwargs) for c in fetcher.calls)
    assert adj.adjustment == "adjusted"
    pd.testing.assert_frame_equal(raw.frame, adj.frame)


def test_gap_in_upstream_rows_is_reported_not_filled():
    frame = load_recorded("stock_hk_hist").drop(index=2)  # 2025-02-12 missing
    source, _ = make_source(RecordedFetcher({"stock_hk_hist": frame}))
    bars = source.daily_bars("9988.HK")
    assert len(bars) == 4
    assert [(i.kind, i.sessions) for i in bars.issues] == [("missing_sessions", ("2025-02-12",))]


def test_bad_upstream_row_raises_naming_function_and_row():
    frame = load_recorded("stock_hk_hist")
    frame.loc[1, "最高"] = 90.0  # below the low 100.4
    source, _ = make_source(RecordedFetcher({"stock_hk_hist": frame}))
    with pytest.raises(DataValidationError) as err:
        source.daily_bars("9988.HK")
    assert err.value.origin == "akshare:9988.HK (stock_hk_hist)"
    assert "stock_hk_hist row 1" in err.value.problems[0] and "90.0" in err.value.problems[0]


def test_session_not_closed_at_fetch_time_is_dropped_and_reported():
    source, _ = make_source(RecordedFetcher({"stock_hk_hist": load_recorded("stock_hk_hist")}),
                            now="2025-02-14 05:00")  # HK closes 08:00 UTC
    bars = source.daily_bars("9988.HK")
    assert bars.sessions[-1] == pd.Timestamp("2025-02-13")
    assert [(i.kind, i.sessions) for i in bars.issues] == [("incomplete_session_dropped", ("2025-02-14",))]


# -- failures, retries, timeouts ----------------------------------------------------------

def test_transient_connection_error_is_retried_with_backoff():
    fetcher = RecordedFetcher({"stock_hk_hist": [requests.exceptions.ConnectionError("reset"),
                                                 requests.exceptions.Timeout("read timed out"),
                                                 load_recorded("stock_hk_hist")]})
    source, slept = make_source(fetcher)
    assert len(source.daily_bars("9988.HK")) == 5
    assert slept == [1.0, 2.0]
    assert len(fetcher.calls) == 3


def test_network_failure_names_symbol_function_and_fix():
    down = requests.exceptions.ConnectionError("Max retries exceeded with url: /api/qt/stock/kline/get")
    fetcher = RecordedFetcher({"stock_hk_hist": down, "stock_hk_daily": down})
    source, slept = make_source(fetcher, attempts=3)
    with pytest.raises(SourceUnavailableError) as err:
        source.daily_bars("9988.HK")
    msg = str(err.value)
    assert msg.startswith("akshare could not fetch 9988.HK (stock_hk_hist): ConnectionError: Max retries")
    assert "after 3 attempts" in msg and "fallback stock_hk_daily: ConnectionError" in msg
    assert msg.endswith("Check the network, or use --data-dir DIR with CSV files / --source synthetic")
    assert [c.function for c in fetcher.calls] == ["stock_hk_hist"] * 3 + ["stock_hk_daily"] * 3
    assert slept == [1.0, 2.0, 1.0, 2.0]


def test_parser_error_is_not_retried():
    fetcher = RecordedFetcher({"stock_hk_index_daily_sina": KeyError("data")})
    source, slept = make_source(fetcher)
    with pytest.raises(SourceUnavailableError, match=r"HSTECH \(stock_hk_index_daily_sina\): unexpected answer"):
        source.daily_bars("HSTECH")
    assert len(fetcher.calls) == 1 and slept == []


def test_empty_answer_and_changed_columns_are_reported():
    empty, _ = make_source(RecordedFetcher({"forex_hist_em": pd.DataFrame()}))
    with pytest.raises(SourceUnavailableError, match="returned no rows"):
        empty.daily_bars("USDHKD")
    renamed = load_recorded("forex_hist_em").rename(columns={"最新价": "收盘"})
    drift, _ = make_source(RecordedFetcher({"forex_hist_em": renamed}))
    with pytest.raises(SourceUnavailableError, match=r"without \['最新价'\].*output format changed"):
        drift.daily_bars("USDHKD")


def test_hung_call_times_out():
    release = threading.Event()

    class Hanging:
        def fetch(self, call):
            release.wait(5)
            return load_recorded("stock_hk_index_daily_sina")

    source = AkshareSource(fetcher=Hanging(), retry=RetryPolicy(attempts=1, timeout_s=0.05), sleep=lambda s: None)
    try:
        with pytest.raises(SourceUnavailableError, match=FetchTimeout.__name__):
            source.daily_bars("HSTECH")
    finally:
        release.set()


def test_unknown_symbol_and_unmapped_listing():
    source, _ = make_source(RecordedFetcher({}))
    with pytest.raises(UnknownSymbolError, match="Did you mean 9988.HK"):
        source.daily_bars("9988.HKK")
    odd_index = Listing(symbol="HSCEI", market=HK, kind="index")
    with pytest.raises(SourceUnavailableError, match="akshare has no mapping for HSCEI; use --data-dir"):
        akshare_routes(odd_index)


def test_retry_policy_validation_and_delays():
    assert [RetryPolicy(backoff_s=0.5).delay_s(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
