"""Figures of an article → claims: each figure's company, metric and period, in that order.

The steps live in their own modules (:mod:`.subjects`, :mod:`.metrics`, :mod:`.periods`); this
module walks an article sentence by sentence, carries the company and period in focus from one
sentence to the next, and writes the claim rows.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from pipelines.news.claims.calendar import CALENDAR_YEAR, FiscalCalendar
from pipelines.news.claims.figure import Figure
from pipelines.news.claims.fx import convert_to_usd
from pipelines.news.claims.metrics import MetricWords
from pipelines.news.claims.periods import PeriodSpec, find_periods, resolve_period, shift_period
from pipelines.news.claims.schema import CLAIM_SCHEMA, PERIOD_DOUBT, SUBJECT_UNRESOLVED
from pipelines.news.claims.subjects import pair_respectively, resolve_company
from pipelines.news.claims.vocabulary import (
    CLAUSE_BREAK,
    CLAUSE_END,
    COMPARE_CUE,
    FORECAST_CUE,
    MONEY_METRICS,
    NEARLY,
    NEARLY_FLOOR,
    QOQ_CUE,
    UNNAMED_SEGMENT,
    CompanyFinder,
    GroupFinder,
    Mention,
    load_metric_words,
    load_segments,
    word_regex,
)

# a forecast cue reaches no further than its clause ("it expects $75 billion in 2025, ...
# after spending $52.5 billion in 2024")
_FORECAST_STOP = re.compile(r"[;；]|[,，]\s*(?:after|while|but|whereas)\b|而|但", re.IGNORECASE)
_NEW_CLAUSE = re.compile(r"\b(?:while|whereas|but)\b|而|但|;|；", re.IGNORECASE)
_FROM_FIGURE = re.compile(r"(?:(?:up|down)\s+)?from\s", re.IGNORECASE)


@dataclass
class _Focus:
    """What an article is about so far: the company, period and segment that sentences without
    one take."""

    company: str | None
    spec: PeriodSpec | None
    segment: tuple[str | None, str] | None = None
    metric: str | None = None


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
        self.groups = GroupFinder.from_seed()
        self.segments = dict(segments if segments is not None else load_segments())
        # segment name → the companies that have a segment of that name
        self.segment_owners: dict[str, set[str]] = {}
        for ticker, pairs in self.segments.items():
            for alias, _ in pairs:
                self.segment_owners.setdefault(alias.lower(), set()).add(ticker)
        self.words = MetricWords(
            load_metric_words(),
            {
                ticker: (
                    word_regex([a for a, _ in pairs], ignore_case=True),
                    {a.lower(): name for a, name in pairs},
                )
                for ticker, pairs in self.segments.items()
            },
        )

    def calendar(self, ticker: str | None) -> FiscalCalendar:
        """The fiscal calendar of ``ticker`` (the calendar year when unknown)."""
        return self.calendars.get(ticker or "", CALENDAR_YEAR)

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
        focus = _Focus(
            next((m[0].value for no, _ in sentences if (m := mentions[no])), None),
            next((p for no, _ in sentences for p in periods[no] if p.kind != "comparative"), None),
        )
        currencies = [f["currency"] for rows in figures.values() for f in rows if f["currency"]]
        default_currency = max(set(currencies), key=currencies.count) if currencies else "USD"
        claims: list[dict] = []
        for no, sentence in sentences:
            rows = [Figure.from_number(f) for f in figures.get(no, [])]
            self._sentence(sentence, rows, mentions[no], periods[no], focus, published)
            for fig in _exact_figures_win(rows):
                claim = _claim(article_id, published_at, no, sentence, fig, default_currency)
                if claim is not None:
                    claims.append(claim)
        return claims

    def _sentence(
        self,
        sentence: str,
        rows: list[Figure],
        mentions: list[Mention],
        specs: list[PeriodSpec],
        focus: _Focus,
        published: date | None,
    ) -> None:
        """Resolve the figures of one sentence, then move the focus."""
        own_specs = [p for p in specs if p.kind != "comparative"]
        groups = self.groups.find(sentence)
        paired = pair_respectively(rows, sentence, mentions)
        for i, fig in enumerate(rows):
            if i not in paired:
                resolve_company(fig, sentence, mentions, focus.company, groups)
            if fig.ticker is None and not fig.aggregate and not fig.group:
                self._company_of_segment(fig, sentence)
            self.words.resolve(fig, sentence, rows[:i], rows[i + 1 :], mentions)
            if fig.metric is None and fig.aggregate:
                _group_total_metric(fig, rows[:i])
            if fig.metric is None:
                self._carried_metric(fig, sentence, mentions, focus)
        for i, fig in enumerate(rows):
            if fig.metric is None:
                continue
            if fig.segment is None and UNNAMED_SEGMENT.search(sentence, 0, fig.position):
                _unnamed_segment(fig, focus)
            clause = [m.end() for m in _FORECAST_STOP.finditer(sentence, 0, fig.position)]
            start = clause[-1] if clause else 0
            fig.forecast = FORECAST_CUE.search(sentence, start, fig.position) is not None
            if published is None:
                fig.notes.append("publication date unknown: period not resolved")
                continue
            base = own_specs[0] if own_specs else focus.spec
            spec, comparative = _period_spec(fig, sentence, specs, rows, i, base)
            fig.spec = spec if not comparative else None
            if spec is not None and not own_specs and spec is focus.spec:
                fig.confidence *= 0.9
                fig.steps.append("period: the one an earlier sentence named")
            if spec is None:
                fig.notes.append("no period named in the article")
                continue
            self._period(fig, spec, comparative, published)
        # the focus moves to a company named alone in this sentence, and its segment
        if mentions and len({m.value for m in mentions}) == 1:
            if focus.company != mentions[0].value:
                focus.segment = None
            focus.company = mentions[0].value
        named = {w.segment for w in self.words.mentions(sentence, focus.company) if w.segment}
        if len(named) == 1:
            focus.segment = (focus.company, named.pop())
        if own_specs:
            focus.spec = own_specs[0]
        metrics = {f.metric for f in rows if f.metric in MONEY_METRICS}
        focus.metric = metrics.pop() if len(metrics) == 1 else None

    def _carried_metric(
        self, fig: Figure, sentence: str, mentions: list[Mention], focus: _Focus
    ) -> None:
        """ "Alphabet alone accounted for $13.2 billion.": a sentence with a company and an
        amount but no metric word speaks of the metric of the sentence before."""
        if not (focus.metric and mentions and fig.ticker and fig.is_level_money):
            return
        if any(not w.segment for w in self.words.mentions(sentence, None)):
            return  # the sentence has metric words of its own
        fig.metric = focus.metric
        fig.steps.append(f"metric: {focus.metric}, that of the sentence before")
        fig.doubt(f"metric not stated: read as {focus.metric}, as in the sentence before", 0.6)

    def _company_of_segment(self, fig: Figure, sentence: str) -> None:
        """No company named anywhere: a segment name only one company has tells whose it is
        ("Total automotive revenues were $19.9 billion": Tesla's)."""
        owners = {
            ticker
            for ticker, (regex, names) in self.words.segment_re.items()
            for m in regex.finditer(sentence)
            if self.segment_owners.get(m.group(0).lower()) == {ticker}
        }
        if len(owners) == 1:
            fig.ticker = owners.pop()
            fig.steps.append(f"company: {fig.ticker}, the only company with the segment named")
            fig.doubt(f"company not named: read as {fig.ticker} from its segment's name", 0.6)

    def _period(
        self, fig: Figure, spec: PeriodSpec, comparative: str | None, published: date
    ) -> None:
        """Dates of ``spec`` for the figure's company; a period not over makes a forecast."""
        cal = self.calendar(fig.ticker)
        period = resolve_period(spec, published, cal, forecast=fig.forecast)
        if comparative:
            period = shift_period(period, comparative, cal)
        fig.period = period
        if period.end > published:
            fig.forecast = True
        fig.steps.append(f"period: {period.label}, {period.start} to {period.end}")
        if not cal.is_calendar and spec.basis is None and spec.year is not None and fig.ticker:
            fig.notes.append(
                f"fiscal reading: {fig.ticker} {period.label} "
                f"({period.start} to {period.end}); the text names no basis"
            )
            fig.doubt(f"{PERIOD_DOUBT} {fig.ticker}'s fiscal or calendar {period.label}", 0.7)


def _group_total_metric(fig: Figure, earlier: list[Figure]) -> None:
    """ "Amazon spent $83.0 billion on capex, Alphabet $52.5 billion and Meta $37.3 billion;
    together the three poured $172.8 billion": a group's figure after its members' figures of
    one metric is their total."""
    members = [f for f in earlier if f.is_level_money and f.metric and f.ticker]
    metrics = {f.metric for f in members}
    if len(metrics) == 1 and {f.ticker for f in members} == set(fig.aggregate or []):
        fig.metric = metrics.pop()
        fig.steps.append(f"metric: {fig.metric}, the total of the members' figures before")


def _unnamed_segment(fig: Figure, focus: _Focus) -> None:
    """ "Revenue for the segment passed $40 billion": the segment the article spoke of just
    before, if it is this company's and the figure is revenue; else the subject is unknown."""
    if focus.segment and focus.segment[0] == fig.ticker and fig.metric.startswith("revenue"):
        fig.segment = focus.segment[1]
        fig.steps.append(f"segment: {fig.segment}, the segment named in an earlier sentence")
        fig.confidence *= 0.8
        return
    fig.doubt(f"{SUBJECT_UNRESOLVED} a segment or business the sentence does not name", 0.3)


def _period_spec(
    fig: Figure,
    sentence: str,
    specs: list[PeriodSpec],
    rows: list[Figure],
    i: int,
    base: PeriodSpec | None,
) -> tuple[PeriodSpec | None, str | None]:
    """(spec, comparative shift or None) for figure ``i`` of a sentence: the nearest period
    phrase it may take, else the period of the figure before it in the sentence, else ``base``
    (the sentence's or the article's)."""
    if _FROM_FIGURE.match(fig.text):  # "up from $13.5 billion a year earlier"
        shift = "quarter" if QOQ_CUE.search(sentence) else "year"
        return base, shift
    usable = _usable_specs(fig, sentence, specs, rows, i)
    if "comparison with the figure before it" in fig.notes and not any(
        u[1].kind == "comparative" for u in usable
    ):
        return base, "year"
    if usable:
        spec = min(usable, key=lambda u: u[0])[1]
        if spec.kind == "comparative":
            if spec.start >= fig.end and not COMPARE_CUE.search(
                sentence, max(0, fig.position - 30), fig.position
            ):
                fig.doubt(f"period: is {sentence[spec.start : spec.end]!r} this figure's?", 0.5)
            return base, spec.shift
        return spec, None
    previous = next((r for r in reversed(rows[:i]) if r.spec is not None), None)
    if previous is not None:  # "营收940.4亿美元，净利润234.3亿美元": the same period
        return previous.spec, None
    return base, None


def _usable_specs(
    fig: Figure, sentence: str, specs: list[PeriodSpec], rows: list[Figure], i: int
) -> list[tuple[int, PeriodSpec]]:
    """(distance, spec) of the period phrases figure ``i`` may take: none across another level
    of money, none in the next clause, no comparative phrase that belongs to another figure."""
    others = [r.position for j, r in enumerate(rows) if j != i and r.is_level_money]
    usable = []
    for spec in specs:
        lo, hi = sorted((spec.start, fig.position))
        if fig.is_level_money and any(lo < p < hi for p in others):
            continue
        if spec.start >= fig.end and CLAUSE_END.search(sentence, fig.end, spec.start):
            continue  # "…增长73%；全年营收…": the next clause's period
        if spec.kind == "comparative" and _belongs_elsewhere(spec, fig, sentence, rows, i):
            continue
        distance = spec.start - fig.end if spec.start >= fig.end else fig.position - spec.end
        usable.append((distance, spec))
    if fig.change:
        usable = [u for u in usable if u[1].kind != "comparative"]
    return usable


def _belongs_elsewhere(
    spec: PeriodSpec, fig: Figure, sentence: str, rows: list[Figure], i: int
) -> bool:
    """Whether a comparative phrase is another figure's: "…132亿美元，较去年同期的69亿美元"
    (a level of money after it), "up 4% from the December quarter a year earlier, and net
    income of $36.3 billion" (a figure before it in its clause)."""
    if spec.start >= fig.end:
        return any(
            (r.is_level_money and r.position >= spec.end) or fig.end <= r.position < spec.start
            for j, r in enumerate(rows)
            if j != i
        )
    if _NEW_CLAUSE.search(sentence, spec.end, fig.position):
        return True  # "... a year earlier, while operating income reached $129.0 billion"
    return any(
        j != i and r.end <= spec.start and not CLAUSE_BREAK.search(sentence, r.end, spec.start)
        for j, r in enumerate(rows)
        if r.position < fig.position
    )


def _exact_figures_win(rows: list[Figure]) -> list[Figure]:
    """The figures of a sentence without the bounds an exact figure of the same subject, metric
    and period supersedes ("passed $5 billion ..., reaching $5.6 billion")."""

    def key(fig: Figure) -> tuple:
        return (fig.ticker, fig.segment, fig.group, fig.metric, fig.period, fig.unit)

    exact = {key(f) for f in rows if f.metric and f.low is None and f.high is None}
    return [
        f
        for f in rows
        if f.low is None
        and f.high is None
        or f.low != f.high
        and None not in (f.low, f.high)
        or key(f) not in exact
    ]


def _claim(
    article_id: str,
    published_at: datetime | None,
    no: int,
    sentence: str,
    fig: Figure,
    default_currency: str,
) -> dict | None:
    """The claim row of a resolved figure (None when it names no metric or is no money)."""
    if fig.metric is None:
        return None
    currency, value_unit = fig.currency, fig.unit
    notes = list(fig.notes)
    if fig.metric in MONEY_METRICS and fig.unit == "count":
        if fig.precision < 0.5e3:  # no scale word either: not an amount of money
            return None
        currency, value_unit = default_currency, "money"
        notes.append(f"currency not stated; read as {default_currency}")
        fig.doubt(f"unit: no currency written (read as {default_currency})", 0.8)
    elif value_unit == "money" and currency != "USD":
        fig.doubt(f"currency: a {currency} figure, while the filings report USD", 0.5)
    if fig.aggregate or fig.group:
        members = ", ".join(fig.aggregate or []) or "not named"
        notes.append(f"figure for several companies together: {members}")
    low = fig.low
    if fig.qualifier in NEARLY and fig.high is not None and fig.low is None:
        low = fig.high * NEARLY_FLOOR  # "nearly $100 billion" is not $60 billion
    if fig.low is not None or fig.high is not None:
        fig.steps.append(
            "bound: "
            + ("at least" if fig.high is None else "at most" if fig.low is None else "range")
        )
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
        "low": low,
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
        "figure": fig.text,
        "subject": "group"
        if (fig.aggregate or fig.group)
        else ("segment" if fig.segment else "company"),
        "group_tickers": ",".join(fig.aggregate) if fig.aggregate else None,
        "confidence": round(fig.confidence, 3),
        "unresolved": "; ".join(fig.doubts) or None,
        "resolution": "; ".join(fig.steps) or None,
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
