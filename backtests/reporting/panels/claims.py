"""Tearsheet panel: an article's own price statements and their verdicts (``claims.csv``).

``catalyst-bt claims ARTICLE --out DIR`` writes ``claims.csv`` (see
:mod:`backtests.claims_check`); this panel shows one row per statement, contradicted ones
first, with the claimed and computed values and why, and flags contradicted statements at
the top of the page.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from backtests.reporting.fragments import Column, note, table
from backtests.reporting.load import CLAIMS_CSV, ResultsFolder
from backtests.reporting.panels import Fragment
from backtests.reporting.tables import Cell

REQUIRED = ("article", "span", "subject", "listing", "quantity", "period_start", "period_end", "claimed", "computed",
            "verdict", "why")
_ORDER = {"contradicted": 0, "approximately": 1, "unresolved": 2, "supported": 3}
_CSS = {"contradicted": "neg", "approximately": "warn", "supported": "pos", "unresolved": ""}


class ClaimsPanel:
    """The claims panel (see the module docstring)."""

    name = "claims"
    needs: tuple[str, ...] = (CLAIMS_CSV,)
    order = 95

    def render(self, folder: ResultsFolder) -> Fragment | None:
        path = folder.path / CLAIMS_CSV
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            return Fragment(anchor="claims", title="Article claims",
                            problems=(f"{CLAIMS_CSV}: cannot be read as CSV ({exc}); panel skipped",))
        missing = [c for c in REQUIRED if c not in frame.columns]
        if missing:
            return Fragment(anchor="claims", title="Article claims", problems=(
                f"{CLAIMS_CSV}: lacks column(s) {missing}; panel skipped — re-run catalyst-bt claims --out "
                f"{folder.path}",))
        counts = Counter(frame["verdict"])
        summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in ("supported", "approximately", "contradicted",
                                                                   "unresolved"))
        if not len(frame):
            return Fragment(anchor="claims", title="Article claims",
                            html=note("catalyst-bt claims found no price statement in the article(s)."),
                            facts=(("article claims", "none found"),))
        order = frame["verdict"].map(_ORDER).fillna(4)
        frame = frame.assign(_o=order).sort_values(["_o", "article"], kind="stable")
        columns = [Column(label="verdict"), Column(label="subject → listing"), Column(label="quantity"),
                   Column(label="period"), Column(label="claimed", num=True), Column(label="computed", num=True),
                   Column(label="why", title="hover: how the subject and period were read"),
                   Column(label="article"), Column(label="span", title="character offsets of the evidence")]
        rows = []
        for _, r in frame.iterrows():
            period = f"{r['period_start']} → {r['period_end']}" if r["period_start"] else r["period_end"]
            subject = r["listing"] if r["quantity"] == "comparison" else f"{r['subject'] or '(none)'} → " \
                f"{r['listing'] or '?'}"
            rows.append([Cell(text=r["verdict"], css=_CSS.get(r["verdict"], "")), subject, r["quantity"], period,
                         Cell(text=r["claimed"], raw=r.get("claimed_value", ""), css="num"),
                         Cell(text=r["computed"], raw=r.get("computed_value", ""), css="num"),
                         Cell(text=r["why"], title=r.get("resolution", ""), css="wrap"), r["article"], r["span"]])
        bad = counts.get("contradicted", 0)
        flags = (f"{bad} article claim(s) contradicted by the prices (see Article claims)",) if bad else ()
        html = note(f"{len(frame)} price statement(s) read from the article(s): {summary}. Returns are price "
                    f"returns from raw closes; hover a reason for how the subject and period were read.") + \
            table(columns, rows, table_id="claims-table", filterable=True)
        return Fragment(anchor="claims", title="Article claims", html=html, flags=flags,
                        facts=(("article claims", summary),))


PANEL = ClaimsPanel()
