"""Which metric: the metric word (and segment) a figure of a sentence belongs to."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pipelines.news.claims.figure import Figure
from pipelines.news.claims.vocabulary import (
    CLAUSE_END,
    COMPARE_CUE,
    FILED_METRICS,
    MONEY_METRICS,
    QOQ_CUE,
    Mention,
)

# a metric word right after its figure: "$52.5 billion on capital expenditures"
_FIGURE_THEN_WORD = re.compile(
    r"\s*(?:(?:in|of|on|for|worth of)\s+(?:(?:its|the|total|quarterly|annual)\s+)*|的)",
    re.IGNORECASE,
)
_ELABORATION = re.compile(
    r"(?:^|[,，]\s*|\s)(?:at|reaching|hitting|coming in at|to|达到了?|达|为|至)\s*$", re.IGNORECASE
)
_RIGHT_AFTER = re.compile(r"\s*[,，(（]?\s*(?:or\s+|and\s+)?")
_FIGURE_LIST = re.compile(r"\s*(?:,|，|、|and|和|与|及)\s*", re.IGNORECASE)
# "Amazon spent $83.0 billion, Alphabet $52.5 billion", "..., and dwarfed Meta's $27.0 billion"
_PARALLEL = re.compile(r"[^$]*(?:,|，|、|;|；|\band\b|和|而)[^$]*", re.IGNORECASE)
# ... and nothing but the separator right before the company: a plain list of subjects
_PLAIN_PARALLEL = re.compile(r"[^$]*(?:,|，|、|;|；)\s*(?:and\s+|和|及)?", re.IGNORECASE)
_POSSESSIVE = re.compile(r"\s*(?:'s|’s|的)?\s*")
_SEGMENT_THEN_WORD = re.compile(r"\s*(?:from|at|of|in)\s+(?:the\s+)?")


class MetricWords:
    """Metric words of the seed and each company's segment names."""

    def __init__(
        self,
        metric_words: list[tuple[re.Pattern, str, bool]],
        segment_re: Mapping[str, tuple[re.Pattern, dict[str, str]]],
    ):
        self.metric_words = metric_words
        self.segment_re = dict(segment_re)
        # a sentence's words are asked for once per figure: keep the last sentence's
        self._cached: tuple[str, str | None, list[Mention]] | None = None

    def mentions(self, sentence: str, ticker: str | None) -> list[Mention]:
        """Metric words (earlier seed metrics win overlaps) and ``ticker``'s segment names."""
        if self._cached is not None and self._cached[:2] == (sentence, ticker):
            return self._cached[2]
        found: list[Mention] = []
        for pattern, metric, sure in self.metric_words:
            for m in pattern.finditer(sentence):
                if not any(m.start() < x.end and x.start < m.end() for x in found):
                    found.append(Mention(m.start(), m.end(), metric, sure=sure))
        if ticker in self.segment_re:
            regex, names = self.segment_re[ticker]
            for m in regex.finditer(sentence):
                found.append(Mention(m.start(), m.end(), "segment", names[m.group(0).lower()]))
        found.sort(key=lambda x: x.start)
        self._cached = (sentence, ticker, found)
        return found

    def resolve(
        self,
        fig: Figure,
        sentence: str,
        earlier: list[Figure],
        later: list[Figure],
        companies: list[Mention] | None = None,
    ) -> None:
        """Set ``fig.metric`` and ``fig.segment`` (left None when the figure is no claim)."""
        words = self.mentions(sentence, fig.ticker)
        metric_words = [w for w in words if w.value != "segment"]
        segments = [w for w in words if w.value == "segment"]
        if _follows(fig, sentence, earlier, later):
            return
        chosen = _word_of(fig, sentence, metric_words, earlier)
        borrowed = chosen is not None and _owned_by_earlier(chosen, sentence, earlier)
        if (chosen is None or borrowed) and _inherits(fig, sentence, earlier, companies or []):
            return
        if borrowed:
            # "$52.5 billion on capital expenditures, while Meta's founder is worth $200 billion"
            fig.doubt(
                f"metric: {sentence[chosen.start : chosen.end]!r} is the figure before's", 0.5
            )
        segment = _segment_of(fig, chosen, sentence, segments, companies or [])
        if segment is None and chosen is not None:
            segment = _subject_segment(fig, sentence, segments, companies or [], earlier)
            if segment is not None:
                fig.doubt(f"segment: {segment.segment!r} read as the sentence's subject", 0.7)
        if chosen is None and segment is not None:
            chosen = Mention(segment.start, segment.end, "revenue")
            fig.doubt(f"metric not stated: read as the revenue of {segment.segment}", 0.6)
        if chosen is None:
            return
        metric = chosen.value
        if fig.unit in {"percent", "percentage_points"}:
            if not fig.change or metric not in FILED_METRICS:
                if metric == "operating_margin" and not fig.change:
                    fig.metric = metric
                    fig.segment = segment.segment if segment else None
                return
            text_after = sentence[fig.position : (later[0].position if later else len(sentence))]
            metric = f"{metric}_{'qoq' if QOQ_CUE.search(text_after) else 'yoy'}"
        elif fig.change:
            return  # "rose $2 billion": a change in money, not a level the filings state
        elif metric not in MONEY_METRICS:
            return
        fig.metric = metric
        fig.steps.append(f"metric: {metric}, from {sentence[chosen.start : chosen.end]!r}")
        if not chosen.sure:
            fig.doubt(f"metric: {sentence[chosen.start : chosen.end]!r} read as {metric}", 0.6)
        if segment is not None:
            fig.segment = segment.segment
            fig.steps.append(
                f"segment: {segment.segment}, from {sentence[segment.start : segment.end]!r}"
            )


def _follows(fig: Figure, sentence: str, earlier: list[Figure], later: list[Figure]) -> bool:
    """A figure that only qualifies the one right before it: the exact value of a bound
    ("topped $80 billion, at $81.5 billion") or its growth ("reaching $10.3 billion, up 29%")."""
    if _elaborates(fig, sentence, earlier):
        return True
    prev = earlier[-1] if earlier else None
    if prev is None or prev.metric not in FILED_METRICS or not prev.is_level_money:
        return False
    if (
        fig.unit != "percent"
        or not fig.change
        or not _RIGHT_AFTER.fullmatch(sentence[prev.end : fig.position])
    ):
        return False
    text_after = sentence[fig.position : (later[0].position if later else len(sentence))]
    fig.metric = f"{prev.metric}_{'qoq' if QOQ_CUE.search(text_after) else 'yoy'}"
    fig.segment = prev.segment
    fig.steps.append(f"metric: {fig.metric}, the growth of {prev.text!r} right before it")
    return True


def _subject_segment(
    fig: Figure,
    sentence: str,
    segments: list[Mention],
    companies: list[Mention],
    earlier: list[Figure],
) -> Mention | None:
    """The last segment named before the figure in its clause with no company and no other
    amount between: the sentence's subject ("the cloud business passed $10 billion in
    quarterly sales")."""
    before = [s for s in segments if s.end <= fig.position]
    if not before:
        return None
    s = before[-1]
    if CLAUSE_END.search(sentence, s.end, fig.position):
        return None
    if any(s.end <= f.position and f.is_level_money for f in earlier):
        return None
    if any(s.end <= c.start and c.end <= fig.position for c in companies):
        return None
    return s


def _owned_by_earlier(word: Mention, sentence: str, earlier: list[Figure]) -> bool:
    """Whether a metric word follows an earlier figure as its own ("$52.5 billion on capital
    expenditures")."""
    return any(
        f.end <= word.start and _FIGURE_THEN_WORD.fullmatch(sentence[f.end : word.start])
        for f in earlier
    )


def _inherits(fig: Figure, sentence: str, earlier: list[Figure], companies: list[Mention]) -> bool:
    """A figure with no metric word of its own that takes the metric of a figure before it:
    the exact value of a bound, a comparison, a parallel figure of another company, the next
    figure of a list. Returns whether it did."""
    if _elaborates(fig, sentence, earlier):
        return True
    prev = next((f for f in reversed(earlier) if f.is_level_money and f.metric), None)
    if prev is None or not fig.is_level_money:
        return False
    gap = sentence[prev.end : fig.position]
    if COMPARE_CUE.search(sentence[prev.end : fig.end]):
        # "..., compared with $6.9 billion": the earlier figure's metric, a period before
        fig.metric, fig.segment = prev.metric, prev.segment
        fig.notes.append("comparison with the figure before it")
        fig.steps.append("metric: that of the figure it is compared with")
        return True
    if any(prev.end <= f.position < fig.position for f in earlier if f is not prev):
        return False
    parallel = [
        gap[: c.start - prev.end]
        for c in companies
        if prev.end <= c.start
        and c.end <= fig.position
        and _PARALLEL.fullmatch(gap[: c.start - prev.end])
        and _POSSESSIVE.fullmatch(gap[c.end - prev.end :])
    ]
    listed = earlier[-1] is prev and _FIGURE_LIST.fullmatch(gap)
    if not (parallel or listed):
        return False
    # "Amazon spent $83.0 billion on capex, Alphabet $52.5 billion"; "$36.3 billion and
    # $26.5 billion, respectively"
    fig.metric, fig.segment = prev.metric, None if parallel else prev.segment
    fig.steps.append(f"metric: {prev.metric}, that of the figure listed before")
    if parallel and not _PLAIN_PARALLEL.fullmatch(parallel[-1]):
        # words between ("..., and dwarfed Meta's $27.0 billion") may change the metric
        fig.doubt(f"metric: read as {prev.metric}, that of the parallel figure before", 0.7)
    return True


def _elaborates(fig: Figure, sentence: str, earlier: list[Figure]) -> bool:
    """A figure giving the exact value of the bound before it ("topped $80 billion, at $81.5
    billion", "passed $40 billion ..., reaching $43.2 billion") takes the bound's metric."""
    prev = next((f for f in reversed(earlier) if f.metric), None)
    if prev is None or (prev.low is None) == (prev.high is None) or fig.unit != prev.unit:
        return False
    if fig.change or not _ELABORATION.search(sentence[prev.end : fig.position]):
        return False
    fig.metric, fig.segment = prev.metric, prev.segment
    fig.steps.append(f"metric: {prev.metric}, the exact value of the bound {prev.text!r}")
    return True


def _word_of(
    fig: Figure, sentence: str, metric_words: list[Mention], earlier: list[Figure]
) -> Mention | None:
    """The metric word right after the figure, else the nearest before it unless another
    level of money lies between them."""
    for w in metric_words:
        if w.start >= fig.end and _FIGURE_THEN_WORD.fullmatch(sentence[fig.end : w.start]):
            return w
    before = [w for w in metric_words if w.end <= fig.position]
    if before:
        candidate = before[-1]
        between = [f for f in earlier if f.position >= candidate.end]
        if fig.change or not any(f.is_level_money for f in between):
            return candidate
    return None


def _segment_of(
    fig: Figure,
    word: Mention | None,
    sentence: str,
    segments: list[Mention],
    companies: list[Mention],
) -> Mention | None:
    """The segment or product line a figure is about, if any.

    A segment named right before the metric word ("Google Cloud revenue", "数据中心业务收入"),
    right after it ("revenue from AWS"), between the metric word and the figure ("revenue rose
    14%, and Google Cloud grew 29%"), right after the figure ("$10.3 billion from Google
    Cloud"), before a figure whose metric word follows it ("Family of Apps generated $162.4
    billion of revenue"), or, with no metric word, the nearest before the figure ("the cloud
    business passed $5 billion"). A company named between the segment and the figure takes it back.
    """
    found = None
    for s in segments:
        if word is not None and word.value != "segment":
            right_before = s.end <= word.start and word.start - s.end <= 12
            right_after = s.start >= word.end and _SEGMENT_THEN_WORD.fullmatch(
                sentence[word.end : s.start]
            )
            between = word.end <= s.start and s.end <= fig.position
            inside = s.start <= word.start and word.end <= s.end  # "automotive revenues"
            # "Family of Apps generated $162.4 billion of revenue": the word follows the figure
            owner = word.start >= fig.end and s.end <= fig.position
            if right_before or right_after or between or owner or inside:
                found = s
        elif s.end <= fig.position:
            found = s
        if s.start >= fig.end and _SEGMENT_THEN_WORD.fullmatch(sentence[fig.end : s.start]):
            return s
    if found is None or found.start >= fig.end:
        return found
    lo, hi = sorted((found.end, fig.position))
    if any(lo <= c.start and c.end <= hi for c in companies):
        return None
    return found
