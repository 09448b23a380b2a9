"""Benchmark: news extraction, number normalization and claim resolution (not a test).

The hand-written pages of tests/fixtures/news are extracted once; their sentences are then
repeated to N rows and run through the number normalizer (polars, vectorized) and the claim
resolver, best of 3. Reports rows per second for each stage.

    .venv/bin/python bench/bench_news.py [N]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import polars as pl

from pipelines.news.article_html import extract_article
from pipelines.news.claims.calendar import FiscalCalendar
from pipelines.news.claims.resolver import ClaimResolver, resolve_claims
from pipelines.news.claims.sentences import article_sentences
from pipelines.news.numbers import extract_numbers

PAGES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "news"


def best_of(runs: int, fn):
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(n: int) -> None:
    pages = [p for p in sorted(PAGES.glob("*.html")) if "index" not in p.name]
    html_s, articles = best_of(3, lambda: [extract_article(p.read_bytes(), p.name) for p in pages])
    per_page = html_s / len(pages) * 1000
    print(f"extract: {len(pages)} pages in {html_s * 1000:.1f} ms ({per_page:.1f} ms/page)")
    frame = pl.DataFrame(
        {
            "article_id": [a.url for a in articles],
            "title": [a.title for a in articles],
            "published_at": [a.published_at for a in articles],
            "body_text": [a.body_text for a in articles],
        }
    )
    sentences = article_sentences(frame)
    copies = max(1, n // sentences.height)
    many = pl.concat(
        [sentences.with_columns(pl.col("article_id") + f"#{i}") for i in range(copies)]
    )
    seconds, numbers = best_of(3, lambda: extract_numbers(many))
    print(
        f"numbers: {many.height:,} sentences → {numbers.height:,} figures in {seconds:.2f} s "
        f"({many.height / seconds:,.0f} sentences/s)"
    )
    many_articles = pl.concat(
        [frame.with_columns(pl.col("article_id") + f"#{i}") for i in range(copies)]
    )
    resolver = ClaimResolver({"NVDA": FiscalCalendar(1), "AAPL": FiscalCalendar(9)})
    seconds, claims = best_of(
        3, lambda: resolve_claims(many_articles, numbers, many, resolver, None)
    )
    print(
        f"claims: {many_articles.height:,} articles → {claims.height:,} claims in {seconds:.2f} s "
        f"({many_articles.height / seconds:,.0f} articles/s)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
