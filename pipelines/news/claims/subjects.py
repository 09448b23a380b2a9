"""Whose figure: the company a figure of a sentence speaks of."""

from __future__ import annotations

from pipelines.news.claims.figure import Figure
from pipelines.news.claims.vocabulary import AGGREGATE_CUE, LIST_GAP, Mention


def resolve_company(fig: Figure, sentence: str, mentions: list[Mention], focus: str | None) -> None:
    """Set ``fig.ticker`` (or ``fig.aggregate`` for several companies together).

    The nearest company named before the figure (else after it); none named: the company in
    focus. A list of companies right before the figure ("A, B and C together spent") is an
    aggregate.
    """
    before = [m for m in mentions if m.end <= fig.position]
    after = [m for m in mentions if m.start >= fig.end]
    chosen = before[-1] if before else (after[0] if after else None)
    if chosen is None:
        fig.ticker = focus
        return
    group = [chosen]
    ordered = before if chosen in before else after
    index = ordered.index(chosen)
    step = -1 if chosen in before else 1
    j = index + step
    while 0 <= j < len(ordered):
        left, right = (ordered[j], group[-1]) if step == -1 else (group[-1], ordered[j])
        if not LIST_GAP.match(sentence[left.end : right.start]):
            break
        group.append(ordered[j])
        j += step
    tickers = list(dict.fromkeys(m.value for m in group))
    if len(tickers) > 1 or (
        AGGREGATE_CUE.search(sentence) and len({m.value for m in mentions}) > 1
    ):
        fig.aggregate = sorted(set(tickers) | {m.value for m in mentions})
        fig.ticker = None
    else:
        fig.ticker = chosen.value
