"""Which metric: the metric word (and segment) a figure of a sentence belongs to."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pipelines.news.claims.figure import Figure
from pipelines.news.claims.vocabulary import (
    COMPARE_CUE,
    FILED_METRICS,
    MONEY_METRICS,
    QOQ_CUE,
    Mention,
)

# a metric word right after its figure: "$52.5 billion on capital expenditures"
_FIGURE_THEN_WORD = re.compile(
    r"\s*(?:in|of|on|for|worth of)\s+(?:(?:its|the|total|quarterly|annual)\s+)*", re.IGNORECASE
)
_SEGMENT_THEN_WORD = re.compile(r"\s*(?:from|at|of|in)\s+(?:the\s+)?")


class MetricWords:
    """Metric words of the seed and each company's segment names."""

    def __init__(
        self,
        metric_words: list[tuple[re.Pattern, str]],
        segment_re: Mapping[str, tuple[re.Pattern, dict[str, str]]],
    ):
        self.metric_words = metric_words
        self.segment_re = dict(segment_re)

    def mentions(self, sentence: str, ticker: str | None) -> list[Mention]:
        """Metric words (earlier seed metrics win overlaps) and ``ticker``'s segment names."""
        found: list[Mention] = []
        for pattern, metric in self.metric_words:
            for m in pattern.finditer(sentence):
                if not any(m.start() < x.end and x.start < m.end() for x in found):
                    found.append(Mention(m.start(), m.end(), metric))
        if ticker in self.segment_re:
            regex, names = self.segment_re[ticker]
            for m in regex.finditer(sentence):
                found.append(Mention(m.start(), m.end(), "segment", names[m.group(0)]))
        return sorted(found, key=lambda x: x.start)

    def resolve(self, fig: Figure, sentence: str, earlier: list[Figure], later) -> None:
        """Set ``fig.metric`` and ``fig.segment`` (left None when the figure is no claim)."""
        words = self.mentions(sentence, fig.ticker)
        metric_words = [w for w in words if w.value != "segment"]
        segments = [w for w in words if w.value == "segment"]
        chosen = _word_of(fig, sentence, metric_words, earlier)
        if chosen is None and earlier and fig.is_level_money:
            # "..., compared with $6.9 billion": the earlier figure's metric, a period before
            prev = next((f for f in reversed(earlier) if f.is_level_money and f.metric), None)
            if prev is not None and COMPARE_CUE.search(sentence[prev.end : fig.position]):
                fig.metric, fig.segment = prev.metric, prev.segment
                fig.notes.append("comparison with the figure before it")
                return
        if chosen is None:
            return
        metric = chosen.value
        segment = _segment_of(chosen, sentence, segments) if metric == "revenue" else None
        if fig.unit in {"percent", "percentage_points"}:
            if not fig.change or metric not in FILED_METRICS:
                if metric == "operating_margin" and not fig.change:
                    fig.metric = metric
                return
            text_after = sentence[fig.position : (later[0].position if later else len(sentence))]
            metric = f"{metric}_{'qoq' if QOQ_CUE.search(text_after) else 'yoy'}"
        elif fig.change:
            return  # "rose $2 billion": a change in money, not a level the filings state
        elif metric not in MONEY_METRICS:
            return
        fig.metric, fig.segment = metric, segment


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


def _segment_of(word: Mention, sentence: str, segments: list[Mention]) -> str | None:
    """A segment named right before the metric word ("Google Cloud revenue", "数据中心业务收入")
    or right after it ("revenue from AWS")."""
    segment = None
    for s in segments:
        right_before = s.end <= word.start and word.start - s.end <= 12
        right_after = s.start >= word.end and _SEGMENT_THEN_WORD.fullmatch(
            sentence[word.end : s.start]
        )
        if right_before or right_after:
            segment = s.segment
    return segment
