"""Whose figure: the company, or the group of companies, a figure of a sentence speaks of."""

from __future__ import annotations

import re

from pipelines.news.claims.figure import Figure
from pipelines.news.claims.vocabulary import (
    AGGREGATE_CUE,
    CLAUSE_BREAK,
    CLAUSE_END,
    LIST_GAP,
    RESPECTIVELY,
    Group,
    Mention,
)


def resolve_company(
    fig: Figure,
    sentence: str,
    mentions: list[Mention],
    focus: str | None,
    groups: list[tuple[Mention, Group]] | None = None,
) -> None:
    """Set ``fig.ticker``, or ``fig.aggregate`` for several companies together.

    The nearest company named before the figure (else after it); none named: the company in
    focus. A group phrase ("the seven", "Big Tech", "七巨头") nearer the figure than any
    company, or a list of companies right before it ("A, B and C together spent"), makes an
    aggregate. With several companies in the sentence, a name cut off from the figure by a
    clause boundary is a guess by position: recorded as a doubt.
    """
    before = [m for m in mentions if m.end <= fig.position]
    after = [m for m in mentions if m.start >= fig.end]
    chosen = before[-1] if before else (after[0] if after else None)
    group = next((g for g in reversed(groups or []) if g[0].end <= fig.position), None)
    if group is not None and (
        chosen is None or chosen not in before or group[0].start > chosen.end
    ):
        _group_subject(fig, group[1], mentions)
        return
    if chosen is None:
        fig.ticker = focus
        if focus:
            fig.steps.append(f"company: {focus}, the company in focus (no name in the sentence)")
            fig.confidence *= 0.9
        return
    listed = _listed(chosen, before, after, sentence)
    tickers = list(dict.fromkeys(m.value for m in listed))
    distinct = {m.value for m in mentions}
    near = (
        sentence[min(chosen.end, fig.position) : fig.end]
        + re.split(r"[;；,，。]", sentence[fig.end : fig.end + 20])[0]
    )
    clause = [m.value for m in before if not CLAUSE_END.search(sentence[m.end : fig.position])]
    if len(tickers) > 1 or (AGGREGATE_CUE.search(near) and len(set(clause)) > 1):
        fig.aggregate = sorted(set(tickers) if len(tickers) > 1 else set(clause))
        fig.group_exact = True
        fig.ticker = None
        fig.steps.append("subject: the companies listed together, " + ", ".join(fig.aggregate))
        return
    fig.ticker = chosen.value
    where = "before" if chosen in before else "after"
    fig.steps.append(f"company: {chosen.value}, {sentence[chosen.start : chosen.end]!r} {where}")
    if len(distinct) > 1:
        gap = sentence[chosen.end : fig.position] if where == "before" else "after"
        if where == "after" or CLAUSE_BREAK.search(gap):
            fig.doubt(
                f"subject ambiguous: {len(distinct)} companies named in the sentence and "
                f"{chosen.value} is paired with the figure by position only",
                0.5,
            )


def pair_respectively(rows: list[Figure], sentence: str, mentions: list[Mention]) -> set[int]:
    """Pair a list of companies with as many figures after it when the sentence says
    "respectively" / "分别" ("Apple and Alphabet reported $36.3 billion and $26.5 billion,
    respectively"); returns the indices of the figures paired."""
    cue = RESPECTIVELY.search(sentence)
    if cue is None or len(mentions) < 2:
        return set()
    for end in range(len(mentions) - 1, 0, -1):
        listed = _listed(mentions[end], mentions[: end + 1], [], sentence)[::-1]
        tickers = [m.value for m in listed]
        if len(listed) < 2 or len(set(tickers)) != len(tickers):
            continue
        nearest = mentions[end + 1].start if end + 1 < len(mentions) else len(sentence)
        following = [
            i for i, f in enumerate(rows) if listed[-1].end <= f.position < min(cue.end(), nearest)
        ]
        if len(following) != len(listed):
            continue
        for i, mention in zip(following, listed, strict=True):
            rows[i].ticker = mention.value
            rows[i].steps.append(f"company: {mention.value}, paired by 'respectively'")
        return set(following)
    return set()


def _listed(chosen: Mention, before: list[Mention], after: list[Mention], sentence: str):
    """``chosen`` and the names listed next to it ("Microsoft, Alphabet and Amazon")."""
    group = [chosen]
    ordered = before if chosen in before else after
    step = -1 if chosen in before else 1
    j = ordered.index(chosen) + step
    while 0 <= j < len(ordered):
        left, right = (ordered[j], group[-1]) if step == -1 else (group[-1], ordered[j])
        if not LIST_GAP.match(sentence[left.end : right.start]):
            break
        group.append(ordered[j])
        j += step
    return group


def _group_subject(fig: Figure, group: Group, mentions: list[Mention]) -> None:
    """A figure about a group: its fixed members, else the companies the sentence names."""
    fig.ticker = None
    fig.group = group.alias
    named = sorted({m.value for m in mentions})
    if group.members:
        fig.aggregate = sorted(group.members)
        fig.group_exact = True
        fig.steps.append(f"subject: group {group.alias!r} = " + ", ".join(fig.aggregate))
    elif len(named) > 1:
        fig.aggregate = named
        fig.steps.append(f"subject: group {group.alias!r}, read as the companies named")
        fig.doubt(f"group {group.alias!r} does not say which companies it counts", 0.5)
    else:
        fig.steps.append(f"subject: group {group.alias!r} with no members named")
        fig.doubt(f"group {group.alias!r}: its members are not named", 0.3)
