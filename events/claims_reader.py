"""Reading the numbers of an article in order: the rules of :mod:`events.claims`, one by one.

:class:`ClaimReader` walks the percentages and prices of an article (:func:`numbers`)
sentence by sentence and turns each into :class:`~events.claims_model.Claim` s, keeping what
a later number may inherit (its sentence's subject, the previous period).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from events.claims_model import Claim, Cue, CueKind, Quantity, WordingKind
from events.claims_subjects import SubjectHit
from events.claims_words import Vocabulary
from events.extract import ArticleDate, resolve_mention
from events.mentions import DateMention, sentence_bounds

_CURRENCY = {"港元": "HKD", "港币": "HKD", "港幣": "HKD", "HK$": "HKD", "HKD": "HKD", "Hong Kong dollars": "HKD",
             "美元": "USD", "US$": "USD", "USD": "USD", "dollars": "USD", "$": "USD",
             "点": "points", "點": "points", "points": "points"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Number:
    """A percentage, range or price found in the text (before it is read as a claim)."""

    kind: Literal["pct", "range", "close", "quote"]
    span: tuple[int, int]       # the whole match ("收盘报113.80港元")
    value_span: tuple[int, int]
    value: float
    high: float | None
    text: str
    decimals: int
    unit: str


def _decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def numbers(text: str, vocab: Vocabulary, start: int) -> list[Number]:
    """Every percentage, range of percentages, closing price and quoted price in ``text[start:]``, in order."""
    found: list[Number] = []
    for kind, rx in (("range", vocab.percent_range), ("pct", vocab.percent), ("close", vocab.close),
                     ("quote", vocab.quote)):
        for m in rx.finditer(text, start):
            if any(m.start() < f.span[1] and f.span[0] < m.end() for f in found):
                continue
            raw = m["v"].replace(",", "")
            unit = "%"
            if kind in ("close", "quote"):
                written = m["cur"] or m["unit"] or ""
                unit = _CURRENCY.get(written, "")
            high = float(m["hi"]) if kind == "range" else None
            found.append(Number(kind=kind, span=m.span(), value_span=m.span("v"),  # type: ignore[arg-type]
                                value=float(raw), high=high, text=m.group(), decimals=_decimals(raw), unit=unit))
    return sorted(found, key=lambda n: n.span[0])


def _last(rx: re.Pattern[str], text: str, lo: int, hi: int) -> re.Match[str] | None:
    last = None
    for m in rx.finditer(text, lo, hi):
        last = m
    return last


class ClaimReader:
    """Walks the numbers of an article in order, keeping what the next number may inherit."""

    def __init__(self, *, text: str, vocab: Vocabulary, sentence_end: re.Pattern[str], hits: list[SubjectHit],
                 mentions: list[DateMention], anchor: ArticleDate) -> None:
        self.text, self.vocab, self.sentence_end = text, vocab, sentence_end
        self.hits, self.anchor = hits, anchor
        self.mentions = [m for m in mentions if m.role != "dateline"]
        self.claims: list[Claim] = []
        self.skipped: list[tuple[str, tuple[int, int], str]] = []

    # ----------------------------------------------------------------- structure

    def read(self, found: list[Number]) -> tuple[list[Claim], list[tuple[str, tuple[int, int], str]]]:
        """Claims and skipped percentages from ``found`` (the article's numbers, in order)."""
        for series in self._series(found):
            self._read_series(series, found)
        return self.claims, self.skipped

    def _sentence(self, n: Number) -> tuple[int, int]:
        return sentence_bounds(self.text, n.span[0], n.span[1], self.sentence_end)

    def _series(self, numbers: list[Number]) -> list[list[Number]]:
        """Numbers written as one list ("56.95%和56.09%", "36%、53%") form one series."""
        out: list[list[Number]] = []
        for n in numbers:
            if out and out[-1][-1].kind == n.kind and self._sentence(out[-1][-1]) == self._sentence(n):
                prev = out[-1][-1]
                gap_lo = self._after_words_end(prev)
                if self.vocab.separators.match(self.text[gap_lo:n.span[0]]):
                    out[-1].append(n)
                    continue
            out.append([n])
        return out

    def _after_words_end(self, n: Number) -> int:
        for rx in (self.vocab.approx_after, self.vocab.at_least_after):
            m = rx.match(self.text[n.span[1]:n.span[1] + 6])
            if m:
                return n.span[1] + m.end()
        return n.span[1]

    # ----------------------------------------------------------------- one series

    def _read_series(self, series: list[Number], numbers: list[Number]) -> None:
        head, tail = series[0], series[-1]
        t, v = self.text, self.vocab
        s_lo, s_hi = self._sentence(head)
        prev_in_sentence = [c for c in self.claims if c.sentence == (s_lo, s_hi)]
        prev_numbers = [n for n in numbers if n.span[1] <= head.span[0] and self._sentence(n) == (s_lo, s_hi)]
        lo = prev_numbers[-1].span[1] if prev_numbers else s_lo
        nxt = [n.span[0] for n in numbers if n.span[0] >= tail.span[1]]
        # words after the number belong to it up to the next number or the next name
        next_name = [h.span[0] for h in self.hits if tail.span[1] <= h.span[0] < s_hi]
        after_hi = min([s_hi, *nxt[:1], *next_name[:1]])
        quantity: Quantity = "return" if head.kind in ("pct", "range") else head.kind  # type: ignore[assignment]
        move_word, sign, verb = "", 1.0, None
        if quantity == "return":
            topic = self._topic(s_lo, head.span[0])
            verb = max((m for m in (_last(v.up, t, lo, head.span[0]), _last(v.down, t, lo, head.span[0])) if m),
                       key=lambda m: m.end(), default=None)
            after_verb = v.move_after.match(t[tail.span[1]:tail.span[1] + 8]) if verb is None else None
            if topic == "other" or (topic is None and verb is None and after_verb is None):
                for n in series:
                    self.skipped.append(("not about a price" if topic == "other" else "no price move named",
                                         n.span, n.text))
                return
            if verb is None and after_verb is None:
                for n in series:
                    self.skipped.append(("no move word (涨 / 跌, rose / fell) for this percentage", n.span, n.text))
                return
            word = verb.group() if verb else after_verb["w"]  # type: ignore[index]
            move_word = word
            sign = -1.0 if v.down.fullmatch(word) or v.down.match(word) else 1.0
        wording, wording_word = self._wording(head, lo)
        in_parens = self._in_parens(s_lo, head.span[0])
        group, subject_note = self._subjects(lo, head.span[0], [] if in_parens else prev_in_sentence)
        start, end, period_note = self._period(quantity, lo, head, s_lo, s_hi, tail.span[1], after_hi)
        compared, comparison_word = self._comparison(lo, group, start)
        markets = tuple((code, h.text) for h in self.hits if s_lo <= h.span[0] < s_hi
                        for code in ([h.target] if h.kind == "market" else [h.market] if h.market else []))
        issuers = [h for h in self.hits if h.kind == "issuer" and s_lo <= h.span[0] < head.span[0]]
        pairs = len(group) == len(series) and len(series) > 1
        for k, n in enumerate(series):
            subjects = [group[k]] if pairs else group if len(series) == 1 or len(group) <= 1 else []
            note = subject_note if subjects or not group else \
                f"{len(series)} numbers for {len(group)} names: cannot pair them"
            w, ww = (wording, wording_word) if k == 0 else self._wording(n, n.span[0])
            if k and w == "exact" and wording != "exact":
                w, ww = wording, wording_word
            evidence_lo = min([n.span[0], *([verb.start()] if verb is not None else [])]
                              + [h.span[0] for h in group if h.span[0] >= lo])
            evidence = (evidence_lo, self._after_words_end(n))
            value = n.value * sign
            high = n.high * sign if n.high is not None else None
            for subject in subjects or [None]:
                context = [h for h in issuers if subject is None or h.span[0] < subject.span[0]]
                currency = (("HK" if n.unit == "HKD" else "US"), n.unit) if n.unit in ("HKD", "USD") else None
                self.claims.append(Claim(
                    index=len(self.claims), quantity=quantity, value=value, value_high=high,
                    number_text=t[n.value_span[0]:n.value_span[1]], decimals=n.decimals, unit=n.unit,
                    wording="range" if n.kind == "range" else w, wording_word=ww, move_word=move_word,
                    span=evidence, sentence=(s_lo, s_hi), subject=subject, subject_note=note,
                    context_issuer=context[-1] if context else None, sentence_markets=markets,
                    currency_market=currency, start=start, end=end, period_note=period_note,
                    compared_with=compared, comparison_word=comparison_word, in_parens=in_parens))

    def _topic(self, lo: int, pos: int) -> Literal["price", "other"] | None:
        price = _last(self.vocab.price_topic, self.text, lo, pos)
        other = _last(self.vocab.other_topic, self.text, lo, pos)
        if price is None and other is None:
            return None
        if other is None or (price is not None and price.end() > other.end()):
            return "price"
        return "other"

    def _wording(self, n: Number, lo: int) -> tuple[WordingKind, str]:
        before = self.text[max(lo, n.span[0] - 12):n.span[0]]
        after = self.text[n.span[1]:n.span[1] + 6]
        v = self.vocab
        for kind, rx in (("at_most", v.at_most_before), ("at_least", v.at_least_before), ("approx", v.approx_before)):
            m = rx.search(before)
            if m:
                return kind, m["w"]  # type: ignore[return-value]
        for kind, rx in (("approx", v.approx_after), ("at_least", v.at_least_after)):
            m = rx.match(after)
            if m:
                return kind, m["w"]  # type: ignore[return-value]
        return "exact", ""

    def _in_parens(self, lo: int, pos: int) -> bool:
        seg = self.text[lo:pos]
        return seg.count("(") + seg.count("（") > seg.count(")") + seg.count("）")

    def _subjects(self, lo: int, pos: int, prev: list[Claim]) -> tuple[list[SubjectHit], str]:
        inside = [h for h in self.hits if lo <= h.span[0] and h.span[1] <= pos]
        if not inside:
            source = [c for c in prev if not c.in_parens and c.subject is not None]
            if source:
                subject = source[-1].subject
                assert subject is not None
                return [subject], (f"no name before the number: the subject of claim #{source[-1].index + 1} "
                                   f"({subject.text!r})")
            return [], "no listing, index or company named before the number in its sentence"
        group = [inside[-1]]
        for h in reversed(inside[:-1]):
            if h.kind in ("listing", "issuer") and group[0].kind in ("listing", "issuer") and \
                    self.vocab.separators.match(self.text[h.span[1]:group[0].span[0]]):
                group.insert(0, h)
            else:
                break
        note = "the nearest name before the number" if len(group) == 1 else \
            f"the list of {len(group)} names before the number"
        return group, note

    # ----------------------------------------------------------------- periods

    def _date_cues(self, s_lo: int, s_hi: int) -> list[Cue]:
        cues = []
        for m in self.mentions:
            if not (s_lo <= m.span[0] < s_hi):
                continue
            before = self.text[max(s_lo, m.span[0] - 12):m.span[0]]
            after = self.text[m.evidence_span[1]:m.evidence_span[1] + 10]
            if self.vocab.start_mark.search(before):
                kind: CueKind = "since"
            elif self.vocab.end_mark.search(before) or self.vocab.close_mark.match(after) or m.role == "as_of":
                kind = "end"
            else:
                kind = "day"
            day, how, _ = resolve_mention(m, self.anchor)
            cues.append(Cue(kind=kind, text=m.text, span=m.span, day=day, how=how))
        return cues

    def _period(self, quantity: Quantity, lo: int, head: Number, s_lo: int, s_hi: int, tail_end: int,
                after_hi: int) -> tuple[Cue | None, Cue | None, str]:
        t, v = self.text, self.vocab
        if quantity == "quote":  # a price "报 118 港元" without 收盘 is a quote during the session
            m = _last(v.intraday, t, s_lo, head.span[0]) or v.intraday.search(t, tail_end, after_hi)
            return None, Cue(kind="intraday", text=m.group() if m else t[head.span[0]:head.span[1]],
                             span=m.span() if m else head.span), ""
        intraday = _last(v.intraday, t, lo, head.span[0]) or v.intraday.search(t, tail_end, after_hi)
        if intraday is not None and quantity == "return":
            return None, Cue(kind="intraday", text=intraday.group(), span=intraday.span()), ""
        dates = self._date_cues(s_lo, s_hi)
        starts: list[Cue] = [c for c in dates if c.kind in ("since", "day")]
        for kind, rx in (("ytd", v.ytd), ("same_period", v.same_period), ("past_week", v.past_week), ("low", v.low)):
            for m in rx.finditer(t, s_lo, s_hi):
                year = int(m["y"]) if kind == "ytd" and m.groupdict().get("y") else None
                starts.append(Cue(kind=kind, text=m.group(), span=m.span(), year=year))  # type: ignore[arg-type]
        before = [c for c in starts if lo <= c.span[0] and c.span[1] <= head.span[0]]
        after = [c for c in starts if tail_end <= c.span[0] < after_hi]
        start = max(before, key=lambda c: c.span[0]) if before else (after[0] if after else None)
        dated = [c for c in before if c.kind == "since"]
        if start is not None and start.kind == "low" and dated:  # "自1月13日触及低点以来": the low is dated
            start = dated[-1]
        ends = [c for c in dates if c.kind == "end"]
        end_before = [c for c in ends if c.span[1] <= head.span[0]]
        end_after = [c for c in ends if tail_end <= c.span[0] < after_hi]
        end = end_before[-1] if end_before else (end_after[0] if end_after else None)
        if quantity == "close":
            day = start if start is not None and start.kind == "day" else None
            if day or end:
                return None, day or end, ""
            same = [c for c in self.claims if c.sentence == (s_lo, s_hi)]  # "周三大涨8%，收盘报113.80"
            if same and (same[-1].end is not None or (same[-1].start is not None and same[-1].start.kind == "day")):
                c = same[-1]
                cue = c.start if c.start is not None and c.start.kind == "day" else c.end
                assert cue is not None
                return None, cue, f"no date for the close: the day of claim #{c.index + 1} ({cue.text!r})"
            return None, None, ""
        if start is not None:
            return start, end, ""
        closes = [c for c in self.claims if c.sentence == (s_lo, s_hi) and c.quantity == "close"]
        if closes and closes[-1].end is not None and closes[-1].end.kind == "day" and end is None:
            c = closes[-1]  # "周三，恒指收报21857.92点，涨2.64%": the move of that day
            return c.end, None, f"no period word: the day of the close in claim #{c.index + 1}"
        previous = [c for c in self.claims if c.quantity == "return" and "\n" not in t[c.span[1]:head.span[0]]]
        if not previous:
            return None, end, ""
        c = previous[-1]
        if c.end is not None and c.end.kind == "intraday":
            return None, end, ""
        carried_end = end or c.end
        return c.start, carried_end, (f"no period word: the period of claim #{c.index + 1} carried over"
                                      + ("" if end is not None else " (start and end)"))

    def _comparison(self, lo: int, group: list[SubjectHit], start: Cue | None) -> tuple[int | None, str]:
        """(claim compared with, word): 同期 refers to the previous claim; 超过 / ahead of compares."""
        word = ""
        if group and group[0].span[0] >= lo:
            m = self.vocab.comparison.search(self.text[lo:group[0].span[0]])
            word = m["w"] if m else ""
        if not word and (start is None or start.kind != "same_period"):
            return None, ""
        own = {h.target for h in group}
        for c in reversed(self.claims):
            if c.quantity == "return" and (c.subject is None or c.subject.target not in own):
                return c.index, word
        return None, word
