"""Arrays the sweep kernel derives once per process from :class:`~backtests.sweeps.inputs.SweepInputs`.

Per listing: session labels, opens, closes, their UTC instants and the FX rate to the base
currency at each (``FxRates`` semantics: the last USDHKD close at or before the instant).
Per schedule row the engine would act on: its bar, price point, sizing price, decision FX
and fill price. Per set of traded listings: the engine's mark clock. Costs of distinct
fills are cached here (the real ``CostBook``, called once per fill).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from backtests.costs import CostBook, Fill
from backtests.sweeps.inputs import SweepInputs
from backtests.sweeps.rowmetrics import utc_ns
from data_loaders.calendars import session_opens_utc
from data_loaders.markets import get_listing



@dataclass(frozen=True, kw_only=True)
class ListingData:
    symbol: str
    currency: str
    market: str
    kind: str
    lot: int
    sessions: pd.DatetimeIndex
    session_ns: np.ndarray
    open: np.ndarray
    close: np.ndarray
    open_ns: np.ndarray
    close_ns: np.ndarray
    fx_open: np.ndarray   # to base at each open instant (NaN when no rate is known yet)
    fx_close: np.ndarray  # to base at each close instant
    stamps: list[pd.Timestamp]  # the session labels as Timestamps (one conversion, not one per fill)


@dataclass(frozen=True, kw_only=True)
class Rows:
    """Schedule rows the engine would act on (listing loaded, first-trade session in the data)."""

    listing: np.ndarray     # index into KernelData.listings
    j: np.ndarray           # bar index of the first-trade session
    point: np.ndarray       # 0 open, 1 close
    catalyst: np.ndarray    # object array of ids
    kind: np.ndarray        # object array of kinds
    expected: np.ndarray    # +1 / -1 / 0 (no prior)
    ref: np.ndarray         # sizing price: previous close (open) or the session's open (close)
    fx: np.ndarray          # fx to base at the decision instant
    price: np.ndarray       # raw fill price (open or close of the bar)
    instant_ns: np.ndarray  # decision/fill instant
    reaction_j: np.ndarray  # bar of the reaction session (day 0; -1 when not a session in the data)
    reaction_close_ns: np.ndarray
    row: np.ndarray         # position in the schedule


@dataclass(frozen=True, kw_only=True)
class Clock:
    """The engine's mark clock for one set of traded listings."""

    ns: np.ndarray
    kc: dict[int, np.ndarray]     # listing -> clock position of each bar's close
    mark: dict[int, np.ndarray]   # listing -> last close at or before each clock instant (0 before)
    fx: dict[int, np.ndarray]     # listing -> fx to base at each clock instant


class KernelData:
    """Arrays derived once per process from :class:`SweepInputs`."""

    def __init__(self, inputs: SweepInputs) -> None:
        cfg = inputs.cfg
        self.base = cfg.portfolio.base_currency
        self.costs: CostBook = cfg.costs
        self.bench = inputs.bench_clock
        self.symbols = tuple(sorted(inputs.bars))
        fx_stamps = fx_close = None
        if inputs.fx is not None and len(inputs.fx):
            fx_stamps = utc_ns(inputs.fx.frame["close_utc"])
            fx_close = inputs.fx.frame["close"].to_numpy(dtype=float)
        self._fx_stamps, self._fx_close = fx_stamps, fx_close
        self.listings: list[ListingData] = []
        #: the benchmark index (traded only as a proxy: hedges, buy-and-hold of the index) sits
        #: after the listings, at ``bench_index``
        self.bench_index = len(self.symbols)
        for sym, bars in [*((s, inputs.bars[s]) for s in self.symbols), (inputs.benchmark.symbol, inputs.benchmark)]:
            lst = get_listing(sym)
            frame = bars.frame
            opens = session_opens_utc(lst.market.calendar_code, frame.index)
            open_ns, close_ns = utc_ns(opens), utc_ns(frame["close_utc"])
            self.listings.append(ListingData(
                symbol=sym, currency=lst.currency, market=lst.market.code, kind=lst.kind, lot=lst.lot_size_shares,
                sessions=pd.DatetimeIndex(frame.index), session_ns=pd.DatetimeIndex(frame.index).as_unit("ns").asi8,
                open=frame["open"].to_numpy(dtype=float), close=frame["close"].to_numpy(dtype=float),
                open_ns=open_ns, close_ns=close_ns,
                fx_open=self.fx_to_base(lst.currency, open_ns), fx_close=self.fx_to_base(lst.currency, close_ns),
                stamps=list(pd.DatetimeIndex(frame.index))))
        self.rows = self._rows(inputs)
        self._clocks: dict[tuple[int, ...], Clock] = {}
        self._cost_cache: dict[tuple[Any, ...], Decimal] = {}
        self._borrow_cache: dict[tuple[Any, ...], Decimal] = {}
        #: float cost of a distinct fill, by its key bytes (``backtests.sweeps.legs``)
        self.fill_costs: dict[bytes, float] = {}
        #: hedge betas by (listing, bar, window, least sessions) and the aligned returns they
        #: come from by (listing, bar) (``backtests.sweeps.hedges``)
        self.betas: dict[tuple[int, int, int, int], float] = {}
        self.aligned: dict[tuple[int, int], Any] = {}

    def fx_to_base(self, currency: str, instants_ns: np.ndarray) -> np.ndarray:
        """``FxRates.rate(currency, base, t)`` for many instants (NaN where none is known)."""
        if currency == self.base:
            return np.ones(len(instants_ns))
        if self._fx_stamps is None:
            return np.full(len(instants_ns), np.nan)
        pos = np.searchsorted(self._fx_stamps, instants_ns, side="right") - 1
        usdhkd = np.where(pos >= 0, self._fx_close[np.maximum(pos, 0)], np.nan)
        if (currency, self.base) == ("USD", "HKD"):
            return usdhkd
        if (currency, self.base) == ("HKD", "USD"):
            return 1.0 / usdhkd
        raise ValueError(f"no FX source for {currency}->{self.base}")  # pragma: no cover

    def _rows(self, inputs: SweepInputs) -> Rows:
        index = {sym: i for i, sym in enumerate(self.symbols)}
        cats = {c.id: c for c in inputs.calendar}
        cols: dict[str, list[Any]] = {k: [] for k in Rows.__dataclass_fields__}
        for pos, row in enumerate(inputs.schedule.rows):  # schedule order = the engine's order within an instant
            li = index.get(row.listing)
            if li is None:
                continue
            data = self.listings[li]
            sessions = data.sessions
            if len(sessions) == 0 or not (sessions[0] <= row.first_trade_session <= sessions[-1]):
                continue
            if row.first_trade_session not in sessions:
                continue
            j = int(sessions.get_loc(row.first_trade_session))
            at_open = row.first_trade_point == "open"
            cat = cats.get(row.catalyst_id)
            cols["listing"].append(li)
            cols["j"].append(j)
            cols["point"].append(0 if at_open else 1)
            cols["catalyst"].append(row.catalyst_id)
            cols["kind"].append(getattr(cat, "kind", None))
            cols["expected"].append(int(getattr(cat, "expected_sign", None) or 0))
            cols["reaction_j"].append(int(sessions.get_loc(row.reaction_session))
                                      if row.reaction_session in sessions else -1)
            cols["reaction_close_ns"].append(pd.Timestamp(row.reaction_close_utc).value)
            cols["row"].append(pos)
            if at_open:
                cols["ref"].append(float(data.close[j - 1]) if j > 0 else np.nan)
                cols["fx"].append(float(data.fx_open[j]))
                cols["price"].append(float(data.open[j]))
                cols["instant_ns"].append(int(data.open_ns[j]))
            else:
                cols["ref"].append(float(data.open[j]))
                cols["fx"].append(float(data.fx_close[j]))
                cols["price"].append(float(data.close[j]))
                cols["instant_ns"].append(int(data.close_ns[j]))
        obj = {"catalyst", "kind"}
        return Rows(**{k: np.array(v, dtype=object if k in obj else (float if k in ("ref", "fx", "price") else np.int64))
                        for k, v in cols.items()})

    def clock(self, listings: tuple[int, ...], bench_from: int | None = None) -> Clock:
        """Mark instants of the engine for these traded listings (every close of each), plus the
        benchmark's closes from its bar ``bench_from`` on (None: none); positions can be
        marked in the listings and the benchmark."""
        got = self._clocks.get((listings, bench_from))
        if got is not None:
            return got
        closes = [self.listings[i].close_ns for i in listings]
        if bench_from is not None:
            closes.append(self.listings[self.bench_index].close_ns[bench_from:])
        ns = np.unique(np.concatenate(closes))
        kc, mark, fx = {}, {}, {}
        for i in (*listings, self.bench_index):
            data = self.listings[i]
            kc[i] = np.searchsorted(ns, data.close_ns)
            last = np.searchsorted(data.close_ns, ns, side="right") - 1
            mark[i] = np.where(last >= 0, data.close[np.maximum(last, 0)], 0.0)
            rate = self.fx_to_base(data.currency, ns)
            # no rate known yet: nothing can be held then (the engine would have refused the fill)
            fx[i] = np.where(np.isnan(rate), 0.0, rate)
        got = Clock(ns=ns, kc=kc, mark=mark, fx=fx)
        self._clocks[(listings, bench_from)] = got
        return got

    # ------------------------------------------------------------------ costs (real CostBook, cached)
    def cost_total(self, li: int, j: int, side: str, qty: int, price: float) -> Decimal:
        data = self.listings[li]
        key = (li, j, side, qty, price)
        got = self._cost_cache.get(key)
        if got is None:
            fill = Fill(listing=data.symbol, market=data.market, side=side, quantity=qty, price=price,  # type: ignore[arg-type]
                        session=data.stamps[j])
            got = self.costs.cost(fill).total
            self._cost_cache[key] = got
        return got

    def borrow(self, li: int, qty: int, entry_price: float, j_entry: int, j_exit: int) -> Decimal:
        data = self.listings[li]
        key = (li, qty, entry_price, j_entry, j_exit)
        got = self._borrow_cache.get(key)
        if got is None:
            fee = getattr(self.costs, "borrow_fee", None)
            got = Decimal(0) if fee is None else fee(
                listing=data.symbol, market=data.market, quantity=qty, entry_price=entry_price,
                entry_session=data.stamps[j_entry], exit_session=data.stamps[j_exit])
            self._borrow_cache[key] = got
        return got


_DATA: dict[str, KernelData] = {}


def kernel_data(inputs: SweepInputs) -> KernelData:
    """The per-process prepared arrays of ``inputs`` (built once, keyed by its data hash)."""
    key = inputs.data_hash
    got = _DATA.get(key)
    if got is None:
        if len(_DATA) > 4:
            _DATA.clear()
        got = _DATA[key] = KernelData(inputs)
    return got


def forget_kernel_data() -> None:
    """Drop this process's prepared arrays and their memos (benchmarks time a new sweep's view)."""
    _DATA.clear()
