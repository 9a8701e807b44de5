"""The event study against an independent computation on the real prices.

For every catalyst x listing x window the reference is a statsmodels OLS of the listing's
return on a constant, the benchmark and one dummy per event-window day, fitted on the
estimation sessions plus the window (Karafiath 1988 / Salinger 1992): the dummy
coefficients are the abnormal returns, the t test of their sum is the CAR's t statistic.
Returns, the benchmark matching (``pandas.merge_asof`` on close instants) and the masks are
rebuilt here from the CSV files without the library's code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from backtests.event_study import EventStudySpec, run_event_study
from data_loaders.calendars import session_closes_utc, sessions_between
from data_loaders.csv_source import CsvFolderSource
from events.calendar_file import load_default_calendar
from events.schedule import build_schedule

pytestmark = pytest.mark.realdata
TOLERANCE = 1e-10
START, END = "2023-01-03", "2025-12-31"
LISTINGS = ("9988.HK", "BABA")
CAL = {"9988.HK": "XHKG", "BABA": "XNYS", "HSTECH": "XHKG", "KWEB": "XNYS"}


def _adj_close(prices_dir: Path, symbol: str) -> pd.Series:
    raw = pd.read_csv(prices_dir / f"{symbol}.csv", parse_dates=["date"]).set_index("date")
    return raw.loc[START:END, "adj_close"].astype(float)


def _grid(prices_dir: Path, symbol: str) -> tuple[pd.Series, pd.DatetimeIndex]:
    close = _adj_close(prices_dir, symbol)
    days = sessions_between(CAL[symbol], close.index[0], close.index[-1])
    return close.reindex(days), days


def _reference_design(prices_dir: Path, listing: str, bench: str, dimson: bool) -> pd.DataFrame:
    close, days = _grid(prices_dir, listing)
    frame = pd.DataFrame({"r": close.pct_change(fill_method=None)}, index=days)
    bclose, bdays = _grid(prices_dir, bench)
    if CAL[bench] == CAL[listing]:
        frame["x0"] = bclose.pct_change(fill_method=None).reindex(days)
    else:  # the benchmark's last close at or before the listing's close
        left = pd.DataFrame({"t": session_closes_utc(CAL[listing], days)}, index=days)
        right = pd.DataFrame({"t": session_closes_utc(CAL[bench], bdays), "level": bclose.to_numpy()})
        level = pd.merge_asof(left, right, on="t", direction="backward")["level"].to_numpy()
        frame["x0"] = pd.Series(level, index=days).pct_change(fill_method=None)
    if dimson:
        frame["xlag"], frame["xlead"] = frame["x0"].shift(1), frame["x0"].shift(-1)
    return frame


def _reference_row(frame: pd.DataFrame, day0: pd.Timestamp, other_day0s: list[pd.Timestamp],
                   window: tuple[int, int], spec: EventStudySpec, regressors: list[str]) -> dict[str, float]:
    pos = frame.index.get_loc(day0)
    masked: set[int] = set()
    for d in other_day0s:
        p = frame.index.get_loc(d)
        masked |= set(range(p + spec.span[0], p + spec.span[1] + 1))
    est = [p for p in range(pos - spec.gap_sessions - spec.estimation_sessions, pos - spec.gap_sessions)
           if p >= 0 and p not in masked]
    cols = ["r", *regressors]
    usable = frame[cols].notna().all(axis=1).to_numpy()
    est = [p for p in est if usable[p]]
    event = list(range(pos + window[0], pos + window[1] + 1))
    rows = frame.iloc[est + event][cols]
    X = pd.DataFrame({"const": 1.0}, index=rows.index)
    for c in regressors:
        X[c] = rows[c]
    for k, p in enumerate(event):
        X[f"d{k}"] = 0.0
        X.iloc[len(est) + k, X.columns.get_loc(f"d{k}")] = 1.0
    res = sm.OLS(rows["r"].to_numpy(), X).fit()
    dummies = [f"d{k}" for k in range(len(event))]
    test = res.t_test(np.isin(X.columns, dummies).astype(float))
    out = {"car": float(res.params[dummies].sum()), "t_stat": float(np.squeeze(test.tvalue)),
           "p_t": float(np.squeeze(test.pvalue)), "sigma": float(np.sqrt(res.scale)),
           "alpha": float(res.params["const"]), "n_est": len(est), "df": float(res.df_resid)}
    if regressors:
        out["beta"] = float(res.params[regressors].sum())
    if window[0] <= 0 <= window[1]:
        out["ar_day0"] = float(res.params[f"d{-window[0]}"])
    return out


@pytest.fixture(scope="module")
def real_inputs(prices_dir: Path):
    src = CsvFolderSource(prices_dir)
    bars = {s: src.daily_bars(s, START, END, "adjusted") for s in (*LISTINGS, "HSTECH", "KWEB")}
    schedule = build_schedule(load_default_calendar().catalysts, LISTINGS)
    return bars, schedule


@pytest.mark.parametrize("bench_us, dimson", [("KWEB", False), ("HSTECH", True)])
def test_market_model_matches_statsmodels_dummy_regression(prices_dir: Path, real_inputs, bench_us: str,
                                                           dimson: bool) -> None:
    bars, schedule = real_inputs
    spec = EventStudySpec(placebo_draws=1000)
    benches = {"9988.HK": "HSTECH", "BABA": bench_us}
    result = run_event_study({s: bars[s] for s in LISTINGS}, {s: bars[b] for s, b in benches.items()},
                             schedule, spec, seed=0)
    ok = result.table[result.table["problem"] == ""]
    assert len(ok) == len(result.table) == 10 * 2 * 5
    worst = 0.0
    for listing in LISTINGS:
        uses_dimson = dimson and listing == "BABA"
        frame = _reference_design(prices_dir, listing, benches[listing], uses_dimson)
        regressors = ["xlag", "x0", "xlead"] if uses_dimson else ["x0"]
        day0s = {r.catalyst_id: pd.Timestamp(r.reaction_session) for r in schedule.for_listing(listing)}
        for row in ok[ok["listing"] == listing].itertuples(index=False):
            others = [d for c, d in day0s.items() if c != row.catalyst_id]
            ref = _reference_row(frame, day0s[row.catalyst_id], others, (row.window_start, row.window_end),
                                 spec, regressors)
            for key, value in ref.items():
                diff = abs(getattr(row, key) - value)
                worst = max(worst, diff)
                assert diff <= TOLERANCE, (row.catalyst_id, listing, row.window, key, getattr(row, key), value)
    print(f"\nstatsmodels cross-check ({bench_us} for BABA{', Dimson' if dimson else ''}): max abs diff {worst:.2e}")


@pytest.mark.parametrize("model", ["constant_mean", "market_adjusted"])
def test_other_models_match_numpy(prices_dir: Path, real_inputs, model: str) -> None:
    bars, schedule = real_inputs
    spec = EventStudySpec(placebo_draws=1000, model=model, windows=((0, 0), (-1, 1)))
    result = run_event_study({"9988.HK": bars["9988.HK"]}, {"9988.HK": bars["HSTECH"]},
                             schedule.to_frame().query("listing == '9988.HK'"), spec)
    assert len(result.table) == 10 * 2 and (result.table["problem"] == "").all()
    frame = _reference_design(prices_dir, "9988.HK", "HSTECH", False)
    if model == "market_adjusted":
        frame["r"] = frame["r"] - frame["x0"]
    day0s = {r.catalyst_id: pd.Timestamp(r.reaction_session) for r in schedule.for_listing("9988.HK")}
    for row in result.table.itertuples(index=False):
        others = [d for c, d in day0s.items() if c != row.catalyst_id]
        regs = [] if model == "constant_mean" else ["x0"]
        ref = _reference_row(frame, day0s[row.catalyst_id], others, (row.window_start, row.window_end), spec, regs)
        if model == "constant_mean":
            assert abs(row.car - ref["car"]) <= TOLERANCE and abs(row.t_stat - ref["t_stat"]) <= TOLERANCE
            assert abs(row.alpha - ref["alpha"]) <= TOLERANCE
        else:
            # AR = r - x with nothing estimated: CAR is the plain sum, se = sigma sqrt(L), sigma^2 = mean e^2
            pos = frame.index.get_loc(day0s[row.catalyst_id])
            car = frame["r"].iloc[pos + row.window_start: pos + row.window_end + 1].sum()
            assert abs(row.car - car) <= TOLERANCE
            assert np.isnan(row.alpha) and np.isnan(row.beta)
            assert abs(row.car_se - row.sigma * np.sqrt(row.n_window)) <= TOLERANCE
