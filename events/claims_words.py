"""The words price statements are made of, in Chinese (simplified and traditional) and English.

One :class:`Vocabulary` per language: how numbers are written (percentages, closing
prices, quotes), which words say the price moved and which way, how precise the number
is meant to be (``近`` / ``nearly`` / ``超过`` / ``more than``), what the sentence is
about (a price, or revenue / profit / market share, which are not prices), which words
name a period (``年内`` / ``this year``, ``同期`` / ``over the same period``), a market
(``港股`` / ``Hong Kong shares``) or a comparison (``超过 ... 同期`` / ``outperformed``).
:mod:`events.claims` reads articles with these tables; nothing here knows a listing
(names and aliases come from the listing registry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A number as written: digits, optional thousands commas, optional decimals.
NUM = r"(?<![\d.,])(?P<v>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_PCT = r"\s*(?:%|％|percent\b|per cent\b)"


def _alt(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@dataclass(frozen=True, kw_only=True, slots=True)
class Vocabulary:
    """Regular expressions and word lists for one language (see the module docstring).

    Attributes
    ----------
    percent, percent_range
        A percentage (group ``v``) and a range of two (groups ``v``, ``hi``).
    close, quote
        A closing price (groups ``v``, optional ``cur`` before and ``unit`` after) and a
        price quoted during the session (same groups).
    up, down
        Verbs / nouns of a price move, searched backwards from the number.
    move_after
        A move named right after the number ("46%的涨幅", "a 25% gain"); group ``w``.
    approx, at_least, at_most
        Wording written right before the number (``before`` patterns end at the number)
        or right after it (``after`` patterns start at it).
    price_topic, other_topic
        Words that make the nearest statement about a price, or about something else.
    ytd, same_period, past_week, intraday, low, start_mark, end_mark, close_mark
        Period cues: year to date, "the same period", "the past week", a quote during
        the session, "from the low", a date's role as start ("自" / "since") or end
        ("截至" / "as of"), and "at the close" after a date.
    hk_market, us_market
        Market words ("港股" / "Hong Kong shares") that pick an issuer's listing, or stand for it.
    comparison
        A comparison with the subject that follows ("超过了" / "outperforming").
    respectively
        "分别" / "respectively": pair a list of subjects with a list of numbers.
    separators
        What may stand between the items of a list.
    others
        Words for unnamed members of a group ("其余" / "the rest").
    """

    percent: re.Pattern[str]
    percent_range: re.Pattern[str]
    close: re.Pattern[str]
    quote: re.Pattern[str]
    up: re.Pattern[str]
    down: re.Pattern[str]
    move_after: re.Pattern[str]
    approx_before: re.Pattern[str]
    at_least_before: re.Pattern[str]
    at_most_before: re.Pattern[str]
    approx_after: re.Pattern[str]
    at_least_after: re.Pattern[str]
    price_topic: re.Pattern[str]
    other_topic: re.Pattern[str]
    ytd: re.Pattern[str]
    same_period: re.Pattern[str]
    past_week: re.Pattern[str]
    intraday: re.Pattern[str]
    low: re.Pattern[str]
    start_mark: re.Pattern[str]
    end_mark: re.Pattern[str]
    close_mark: re.Pattern[str]
    hk_market: re.Pattern[str]
    us_market: re.Pattern[str]
    comparison: re.Pattern[str]
    respectively: re.Pattern[str]
    separators: re.Pattern[str]
    others: re.Pattern[str]


_ZH_UP = ("涨", "漲", "上涨", "上漲", "飙升", "飆升", "反弹", "反彈", "累涨", "累漲", "大涨", "大漲", "攀升", "上升",
          "走高", "暴涨", "暴漲", "劲升", "勁升", "急升", "拉升", "涨幅", "漲幅", "升幅", "收涨", "收漲", "升")
_ZH_DOWN = ("跌", "下跌", "下挫", "下滑", "回落", "大跌", "暴跌", "重挫", "走低", "跌幅", "收跌", "下降", "跌去")
_ZH_PRICE = ("股价", "股價", "港股", "美股", "H股", "指数", "指數", "收盘", "收盤", "收市", "涨幅", "漲幅", "跌幅",
             "升幅", "恒指", "恒科", "大盘", "大盤")
_ZH_OTHER = ("营收", "營收", "收入", "销售额", "銷售額", "利润", "利潤", "净利", "淨利", "盈利", "份额", "份額", "GMV",
             "支出", "资本开支", "資本開支", "Capex", "用户", "用戶", "访问", "訪問", "成交量", "成交额", "成交額",
             "净买入", "淨買入", "流入", "增速", "同比", "环比", "環比", "市盈率", "股份", "毛利", "派息", "股息")

ZH = Vocabulary(
    percent=re.compile(NUM + _PCT),
    percent_range=re.compile(NUM + r"\s*[%％]?\s*(?:-|–|—|~|～|至|到)\s*(?P<hi>\d+(?:\.\d+)?)" + _PCT),
    close=re.compile(r"(?:收盘|收盤|收市|收)(?:价|價)?\s*(?:报|報|于|於|在|为|為)\s*(?P<cur>HK\$|US\$|\$)?\s*"
                     + NUM + r"\s*(?P<unit>港元|港币|港幣|美元|元|点|點)?"),
    quote=re.compile(r"(?<![收盘盤市])(?:报|報)\s*(?P<cur>HK\$|US\$|\$)?\s*" + NUM
                     + r"\s*(?P<unit>港元|港币|港幣|美元|点|點)"),
    up=re.compile(_alt(_ZH_UP)),
    down=re.compile(_alt(_ZH_DOWN)),
    move_after=re.compile(r"^\s*(?:的)?(?P<w>涨幅|漲幅|升幅|跌幅|上涨|上漲|下跌|涨|漲|跌)"),
    approx_before=re.compile(r"(?P<w>将近|將近|接近|逼近|大约|大約|约|約|近|差不多)\s*(?:了)?\s*$"),
    at_least_before=re.compile(r"(?P<w>超过|超過|逾|超|至少|不止|高达|高達)\s*(?:了)?\s*$"),
    at_most_before=re.compile(r"(?P<w>不到|不足|未到|低于|低於|少于|少於)\s*$"),
    approx_after=re.compile(r"^\s*(?P<w>左右|上下)"),
    at_least_after=re.compile(r"^\s*(?P<w>以上|多)"),
    price_topic=re.compile(_alt(_ZH_PRICE)),
    other_topic=re.compile(_alt(_ZH_OTHER)),
    ytd=re.compile(r"(?P<y>(?:19|20)\d\d)\s*年(?:初)?(?:至今|以来|以來)|年内|年內|今年以来|今年以來|今年来|今年來|"
                   r"年初至今|年初以来|年初以來|开年以来|開年以來|今年"),
    same_period=re.compile(r"同期|同一时间|同一時間|同一时期|同一時期"),
    past_week=re.compile(r"过去一周|過去一週|過去一周|过去一週|近一周|近一週|过去7天|過去7天"),
    intraday=re.compile(r"截至发稿|截至發稿|截止发稿|截止發稿|发稿时|發稿時|截至撰稿|盘中|盤中|夜盘|夜盤|早盘|早盤|"
                        r"午盘|午盤|开盘|開盤"),
    low=re.compile(r"低点|低點|低位"),
    start_mark=re.compile(r"(?:自|从|從|自从|自從)\s*$"),
    end_mark=re.compile(r"(?:截至|截止|截到|到|至)\s*$"),
    close_mark=re.compile(r"^\s*(?:港股|美股)?\s*(?:收盘|收盤|收市)"),
    hk_market=re.compile(r"港股|H股|香港上市"),
    us_market=re.compile(r"美股|美國上市|美国上市|美国存托|美國存托|ADR|ADS"),
    comparison=re.compile(r"(?P<w>超过|超過|跑赢|跑贏|强于|強於|优于|優於|领先于|領先於|领先|領先)\s*(?:了)?\s*$"),
    respectively=re.compile(r"分别|分別"),
    separators=re.compile(r"^\s*(?:、|，|,|和|与|與|及|以及|跟)\s*$"),
    others=re.compile(r"其余|其餘|其他|其它|其他公司"),
)

_EN_UP = ("rose", "rise", "rises", "rising", "risen", "gained", "gain", "gains", "jumped", "jump", "surged", "surge",
          "soared", "soar", "climbed", "climb", "rallied", "rally", "advanced", "added", "rebounded", "up", "higher",
          "increase", "increased")
_EN_DOWN = ("fell", "fall", "falls", "fallen", "dropped", "drop", "declined", "decline", "slid", "slide", "lost",
            "tumbled", "plunged", "sank", "down", "lower", "decrease", "decreased", "slumped", "retreated")
_EN_PRICE = ("shares", "stock", "stocks", "index", "closed", "close", "ADR", "ADRs", "Nasdaq", "Hang Seng")
_EN_OTHER = ("revenue", "revenues", "sales", "profit", "profits", "income", "earnings", "margin", "market share",
             "spending", "capex", "users", "volume", "inflow", "inflows", "year-on-year", "year over year",
             "valuation", "dividend", "stake", "GMV")


def _words(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + _alt(words) + r")\b", re.IGNORECASE)


EN = Vocabulary(
    percent=re.compile(NUM + _PCT, re.IGNORECASE),
    percent_range=re.compile(NUM + r"\s*%?\s*(?:-|–|—|to)\s*(?P<hi>\d+(?:\.\d+)?)" + _PCT, re.IGNORECASE),
    close=re.compile(r"\b(?:closed|closing|ended|finished|settled)\s+(?:the\s+(?:day|session)\s+)?(?:at|on)\s+"
                     r"(?:a\s+(?:record|high|low)\s+of\s+)?(?P<cur>HK\$|US\$|\$)?\s*" + NUM
                     + r"(?:\s*(?P<unit>points|HKD|USD|Hong Kong dollars|dollars))?", re.IGNORECASE),
    quote=re.compile(r"\b(?:trading|traded|quoted|changing hands|was|were)\s+at\s+(?P<cur>HK\$|US\$|\$)\s*" + NUM
                     + r"(?:\s*(?P<unit>points|HKD|USD))?", re.IGNORECASE),
    up=_words(_EN_UP),
    down=_words(_EN_DOWN),
    move_after=re.compile(r"^\s*(?P<w>gain|gains|rise|rally|jump|advance|increase|drop|decline|fall|loss|slide)\b",
                          re.IGNORECASE),
    approx_before=re.compile(r"\b(?P<w>nearly|almost|about|around|roughly|approximately|some|close to)\s*(?:by\s+)?$",
                             re.IGNORECASE),
    at_least_before=re.compile(r"\b(?P<w>more than|over|above|at least|in excess of|upwards of)\s*$", re.IGNORECASE),
    at_most_before=re.compile(r"\b(?P<w>less than|under|below|at most|up to)\s*$", re.IGNORECASE),
    approx_after=re.compile(r"^\s*(?P<w>or so)\b", re.IGNORECASE),
    at_least_after=re.compile(r"^\s*(?P<w>or more|plus)\b", re.IGNORECASE),
    price_topic=_words(_EN_PRICE),
    other_topic=_words(_EN_OTHER),
    ytd=re.compile(r"\b(?:so far this year|this year|year[- ]to[- ]date|YTD|since the (?:start|beginning) of "
                   r"(?:the year|(?P<y>(?:19|20)\d\d)))\b", re.IGNORECASE),
    same_period=re.compile(r"\b(?:over|in|during) the same (?:period|time)\b", re.IGNORECASE),
    past_week=re.compile(r"\b(?:over |in )?the (?:past|last) (?:week|seven days|7 days)\b", re.IGNORECASE),
    intraday=re.compile(r"\b(?:at press time|at the time of writing|intraday|in early trading|in morning trade|"
                        r"in afternoon trade|in overnight trading|at last check)\b", re.IGNORECASE),
    low=re.compile(r"\b(?:its|the) (?:low|lows|trough)\b", re.IGNORECASE),
    start_mark=re.compile(r"\b(?:since|from)\s+(?:the\s+close\s+(?:of|on)\s+)?$", re.IGNORECASE),
    end_mark=re.compile(r"\b(?:as of|through|until|to|by)\s+(?:the\s+(?:close\s+(?:of|on)\s+)?)?$", re.IGNORECASE),
    close_mark=re.compile(r"^\s*(?:'s\s+)?close\b", re.IGNORECASE),
    hk_market=re.compile(r"\bHong Kong(?:-listed)?\s+(?:shares|stock)|\bH-shares?\b|\bshares in Hong Kong\b",
                         re.IGNORECASE),
    us_market=re.compile(r"\bU\.?S\.?-listed\b|\bU\.?S\.?\s+(?:shares|ADRs?)|\bADRs?\b|\bADSs?\b|New York-listed|"
                         r"American depositary (?:shares|receipts)|\bshares in New York\b"),
    comparison=re.compile(r"\b(?P<w>outperform(?:ed|ing|s)?|ahead of|beating|beat|better than|topping)\s+(?:the\s+)?$",
                          re.IGNORECASE),
    respectively=re.compile(r"\brespectively\b", re.IGNORECASE),
    separators=re.compile(r"^\s*(?:,|and|, and|&)\s*$", re.IGNORECASE),
    others=re.compile(r"\b(?:the others|the rest|other stocks|others)\b", re.IGNORECASE),
)

VOCABULARIES: dict[str, Vocabulary] = {"zh": ZH, "en": EN}
