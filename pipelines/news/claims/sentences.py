"""Article text → sentences: the unit claims are read in."""

from __future__ import annotations

import re

import polars as pl

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
