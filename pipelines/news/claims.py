"""Figures in news text → claims: which company, which metric, which period.

Pure functions. Input: articles (id, publication time, title, body) and the figures that
:mod:`pipelines.news.numbers` found in their sentences; output: one claim per figure
that names (or implies) a metric the filings report, with the company and the period resolved.

How each part is resolved, in the order a reader would:

* **Company**: names and tickers from ``pipelines/seeds/news_companies.csv`` (English and
  Chinese names, "(NASDAQ: NVDA)", "NVDA.US", cashtags such as "$英伟达 (NVDA.US)$"). A figure
  takes the nearest company named before it in its sentence (else after it); a sentence that
  names none ("It", "the company") speaks of the company in focus: the last one named alone.
  A figure after a list of companies ("Microsoft, Alphabet, Amazon and Meta together") is a
  sum over several companies: ticker null.
* **Metric**: the nearest metric word before the figure, unless another level of money lies
  between them ("revenue of $84.7 billion and net income of $23.6 billion"), or one right
  after it ("$52.5 billion on capital expenditures"). A growth rate ("up 14%", "同比增长122%")
  takes the metric it follows and becomes ``<metric>_yoy`` or ``<metric>_qoq``. A figure
  "compared with" an earlier one in the sentence takes that one's metric and the period a year
  (or quarter) before. Segments (AWS, Google Cloud, 数据中心) come from
  ``pipelines/seeds/news_segments.csv``.
* **Period**: "second quarter", "Q2", "2Q24", "first half", "H1", "fiscal 2025", "FY25",
  "2025财年第二季度", "上半年", "this quarter", "last year", "the same period last year", resolved
  against the publication date: a quarter named without a year is the latest such quarter
  ended in the 200 days before publication (else the next one). Periods are read in the
  company's own fiscal labels unless the text says "calendar"; for a company whose fiscal year
  is not the calendar year the note says so (the checks try the other reading too).
* **Forecasts**: a figure after "expects", "outlook", "guidance", "预计"... or whose period ends
  after publication is a forecast: kept, and never checked against filings.
* **Currency**: values in other currencies get ``value_usd`` at the ECB reference rate of the
  publication date (the last rate on or before it).
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources

import polars as pl

from pipelines.core.tables import NEWS_CLAIMS

# --- sentences ----------------------------------------------------------------------------

_ABBREVIATIONS = {
    "u.s", "inc", "corp", "co", "ltd", "mr", "ms", "mrs", "dr", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "vs", "e.g", "i.e", "st",
    "calif", "u.k", "etc", "approx", "fig", "jr", "sr", "mass", "wash", "n.y", "u.s.a",
}  # fmt: skip
_EN_BREAK = re.compile(r"[.!?][\"”’)\]]*\s+(?=[\"“(\[]?[A-Z0-9$])")
_ZH_BREAK = re.compile(r"[。！？!?]+[”」』]?")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``: paragraphs split at 。！？ and at ". " before a capital, except
    after abbreviations ("U.S.", "Inc.", "Aug.") and initials."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n+", text or ""):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        pieces: list[str] = []
        start = 0
        for match in _ZH_BREAK.finditer(paragraph):
            pieces.append(paragraph[start : match.end()])
            start = match.end()
        pieces.append(paragraph[start:])
        for piece in pieces:
            start = 0
            for match in _EN_BREAK.finditer(piece):
                word = re.search(r"([\w.]+)[.!?]?$", piece[start : match.start() + 1])
                token = (word.group(1) if word else "").rstrip(".").lower()
                if token in _ABBREVIATIONS or re.fullmatch(r"[a-z]", token):
                    continue
                sentences.append(piece[start : match.end()].strip())
                start = match.end()
            sentences.append(piece[start:].strip())
    return [s for s in sentences if s]


def article_sentences(articles: pl.DataFrame) -> pl.DataFrame:
    """(article_id, sentence_no, sentence): the title is sentence 0, the body follows."""
    rows = []
    for article_id, title, body in articles.select("article_id", "title", "body_text").iter_rows():
        if title:
            rows.append((article_id, 0, re.sub(r"\s+", " ", title).strip()))
        for number, sentence in enumerate(split_sentences(body or ""), start=1):
            rows.append((article_id, number, sentence))
    return pl.DataFrame(
        rows,
        schema={"article_id": pl.String, "sentence_no": pl.Int32, "sentence": pl.String},
        orient="row",
    )


# --- vocabulary ---------------------------------------------------------------------------


def _seed_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("pipelines.seeds").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    value: str  # ticker, or metric name
    segment: str | None = None


def _word_regex(words: Iterable[str], ignore_case: bool) -> re.Pattern:
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        escaped = re.escape(word)
        if word[0].isascii() and word[0].isalnum():
            escaped = r"(?<![A-Za-z0-9])" + escaped
        if word[-1].isascii() and word[-1].isalnum():
            escaped += r"(?![A-Za-z0-9])"
        parts.append(escaped)
    return re.compile("|".join(parts), re.IGNORECASE if ignore_case else 0)


class CompanyFinder:
    """Finds company mentions (names, tickers, cashtags) in a sentence."""

    def __init__(self, aliases: Mapping[str, str]):
        self.aliases = dict(aliases)  # alias → ticker
        self.tickers = set(self.aliases.values())
        self.name_re = _word_regex(self.aliases, ignore_case=False)
        self.ticker_re = re.compile(
            r"(?:NASDAQ|Nasdaq|NYSE|纳斯达克|纽交所)\s*[:：]\s*([A-Z]{1,5})"
            r"|(?<![A-Za-z])([A-Z]{1,5})\.(?:US|O|OQ|N)(?![A-Za-z])"
            r"|\$([A-Z]{1,5})(?![A-Za-z])"
            r"|[(（]([A-Z]{2,5})[)）]"
        )

    @classmethod
    def from_seed(cls) -> CompanyFinder:
        return cls({row["alias"]: row["ticker"] for row in _seed_rows("news_companies.csv")})

    def find(self, sentence: str) -> list[Mention]:
        found = [
            Mention(m.start(), m.end(), self.aliases[m.group(0)])
            for m in self.name_re.finditer(sentence)
        ]
        for m in self.ticker_re.finditer(sentence):
            ticker = next(g for g in m.groups() if g)
            ticker = "GOOGL" if ticker == "GOOG" else ticker
            if ticker in self.tickers:
                found.append(Mention(m.start(), m.end(), ticker))
        return sorted(found, key=lambda x: x.start)


# metric words: (pattern, metric). Growth and ratios are derived from these.
_METRIC_WORDS: list[tuple[str, str]] = [
    (r"capital expenditures?|capital spending|capital expenses|capital investments?|capex"
     r"|spending on property and equipment|purchases of property and equipment"
     r"|资本支出|资本开支|资本性支出", "capex"),
    (r"operating income|operating profit|income from operations|营业利润|经营利润|运营利润",
     "operating_income"),
    (r"operating margin|营业利润率|经营利润率", "operating_margin"),
    (r"net income|net profit|net earnings|profit|净利润|净利|纯利", "net_income"),
    (r"revenues?|net sales|sales|top line|turnover|营收|营业收入|总收入|收入|销售额", "revenue"),
    (r"market value|market capitali[sz]ation|market cap|市值", "market_cap"),
    # words that own a figure but are not a filed metric: they stop a figure from being
    # given to an earlier metric ("revenue rose 14%; shares fell 2.5%")
    (r"shares|stock|share price|股价|股票", "share_price"),
    (r"dividends?|buybacks?|repurchases?|returned|分红|回购", "shareholder_returns"),
    (r"gross margin|毛利率", "gross_margin"),
    (r"earnings per share|EPS|每股收益", "eps"),
]  # fmt: skip
_METRIC_RE = [(re.compile(p, re.IGNORECASE), m) for p, m in _METRIC_WORDS]
FILED_METRICS = {"revenue", "capex", "net_income", "operating_income"}
_MONEY_METRICS = FILED_METRICS | {"market_cap"}
_FORECAST_CUE = re.compile(
    r"\b(?:expects?|expected|expectations?|outlook|guidance|guided|forecasts?|forecasted|"
    r"projects?|projected|projections?|anticipates?|anticipated|estimates?|estimated|"
    r"plans? to|intends? to|aims? to|targets?|on track to|is set to)\b"
    r"|预计|预期|展望|指引|计划|有望|预测|目标",
    re.IGNORECASE,
)
_COMPARE_CUE = re.compile(
    r"compared (?:with|to)|versus|\bvs\.?|\bfrom\b|against|up from|down from|than|"
    r"去年同期为|上年同期为|而去年同期|对比|相比",
    re.IGNORECASE,
)
_QOQ_CUE = re.compile(
    r"sequential|quarter[- ](?:over|on)[- ]quarter|\bq/?oq\b|"
    r"(?:from|than|over) (?:in )?the (?:previous|prior|preceding|last|first|second|third) quarter|"
    r"环比|上季度|上一季度",
    re.IGNORECASE,
)
_AGGREGATE_CUE = re.compile(
    r"together|combined|collectively|in total|altogether|in aggregate"
    r"|合计|总共|共计|一共|七巨头|巨头们",
    re.IGNORECASE,
)
_LIST_GAP = re.compile(r"^\s*(?:,|，|、|and|&|和|与|及|以及|,\s*and)\s*$")


def _load_segments() -> dict[str, list[tuple[str, str]]]:
    by_ticker: dict[str, list[tuple[str, str]]] = {}
    for row in _seed_rows("news_segments.csv"):
        by_ticker.setdefault(row["ticker"], []).append((row["alias"], row["segment"]))
    return by_ticker


# --- fiscal calendars ---------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


@dataclass
class FiscalCalendar:
    """A company's fiscal quarters: exact dates where known (from the marts), else nominal
    month ends from the month its fiscal year ends in. Fiscal years are labelled by the
    calendar year they end in (NVIDIA's fiscal 2025 ended 2025-01-26)."""

    fye_month: int = 12
    quarters: dict[tuple[int, int], tuple[date, date]] = field(default_factory=dict)

    @property
    def is_calendar(self) -> bool:
        return self.fye_month == 12

    def quarter(self, fiscal_year: int, fiscal_quarter: int) -> tuple[date, date]:
        """(start, end) of a fiscal quarter."""
        if (fiscal_year, fiscal_quarter) in self.quarters:
            return self.quarters[(fiscal_year, fiscal_quarter)]
        end_y, end_m = _add_months(fiscal_year, self.fye_month, -3 * (4 - fiscal_quarter))
        start_y, start_m = _add_months(end_y, end_m, -2)
        start = date(start_y, start_m, 1)
        previous = self.quarters.get(
            (fiscal_year, fiscal_quarter - 1) if fiscal_quarter > 1 else (fiscal_year - 1, 4)
        )
        if previous is not None:
            start = previous[1] + timedelta(days=1)
        return start, _month_end(end_y, end_m)

    def fiscal_year_of(self, day: date) -> int:
        """The fiscal year a day falls in."""
        year = day.year if day.month <= self.fye_month else day.year + 1
        start, _ = self.quarter(year, 1)
        _, end = self.quarter(year, 4)
        if day > end:
            return year + 1
        if day < start:
            return year - 1
        return year

    @classmethod
    def from_quarters(cls, rows: Iterable[tuple[int, int, date, date]]) -> FiscalCalendar:
        """From (fiscal_year, fiscal_quarter, period_start, period_end) rows of the marts."""
        quarters = {(fy, fq): (start, end) for fy, fq, start, end in rows}
        votes: list[int] = []
        for (_fy, fq), (_start, end) in quarters.items():
            # the month whose end is nearest the quarter's end (52/53-week years end a few
            # days before or after it), carried forward to the fourth quarter
            month = ((end + timedelta(days=15)).replace(day=1) - timedelta(days=1)).month
            votes.append((month - 1 + 3 * (4 - fq)) % 12 + 1)
        month = max(set(votes), key=votes.count) if votes else 12
        return cls(month, quarters)


# --- periods ------------------------------------------------------------------------------

_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4,
}  # fmt: skip


@dataclass(frozen=True)
class PeriodSpec:
    """A period phrase before resolution."""

    start: int
    end: int
    kind: str  # 'quarter' | 'half' | 'nine_months' | 'year' | 'comparative'
    index: int | None = None  # quarter or half number
    year: int | None = None  # as written (fiscal label unless calendar)
    relative: int | None = None  # 0 this, -1 last, +1 next (when no year is written)
    basis: str | None = None  # 'fiscal' | 'calendar' when the text says so
    shift: str | None = None  # comparative: 'year' | 'quarter'


def _year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return value + 2000 if value < 100 else value


_Q_WORD = r"(first|second|third|fourth|1st|2nd|3rd|4th)"
_Q_YEAR = r"'?(?P<y{n}>\d{{4}}|(?<=FY)\d{{2}})"
_PERIOD_TABLE = [
    # comparatives first: "the same period last year" is not "last year"
    (
        r"(?:the )?same (?:period|quarter) "
        r"(?:a year (?:earlier|ago)|last year|of (?:the )?(?:last|previous|prior) year)"
        r"|a year (?:earlier|ago|before)|(?:the )?year[- ]ago (?:period|quarter)"
        r"|(?:the )?prior[- ]year (?:period|quarter)|去年同期|上年同期",
        "comparative_year",
    ),
    (
        r"(?:the )?(?:previous|prior|preceding) quarter|上季度|上一季度|上个季度",
        "comparative_quarter",
    ),
    (r"(?P<fy1>\d{2,4})\s*财年\s*第?(?P<q1>[一二三四1-4])\s*(?:财季|季度)", "zh_fq"),
    (r"(?P<y1>\d{4})\s*年\s*第?(?P<q1>[一二三四1-4])\s*季度", "zh_q"),
    (r"第?(?P<q1>[一二三四1-4])\s*财季", "zh_fq_noyear"),
    (r"第(?P<q1>[一二三四1-4])季度|(?P<q2>[一二三四])季度", "zh_q_noyear"),
    (r"(?P<fy1>\d{4})\s*财年|(?P<fy2>\d{4})\s*财政年度", "zh_fy"),
    (r"(?P<y1>\d{4})\s*(?:年|全年)(?!\d)", "zh_y"),
    (r"上半年|下半年", "zh_half"),
    (r"前三(?:个)?季度", "zh_9m"),
    (r"今年|本年度", "zh_this_year"),
    (r"去年|上一年|上年", "zh_last_year"),
    (r"明年", "zh_next_year"),
    (r"本季度|当季|该季度", "zh_this_quarter"),
    # English quarters with a year: "fiscal 2025 second quarter", "second quarter of fiscal
    # 2025", "2024 second quarter"
    (
        rf"(?P<fy1>fiscal|FY)\s*(?:year\s*)?'?(?P<y1>\d{{2,4}})\s+{_Q_WORD}[- ]quarter"
        rf"|{_Q_WORD}[- ]quarter\s+(?:of\s+)?"
        rf"(?:(?P<fy2>fiscal|FY|calendar)\s*(?:year\s*)?)?{_Q_YEAR.format(n=2)}"
        rf"|(?P<cal1>calendar\s+)?(?P<y3>\d{{4}})\s+{_Q_WORD}[- ]quarter",
        "en_q_year",
    ),
    # "Q2 2024", "2Q24", "Q2 FY25", "FY2025 Q2"
    (
        r"(?<![A-Za-z0-9])(?:Q(?P<q1>[1-4])|(?P<q2>[1-4])Q)\s*(?:'|’)?\s*"
        r"(?:(?P<fy1>FY|fiscal)\s*'?)?(?P<y1>\d{4}|\d{2})(?![0-9])"
        r"|(?<![A-Za-z0-9])(?P<fy2>FY|fiscal)\s*'?(?P<y2>\d{4}|\d{2})\s*Q(?P<q3>[1-4])(?![0-9])",
        "en_q_short",
    ),
    (
        rf"(?P<fy1>fiscal\s+)?{_Q_WORD}[- ]quarter|(?<![A-Za-z0-9])Q(?P<q1>[1-4])(?![0-9A-Za-z])",
        "en_q_noyear",
    ),
    (
        r"(?:the )?(?P<h>first|second) half(?: of (?:(?P<fy1>fiscal|FY)\s*)?(?P<y1>\d{4}))?"
        r"|(?<![A-Za-z0-9])(?P<h2>[12])H(?P<y2>\d{2})?(?![0-9])"
        r"|(?<![A-Za-z0-9])H(?P<h3>[12])(?:\s*(?P<y3>\d{4}))?(?![0-9])",
        "en_half",
    ),
    (r"(?:the )?first nine months(?: of (?:fiscal\s*)?(?P<y1>\d{4}))?", "en_9m"),
    (
        r"(?P<fy>fiscal(?: year)?|FY)\s*'?(?P<y1>\d{4}|\d{2})(?![0-9])"
        r"|(?P<cal>calendar(?: year)?)\s+(?P<y2>\d{4})",
        "en_fy",
    ),
    (
        r"(?:this|the current) (?P<u>quarter|year)|(?:the )?(?P<u2>quarter)(?![- ]?(?:of|ended))",
        "en_this",
    ),
    (r"(?:last|past) (?P<u>quarter|year)", "en_last"),
    (r"next (?P<u>quarter|year)", "en_next"),
    (
        r"(?:in|for|during|of|throughout|full[- ]year)\s+(?P<y1>(?:19|20)\d{2})(?![0-9])"
        r"|(?<![0-9])(?P<y2>(?:19|20)\d{2})(?='s)",
        "en_year",
    ),
]
_PERIOD_PATTERNS = [(re.compile(p, re.IGNORECASE), kind) for p, kind in _PERIOD_TABLE]


def find_periods(sentence: str) -> list[PeriodSpec]:
    """Period phrases in a sentence, left to right, without overlaps."""
    specs: list[PeriodSpec] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _PERIOD_PATTERNS:
        for m in pattern.finditer(sentence):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            spec = _spec(m, kind)
            if spec is not None:
                specs.append(spec)
                taken.append((m.start(), m.end()))
    return sorted(specs, key=lambda s: s.start)


def _spec(m: re.Match, kind: str) -> PeriodSpec | None:
    g = {k: v for k, v in m.groupdict().items() if v}
    s, e = m.start(), m.end()
    text = m.group(0).lower()
    fiscal = "fiscal" if re.search(r"fiscal|fy|财", text) else None
    basis = "calendar" if "calendar" in text else fiscal
    if kind == "comparative_year":
        return PeriodSpec(s, e, "comparative", shift="year")
    if kind == "comparative_quarter":
        return PeriodSpec(s, e, "comparative", shift="quarter")
    if kind in {"zh_fq", "zh_q"}:
        return PeriodSpec(
            s, e, "quarter", _ORDINALS[g["q1"]], _year(g.get("fy1") or g.get("y1")), basis=basis
        )
    if kind in {"zh_fq_noyear", "zh_q_noyear"}:
        return PeriodSpec(
            s, e, "quarter", _ORDINALS[g.get("q1") or g["q2"]], relative=0, basis=basis
        )
    if kind == "zh_fy":
        return PeriodSpec(s, e, "year", year=_year(g.get("fy1") or g.get("fy2")), basis="fiscal")
    if kind == "zh_y":
        return PeriodSpec(s, e, "year", year=_year(g["y1"]))
    if kind == "zh_half":
        return PeriodSpec(s, e, "half", 1 if "上" in text else 2, relative=0)
    if kind == "zh_9m":
        return PeriodSpec(s, e, "nine_months", relative=0)
    if kind.startswith("zh_") and kind.endswith("year"):
        rel = {"zh_this_year": 0, "zh_last_year": -1, "zh_next_year": 1}[kind]
        return PeriodSpec(s, e, "year", relative=rel)
    if kind == "zh_this_quarter":
        return PeriodSpec(s, e, "quarter", relative=0)
    if kind == "en_q_year":
        word = re.search(_Q_WORD, text)
        year = _year(g.get("y1") or g.get("y2") or g.get("y3"))
        return PeriodSpec(s, e, "quarter", _ORDINALS[word.group(1)], year, basis=basis)
    if kind == "en_q_short":
        q = _ORDINALS[g.get("q1") or g.get("q2") or g["q3"]]
        return PeriodSpec(s, e, "quarter", q, _year(g.get("y1") or g.get("y2")), basis=basis)
    if kind == "en_q_noyear":
        word = re.search(_Q_WORD, text)
        q = _ORDINALS[word.group(1)] if word else int(g["q1"])
        return PeriodSpec(s, e, "quarter", q, relative=0, basis=basis)
    if kind == "en_half":
        h = g.get("h") or g.get("h2") or g.get("h3")
        index = 1 if h in {"first", "1"} else 2
        year = _year(g.get("y1") or g.get("y2") or g.get("y3"))
        return PeriodSpec(s, e, "half", index, year, relative=None if year else 0, basis=basis)
    if kind == "en_9m":
        year = _year(g.get("y1"))
        return PeriodSpec(s, e, "nine_months", year=year, relative=None if year else 0)
    if kind == "en_fy":
        year = _year(g.get("y1") or g.get("y2"))
        return PeriodSpec(s, e, "year", year=year, basis="calendar" if g.get("cal") else "fiscal")
    if kind in {"en_this", "en_last", "en_next"}:
        unit = g.get("u") or g.get("u2")
        rel = {"en_this": 0, "en_last": -1, "en_next": 1}[kind]
        return PeriodSpec(s, e, unit, relative=rel)
    if kind == "en_year":
        return PeriodSpec(s, e, "year", year=_year(g.get("y1") or g.get("y2")))
    return None


@dataclass(frozen=True)
class Period:
    """A resolved period: dates, the reading taken, and a label for people."""

    start: date
    end: date
    basis: str  # 'fiscal' | 'calendar'
    label: str
    quarters: int  # how many quarters it spans


_CAL = FiscalCalendar(12)
_RECENT_DAYS = 200


def resolve_period(
    spec: PeriodSpec, published: date, cal: FiscalCalendar, forecast: bool = False
) -> Period:
    """Dates of ``spec`` for a company with calendar ``cal``, for an article of ``published``."""
    basis = spec.basis or "fiscal"
    use = cal if basis == "fiscal" else _CAL
    prefix = "fiscal " if basis == "fiscal" and not use.is_calendar else ""

    def span(year: int, first_q: int, last_q: int) -> tuple[date, date]:
        return use.quarter(year, first_q)[0], use.quarter(year, last_q)[1]

    def pick(candidates: list[tuple[int, int, int]]) -> tuple[int, int, int]:
        """The latest ended within _RECENT_DAYS (else the next one); forecasts look ahead."""
        dated = [(span(y, a, b)[1], (y, a, b)) for y, a, b in candidates]
        past = [c for c in dated if c[0] <= published]
        future = [c for c in dated if c[0] > published]
        if forecast and future:
            return min(future)[1]
        if past and (published - max(past)[0]).days <= _RECENT_DAYS:
            return max(past)[1]
        return min(future)[1] if future else max(past)[1]

    this_year = use.fiscal_year_of(published)
    years = [this_year - 2, this_year - 1, this_year, this_year + 1]
    if spec.kind == "quarter":
        if spec.year is not None:
            y, a, b = spec.year, spec.index, spec.index
        elif spec.index is not None:
            y, a, b = pick([(y, spec.index, spec.index) for y in years])
        else:  # "this quarter", "last quarter": the latest ended quarter
            y, a, b = pick([(y, q, q) for y in years for q in range(1, 5)])
            if spec.relative == 1:
                y, a = (y, a + 1) if a < 4 else (y + 1, 1)
                b = a
        label = f"{prefix}Q{a} {y}" if prefix else f"Q{a} {y}"
    elif spec.kind == "half":
        first = 1 if spec.index == 1 else 3
        y = spec.year if spec.year is not None else pick([(y, first, first + 1) for y in years])[0]
        a, b = first, first + 1
        label = f"{prefix}H{spec.index} {y}" if prefix else f"H{spec.index} {y}"
    elif spec.kind == "nine_months":
        y = spec.year if spec.year is not None else pick([(y, 1, 3) for y in years])[0]
        a, b = 1, 3
        label = f"{prefix}9M {y}" if prefix else f"9M {y}"
    else:  # year
        if spec.year is not None:
            y = spec.year
        elif spec.relative == 0:
            y = this_year
        elif spec.relative == 1:
            y = this_year + 1
        else:
            y = this_year - 1
        a, b = 1, 4
        label = f"fiscal {y}" if prefix else str(y)
    start, end = span(y, a, b)
    if basis == "calendar" and not cal.is_calendar:
        label = f"calendar {label}"
    return Period(start, end, basis, label, b - a + 1)


def shift_period(period: Period, by: str, cal: FiscalCalendar) -> Period:
    """The same period a year (or a quarter) earlier."""
    use = cal if period.basis == "fiscal" else _CAL
    quarters = _quarters_of(period, use)
    if not quarters:
        days = 364 if by == "year" else 91
        return Period(
            period.start - timedelta(days=days),
            period.end - timedelta(days=days),
            period.basis,
            f"{period.label} − 1 {by}",
            period.quarters,
        )
    step = 4 if by == "year" else 1
    shifted = []
    for y, q in quarters:
        index = y * 4 + (q - 1) - step
        shifted.append((index // 4, index % 4 + 1))
    start = use.quarter(*shifted[0])[0]
    end = use.quarter(*shifted[-1])[1]
    label = f"{period.label} − 1 {by}"
    return Period(start, end, period.basis, label, period.quarters)


def _quarters_of(period: Period, cal: FiscalCalendar) -> list[tuple[int, int]]:
    year = cal.fiscal_year_of(period.end)
    found = []
    for y in (year - 1, year):
        for q in range(1, 5):
            start, end = cal.quarter(y, q)
            if start >= period.start - timedelta(days=6) and end <= period.end + timedelta(days=6):
                found.append((y, q))
    return found


# --- claims -------------------------------------------------------------------------------

CLAIM_SCHEMA = NEWS_CLAIMS.columns


@dataclass
class _Figure:
    position: int
    end: int
    text: str
    value: float
    low: float | None
    high: float | None
    unit: str
    currency: str | None
    precision: float
    change: bool
    metric: str | None = None
    segment: str | None = None
    ticker: str | None = None
    aggregate: list[str] | None = None
    period: Period | None = None
    forecast: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def is_level_money(self) -> bool:
        return self.unit in {"money", "count"} and not self.change


class ClaimResolver:
    """Resolves figures into claims; holds the vocabulary and the companies' calendars."""

    def __init__(
        self,
        calendars: Mapping[str, FiscalCalendar] | None = None,
        companies: CompanyFinder | None = None,
        segments: Mapping[str, list[tuple[str, str]]] | None = None,
    ):
        self.calendars = dict(calendars or {})
        self.companies = companies or CompanyFinder.from_seed()
        self.segments = dict(segments if segments is not None else _load_segments())
        self.segment_re = {
            ticker: (_word_regex([a for a, _ in pairs], ignore_case=False), dict(pairs))
            for ticker, pairs in self.segments.items()
        }

    def calendar(self, ticker: str | None) -> FiscalCalendar:
        return self.calendars.get(ticker or "", _CAL)

    # --- one article ---
    def article_claims(
        self,
        article_id: str,
        published_at: datetime | None,
        sentences: list[tuple[int, str]],
        figures: Mapping[int, list[dict]],
    ) -> list[dict]:
        """Claims of one article. ``figures`` maps sentence_no to its figures (dicts of
        news_numbers rows)."""
        published = published_at.date() if published_at else None
        mentions = {no: self.companies.find(text) for no, text in sentences}
        periods = {no: find_periods(text) for no, text in sentences}
        focus_company = next((m[0].value for no, _ in sentences if (m := mentions[no])), None)
        focus_spec = next(
            (p for no, _ in sentences for p in periods[no] if p.kind != "comparative"), None
        )
        money_currencies = [
            f["currency"] for rows in figures.values() for f in rows if f["currency"]
        ]
        default_currency = (
            max(set(money_currencies), key=money_currencies.count) if money_currencies else "USD"
        )
        claims: list[dict] = []
        for no, sentence in sentences:
            sentence_mentions = mentions[no]
            sentence_periods = periods[no]
            own_specs = [p for p in sentence_periods if p.kind != "comparative"]
            rows = [
                _Figure(
                    position=f["position"],
                    end=f["position"] + len(f["text"]),
                    text=f["text"],
                    value=f["value"],
                    low=f["low"],
                    high=f["high"],
                    unit=f["unit"],
                    currency=f["currency"],
                    precision=f["precision"],
                    change=bool(f["change"]),
                )
                for f in figures.get(no, [])
            ]
            for i, fig in enumerate(rows):
                self._company(fig, sentence, sentence_mentions, focus_company)
                self._metric(fig, sentence, rows[:i], rows[i + 1 :])
            for i, fig in enumerate(rows):
                if fig.metric is None:
                    continue
                cue = _FORECAST_CUE.search(sentence, 0, fig.position)
                fig.forecast = cue is not None
                if published is None:
                    fig.notes.append("publication date unknown: period not resolved")
                    continue
                cal = self.calendar(fig.ticker)
                spec, comparative = self._period_spec(
                    fig, sentence, sentence_periods, rows, i, own_specs, focus_spec
                )
                if spec is None:
                    fig.notes.append("no period named in the article")
                    continue
                period = resolve_period(spec, published, cal, forecast=fig.forecast)
                if comparative:
                    period = shift_period(period, comparative, cal)
                fig.period = period
                if period.end > published:
                    fig.forecast = True
                if not cal.is_calendar and spec.basis is None and fig.ticker:
                    fig.notes.append(
                        f"fiscal reading: {fig.ticker} {period.label} "
                        f"({period.start} to {period.end}); the text names no basis"
                    )
            # the focus moves to a company named alone in this sentence
            if sentence_mentions and len({m.value for m in sentence_mentions}) == 1:
                focus_company = sentence_mentions[0].value
            if own_specs:
                focus_spec = own_specs[0]
            for fig in rows:
                claim = self._claim(article_id, published_at, no, sentence, fig, default_currency)
                if claim is not None:
                    claims.append(claim)
        return claims

    def _company(self, fig: _Figure, sentence: str, mentions: list[Mention], focus) -> None:
        before = [m for m in mentions if m.end <= fig.position]
        after = [m for m in mentions if m.start >= fig.end]
        chosen = before[-1] if before else (after[0] if after else None)
        if chosen is None:
            fig.ticker = focus
            return
        # a list of companies right before the figure ("A, B and C together spent")
        group = [chosen]
        ordered = before if chosen in before else after
        index = ordered.index(chosen)
        step = -1 if chosen in before else 1
        j = index + step
        while 0 <= j < len(ordered):
            left, right = (ordered[j], group[-1]) if step == -1 else (group[-1], ordered[j])
            if not _LIST_GAP.match(sentence[left.end : right.start]):
                break
            group.append(ordered[j])
            j += step
        tickers = list(dict.fromkeys(m.value for m in group))
        if len(tickers) > 1 or (
            _AGGREGATE_CUE.search(sentence) and len({m.value for m in mentions}) > 1
        ):
            fig.aggregate = sorted(set(tickers) | {m.value for m in mentions})
            fig.ticker = None
        else:
            fig.ticker = chosen.value

    def _metric_mentions(self, sentence: str, ticker: str | None) -> list[Mention]:
        found: list[Mention] = []
        for pattern, metric in _METRIC_RE:
            for m in pattern.finditer(sentence):
                if not any(m.start() < x.end and x.start < m.end() for x in found):
                    found.append(Mention(m.start(), m.end(), metric))
        if ticker in self.segment_re:
            regex, names = self.segment_re[ticker]
            for m in regex.finditer(sentence):
                found.append(Mention(m.start(), m.end(), "segment", names[m.group(0)]))
        return sorted(found, key=lambda x: x.start)

    def _metric(self, fig: _Figure, sentence: str, earlier: list[_Figure], later) -> None:
        words = self._metric_mentions(sentence, fig.ticker)
        metric_words = [w for w in words if w.value != "segment"]
        segments = [w for w in words if w.value == "segment"]
        chosen = None
        # "$52.5 billion on capital expenditures", "$84.7 billion in revenue"
        for w in metric_words:
            if w.start >= fig.end and re.fullmatch(
                r"\s*(?:in|of|on|for|worth of)\s+(?:(?:its|the|total|quarterly|annual)\s+)*",
                sentence[fig.end : w.start],
                re.IGNORECASE,
            ):
                chosen = w
                break
        if chosen is None:
            before = [w for w in metric_words if w.end <= fig.position]
            if before:
                candidate = before[-1]
                between = [f for f in earlier if f.position >= candidate.end]
                if fig.change or not any(f.is_level_money for f in between):
                    chosen = candidate
        if chosen is None and earlier and fig.is_level_money:
            # "..., compared with $6.9 billion": the earlier figure's metric, a period before
            prev = next((f for f in reversed(earlier) if f.is_level_money and f.metric), None)
            if prev is not None and _COMPARE_CUE.search(sentence[prev.end : fig.position]):
                fig.metric, fig.segment = prev.metric, prev.segment
                fig.notes.append("comparison with the figure before it")
                return
        if chosen is None:
            return
        metric = chosen.value
        # a segment named right before the metric word ("Google Cloud revenue", "数据中心业务收入")
        segment = None
        if metric == "revenue":
            for s in segments:
                right_before = s.end <= chosen.start and chosen.start - s.end <= 12
                right_after = s.start >= chosen.end and re.fullmatch(
                    r"\s*(?:from|at|of|in)\s+(?:the\s+)?", sentence[chosen.end : s.start]
                )
                if right_before or right_after:
                    segment = s.segment
        if fig.unit in {"percent", "percentage_points"}:
            if not fig.change or metric not in FILED_METRICS:
                if metric == "operating_margin" and not fig.change:
                    fig.metric = metric
                return
            text_after = sentence[fig.position : (later[0].position if later else len(sentence))]
            metric = f"{metric}_{'qoq' if _QOQ_CUE.search(text_after) else 'yoy'}"
        elif fig.change:
            return  # "rose $2 billion": a change in money, not a level the filings state
        elif metric not in _MONEY_METRICS:
            return
        fig.metric, fig.segment = metric, segment

    def _period_spec(self, fig, sentence, specs, rows, i, own_specs, focus_spec):
        """(spec, comparative shift or None) for figure ``i`` of a sentence."""
        others = [r.position for j, r in enumerate(rows) if j != i and r.is_level_money]
        base = own_specs[0] if own_specs else focus_spec
        if fig.text.lower().startswith("from "):
            shift = "quarter" if _QOQ_CUE.search(sentence) else "year"
            return base, shift
        usable = []
        for spec in specs:
            lo, hi = sorted((spec.start, fig.position))
            if fig.is_level_money and any(lo < p < hi for p in others):
                continue
            distance = spec.start - fig.end if spec.start >= fig.end else fig.position - spec.end
            usable.append((distance, spec))
        if fig.change:
            usable = [u for u in usable if u[1].kind != "comparative"]
        if "comparison with the figure before it" in fig.notes and not any(
            u[1].kind == "comparative" for u in usable
        ):
            return base, "year"
        if usable:
            spec = min(usable, key=lambda u: u[0])[1]
            if spec.kind == "comparative":
                return base, spec.shift
            return spec, None
        return base, None

    def _claim(self, article_id, published_at, no, sentence, fig: _Figure, default_currency):
        if fig.metric is None:
            return None
        currency, value_unit = fig.currency, fig.unit
        notes = list(fig.notes)
        is_money = fig.metric in _MONEY_METRICS
        if is_money and fig.unit == "count":
            if fig.precision < 0.5e3:  # no scale word either: not an amount of money
                return None
            currency, value_unit = default_currency, "money"
            notes.append(f"currency not stated; read as {default_currency}")
        if fig.aggregate:
            notes.append("figure for several companies together: " + ", ".join(fig.aggregate))
        key = f"{article_id}|{no}|{fig.position}"
        period = fig.period
        return {
            "claim_id": hashlib.sha256(key.encode()).hexdigest()[:16],
            "article_id": article_id,
            "sentence": sentence,
            "ticker": fig.ticker,
            "metric": fig.metric,
            "segment": fig.segment,
            "period_start": period.start if period else None,
            "period_end": period.end if period else None,
            "value": fig.value,
            "low": fig.low,
            "high": fig.high,
            "unit": value_unit,
            "currency": currency,
            "value_usd": None,
            "precision_usd": fig.precision,
            "period_basis": period.basis if period else None,
            "period_label": period.label if period else None,
            "forecast": fig.forecast,
            "published_at": published_at,
            "note": "; ".join(notes) or None,
        }


def resolve_claims(
    articles: pl.DataFrame,
    numbers: pl.DataFrame,
    sentences: pl.DataFrame,
    resolver: ClaimResolver,
    fx_rates: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Claims (columns :data:`CLAIM_SCHEMA`) of ``articles`` from their ``numbers``.

    ``fx_rates`` (rate_date, currency, per_eur) converts non-USD money to ``value_usd``.
    """
    by_article: dict[str, dict[int, list[dict]]] = {}
    for row in numbers.sort("article_id", "sentence_no", "position").iter_rows(named=True):
        by_article.setdefault(row["article_id"], {}).setdefault(row["sentence_no"], []).append(row)
    text_of: dict[str, list[tuple[int, str]]] = {}
    for article_id, no, sentence in sentences.sort("article_id", "sentence_no").iter_rows():
        text_of.setdefault(article_id, []).append((no, sentence))
    claims: list[dict] = []
    for article_id, published_at in articles.select("article_id", "published_at").iter_rows():
        claims.extend(
            resolver.article_claims(
                article_id,
                published_at,
                text_of.get(article_id, []),
                by_article.get(article_id, {}),
            )
        )
    frame = pl.DataFrame(claims, schema=CLAIM_SCHEMA)
    return convert_to_usd(frame, fx_rates)


def usd_per_unit(fx_rates: pl.DataFrame) -> pl.DataFrame:
    """(rate_date, currency, usd_per_unit) from ECB rates quoted per euro."""
    usd = fx_rates.filter(pl.col("currency") == "USD").select(
        "rate_date", usd_per_eur=pl.col("per_eur")
    )
    per_currency = fx_rates.join(usd, on="rate_date").select(
        "rate_date", "currency", usd_per_unit=pl.col("usd_per_eur") / pl.col("per_eur")
    )
    euro = usd.select("rate_date", currency=pl.lit("EUR"), usd_per_unit=pl.col("usd_per_eur"))
    return pl.concat([per_currency.filter(pl.col("currency") != "USD"), euro]).sort(
        "currency", "rate_date"
    )


def convert_to_usd(claims: pl.DataFrame, fx_rates: pl.DataFrame | None) -> pl.DataFrame:
    """Fill ``value_usd`` (and the precision in USD): USD as is, other currencies at the last
    ECB rate on or before the publication date (at most 7 days before), else null with a note."""
    is_usd = pl.col("currency") == "USD"
    if fx_rates is None or fx_rates.height == 0 or claims.height == 0:
        return claims.with_columns(
            value_usd=pl.when(is_usd).then(pl.col("value")),
            precision_usd=pl.when(is_usd | pl.col("currency").is_null()).then(
                pl.col("precision_usd")
            ),
            note=pl.when(pl.col("currency").is_not_null() & ~is_usd)
            .then(
                pl.concat_str(
                    [pl.col("note"), pl.lit("no FX rate loaded")], separator="; ", ignore_nulls=True
                )
            )
            .otherwise(pl.col("note")),
        ).select(list(CLAIM_SCHEMA))
    rates = usd_per_unit(fx_rates)
    keyed = claims.with_row_index("_row").with_columns(_day=pl.col("published_at").dt.date())
    foreign = (
        keyed.filter(pl.col("currency").is_not_null() & ~is_usd & pl.col("_day").is_not_null())
        .sort("_day")
        .join_asof(
            rates.rename({"rate_date": "_rate_day"}).sort("_rate_day"),
            left_on="_day",
            right_on="_rate_day",
            by="currency",
            strategy="backward",
            tolerance=timedelta(days=7),
            check_sortedness=False,  # both sides are sorted by date above
        )
        .select("_row", "_rate_day", "usd_per_unit")
    )
    out = keyed.join(foreign, on="_row", how="left").sort("_row")
    rate = pl.col("usd_per_unit")
    note_fx = pl.format(
        "{} converted at the ECB reference rate of {} ({} USD per {})",
        pl.col("currency"),
        pl.col("_rate_day"),
        rate.round(6),
        pl.col("currency"),
    )
    return out.with_columns(
        value_usd=pl.when(is_usd).then(pl.col("value")).otherwise(pl.col("value") * rate),
        precision_usd=pl.when(is_usd | pl.col("currency").is_null())
        .then(pl.col("precision_usd"))
        .otherwise(pl.col("precision_usd") * rate),
        note=pl.when(pl.col("currency").is_not_null() & ~is_usd)
        .then(
            pl.concat_str(
                [
                    pl.col("note"),
                    pl.when(rate.is_null())
                    .then(pl.lit("no FX rate within 7 days"))
                    .otherwise(note_fx),
                ],
                separator="; ",
                ignore_nulls=True,
            )
        )
        .otherwise(pl.col("note")),
    ).select(list(CLAIM_SCHEMA))
