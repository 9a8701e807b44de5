"""Synthetic prices for any declared cross-listed pair (JD/9618.HK, NTES/9999.HK ...).

The synthetic market (:mod:`data_loaders.synthetic`) is built around 9988.HK / BABA. A pair
declared in the listing registry gets the same construction on its own seeded stream, so
adding a pair never changes the bytes of the others:

- ordinary (HKD): ``log P0 + beta * M + A``, ``M`` the market factor of the synthetic market
  (= HSTECH), ``A`` its own mean-reverting idiosyncratic part; no planted jumps (the ground
  truth's jumps belong to 9988.HK / BABA);
- ADR (USD): ``log(shares_per_adr * ordinary / USDHKD) + u``, ``u`` an AR(1) parity
  dislocation, FX as of the US close — so a move while one market is shut shows in the
  other listing first, and parity is restored at its next session.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from data_loaders.markets import get_listing
from data_loaders.registry import Pair

if TYPE_CHECKING:
    from data_loaders.synthetic import SyntheticMarket


def pair_tables(market: SyntheticMarket, pair: Pair) -> dict[str, pd.DataFrame]:
    """Bar tables of ``pair.ordinary`` and ``pair.adr`` (seeded by the market's seed and the ADR symbol)."""
    from data_loaders.synthetic import mean_reverting

    m, p = market._model, market.params
    rng = np.random.default_rng([market.seed, zlib.crc32(pair.adr.encode())])
    beta = float(rng.uniform(0.8, 1.4))
    sigma = float(rng.uniform(0.015, 0.03))
    start_hkd = float(rng.uniform(20.0, 200.0))
    de = rng.normal(0.0, sigma * np.sqrt(0.5), m.n)
    level = beta * m.market + mean_reverting(de, m.kappa)
    cont = np.diff(level, prepend=0.0)

    parity = np.zeros(len(m.us))
    shocks = rng.normal(0.0, p.parity_noise_sd * np.sqrt(1 - p.parity_ar ** 2), len(m.us))
    parity[0] = rng.normal(0.0, p.parity_noise_sd)
    for j in range(1, len(m.us)):
        parity[j] = p.parity_ar * parity[j - 1] + shocks[j]

    ord0 = np.log(start_hkd) - level[m.k_hk[0]]
    ratio = np.log(pair.shares_per_adr)
    adr_offset = ratio + ord0 - m.log_fx + parity
    adr_open_offset = ratio + ord0 - m.log_fx + np.concatenate([[parity[0]], parity[:-1]])
    lot = get_listing(pair.ordinary).lot_size_shares
    return {
        pair.ordinary: market.bars_table(rng, m.hk, m.k_hk, level, cont, ord0, 0.0, 0.008, volume=2.0e7,
                                         tick=None, lot=lot),
        pair.adr: market.bars_table(rng, m.us, m.k_us, level, cont, adr_offset, adr_open_offset - adr_offset,
                                    0.008, volume=5.0e6, tick=0.01),
    }
