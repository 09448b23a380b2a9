"""The labelled claim corpus (tests/fixtures/news/claim_corpus.json) run through the checker.

Shared by tests/news/test_claim_corpus.py and bench/bench_claims.py. Each case is one article
paragraph; each labelled figure is found among the claims by its text, and its outcome is the
claim's verdict, or 'dropped' when the figure gave no claim. 'close' is a disagreement with the
filings as much as 'mismatch' is, and counts as one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.market.ecb import parse_ecb_rates
from pipelines.news.checks import check_claims
from pipelines.news.claims.calendar import fiscal_calendars
from pipelines.news.claims.resolver import ClaimResolver, resolve_claims
from pipelines.news.claims.sentences import article_sentences
from pipelines.news.numbers import extract_numbers

CORPUS = Path(__file__).resolve().parent / "fixtures" / "news" / "claim_corpus.json"
VERDICTS = ("match", "mismatch", "unverifiable", "dropped")
TARGETS = {("mismatch", "precision"): 0.95, ("match", "precision"): 0.98, ("match", "recall"): 0.8}


def load_corpus(path: Path = CORPUS) -> list[dict]:
    """The labelled cases."""
    return json.loads(path.read_text(encoding="utf-8"))


def check_corpus(cases: list[dict], warehouse: Path) -> pl.DataFrame:
    """Claims joined with their checks for every case (article_id = case id)."""
    articles = pl.DataFrame(
        {
            "article_id": [c["id"] for c in cases],
            "title": [""] * len(cases),
            "published_at": [
                datetime.fromisoformat(c["published"]).replace(hour=12, tzinfo=UTC) for c in cases
            ],
            "body_text": [c["text"] for c in cases],
        },
        schema_overrides={"published_at": pl.Datetime("us", "UTC")},
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        fiscal = con.execute("SELECT * FROM staging.int_fiscal_quarters").pl()
        quarterly = con.execute("SELECT * FROM marts.metric_quarterly").pl()
        segments = con.execute("SELECT * FROM marts.segment_revenue").pl()
        annual = con.execute("SELECT * FROM staging.int_metric_annual").pl()
    finally:
        con.close()
    # the ECB rates of the news tests (a build without news sources loads none)
    rates = parse_ecb_rates((CORPUS.parent / "eurofxref-hist.csv").read_bytes())
    sentences = article_sentences(articles)
    numbers = extract_numbers(sentences)
    resolver = ClaimResolver(fiscal_calendars(fiscal))
    claims = resolve_claims(articles, numbers, sentences, resolver, rates)
    checks = check_claims(claims, quarterly, segments, annual)
    return claims.join(
        checks.select("claim_id", "verdict", "filed_value", "explanation"), on="claim_id"
    )


def outcomes(cases: list[dict], checked: pl.DataFrame) -> list[dict]:
    """One row per labelled figure: the label and what the checker made of it."""
    rows = []
    by_case = checked.partition_by("article_id", as_dict=True)
    for case in cases:
        claims = by_case.get((case["id"],), checked.clear()).to_dicts()
        for label in case["figures"]:
            claim = next(
                (
                    c
                    for c in claims
                    if label["text"] in c["sentence"]
                    and (c["figure"] in label["text"] or label["text"] in c["figure"])
                ),
                None,
            )
            got = "dropped" if claim is None else claim["verdict"]
            rows.append({"case": case["id"], "label": label, "claim": claim, "got": got})
    return rows


def agrees(expected: str, got: str) -> bool:
    """Whether an outcome agrees with a label: the same verdict, 'close' for 'mismatch', and
    'unverifiable' and 'dropped' (neither judges the figure) for each other."""
    if got == "close":
        got = "mismatch"
    quiet = {"unverifiable", "dropped"}
    return expected == got or (expected in quiet and got in quiet)


def scores(rows: list[dict]) -> dict[tuple[str, str], float | None]:
    """Precision and recall of each verdict (unverifiable and dropped scored as one)."""

    def norm(v: str) -> str:
        v = "mismatch" if v == "close" else v
        return "unverifiable" if v == "dropped" else v

    out: dict[tuple[str, str], float | None] = {}
    for verdict in ("match", "mismatch", "unverifiable"):
        predicted = [r for r in rows if norm(r["got"]) == verdict]
        actual = [r for r in rows if norm(r["label"]["verdict"]) == verdict]
        hits = [r for r in predicted if norm(r["label"]["verdict"]) == verdict]
        out[(verdict, "precision")] = len(hits) / len(predicted) if predicted else None
        out[(verdict, "recall")] = len(hits) / len(actual) if actual else None
    return out
