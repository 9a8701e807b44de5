"""Run flags: what ``summary.json`` ``flags`` says went wrong (borrowing beyond the limit,
no trade at all) as headline warnings under the page title, and a short section that
explains each one. A run without flags shows nothing."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from backtests.reporting.load import ResultsFolder
from backtests.reporting.panels import Fragment

EXPLAIN = {
    "borrow_limit": "the equity curve and every metric assume that credit was free",
    "no_trades": "every metric is that of cash",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class _RunFlags:
    name: str = "run-flags"
    needs: tuple[str, ...] = ("summary.json",)
    order: int = 5  # before the headline metrics

    def render(self, folder: ResultsFolder) -> Fragment | None:
        raw = (folder.summary or {}).get("flags") or []
        flags = [f for f in raw if isinstance(f, dict) and f.get("message")]
        if not flags:
            return None
        lines = [f"FLAG {f.get('kind', '?')}: {f['message']}" for f in flags]
        items = "".join(f"<li><b>{escape(str(f.get('kind', '?')))}</b>: {escape(str(f['message']))}"
                        + (f" — {escape(EXPLAIN[f['kind']])}" if f.get("kind") in EXPLAIN else "") + "</li>"
                        for f in flags)
        html = f'<ul class="flags">{items}</ul>'
        return Fragment(anchor="run-flags", title="Warnings", html=html, flags=tuple(lines))


PANEL = _RunFlags()
