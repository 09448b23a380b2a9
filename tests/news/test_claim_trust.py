"""A fact-checker must never cry wolf (issue 11): one regression test per failure class.

The figures are the companies' published results: Alphabet's second quarter of 2024 (press
release of 2024-07-23: revenue 84,742 M, Google Cloud 10,347 M up 29%), NVIDIA's fiscal 2025
(operating income 81,453 M), Apple's December quarter of 2024 (net income 36,330 M) and
Alphabet's fourth quarter of 2024 (net income 26,536 M).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from pipelines.news.checks import check_claims
from pipelines.news.claims.resolver import ClaimResolver, resolve_claims
from pipelines.news.claims.sentences import article_sentences
from pipelines.news.numbers import extract_numbers, normalise

SEVEN = "AAPL,AMZN,GOOGL,META,MSFT,NVDA,TSLA"
JULY_2024 = datetime(2024, 7, 24, tzinfo=UTC)


def claims_of(text: str, published: datetime = JULY_2024) -> pl.DataFrame:
    articles = pl.DataFrame(
        {"article_id": ["a"], "title": [""], "published_at": [published], "body_text": [text]},
        schema_overrides={"published_at": pl.Datetime("us", "UTC")},
    )
    sentences = article_sentences(articles)
    return resolve_claims(articles, extract_numbers(sentences), sentences, ClaimResolver())


def alphabet_q2_2024_revenue() -> pl.DataFrame:
    """marts.metric_quarterly rows: Alphabet's revenue of Q2 2024 and Q2 2023 (10-Q)."""
    rows = [
        (2024, date(2024, 4, 1), date(2024, 6, 30), 84_742e6, "0001652044-24-000079"),
        (2023, date(2023, 4, 1), date(2023, 6, 30), 74_604e6, "0001652044-23-000070"),
    ]
    return pl.DataFrame(
        [
            {
                "ticker": "GOOGL",
                "metric": "revenue",
                "fiscal_year": year,
                "fiscal_quarter": 2,
                "calendar_year": year,
                "calendar_quarter": 2,
                "period_start": start,
                "period_end": end,
                "value": value,
                "concept": "RevenueFromContractWithCustomerExcludingAssessedTax",
                "derivation": "reported",
                "accession": accession,
                "filed": end,
            }
            for year, start, end, value, accession in rows
        ]
    )


def test_a_segment_figure_is_never_read_as_the_company_total():
    """Root cause: segment words were looked for only right next to the word "revenue", so
    "the cloud business ... $10.3 billion, up 29%" became Alphabet's total revenue and growth."""
    claims = claims_of(
        "Alphabet's cloud business passed $10 billion in quarterly sales for the first time in "
        "the second quarter, reaching $10.3 billion, up 29%."
    )
    got = claims.select("ticker", "segment", "metric", "value", "low").rows()
    assert got == [
        ("GOOGL", "Google Cloud", "revenue", 10.3e9, None),
        ("GOOGL", "Google Cloud", "revenue_yoy", 0.29, None),
    ]


def test_a_threshold_is_a_bound_and_the_exact_figure_wins():
    """Root cause: "topped", "passed", "突破" were no qualifiers, and a bound stood beside the
    exact figure of the same sentence as a claim of its own."""
    exact = claims_of(
        "NVIDIA's operating income for fiscal 2025 topped $80 billion, at $81.5 billion.",
        datetime(2025, 2, 27, tzinfo=UTC),
    )
    assert exact.select("metric", "value", "low", "high").rows() == [
        ("operating_income", 81.5e9, None, None)
    ]
    bound = claims_of("英伟达2025财年营业利润突破800亿美元。", datetime(2025, 2, 27, tzinfo=UTC))
    assert bound.select("ticker", "metric", "value", "low").rows() == [
        ("NVDA", "operating_income", 80e9, 80e9)
    ]


def test_a_group_figure_is_never_given_to_one_company():
    """Root cause: the nearest company name took the figure, so "the seven ... more than $100
    billion" became Apple's capex."""
    for text in (
        "Apple excepted, the Magnificent Seven spent more than $100 billion on capital "
        "expenditures in the second quarter.",
        "苹果之外，七巨头第二季度资本开支超过1000亿美元。",
    ):
        (claim,) = claims_of(text).to_dicts()
        assert (claim["ticker"], claim["subject"], claim["group_tickers"]) == (None, "group", SEVEN)
        assert claim["low"] == 100e9


def test_a_cny_amount_about_a_product_is_not_checked_as_company_income():
    """Root cause: a CNY amount was converted and checked against the USD filings as Alphabet's
    operating income; it depends on the writer's exchange rate (and here on a product)."""
    claims = claims_of("谷歌二季度营业利润约合人民币2300亿元。")
    checks = check_claims(claims, alphabet_q2_2024_revenue())
    assert checks["verdict"].to_list() == ["unverifiable"]
    assert "CNY amount" in checks["explanation"][0]


def test_several_companies_pair_with_their_own_figures():
    """Root cause: the nearest name before a figure took it, whatever lay between; with
    "respectively" the list pairs in order, and a name across a clause boundary is a doubt."""
    paired = claims_of(
        "Apple and Alphabet reported December-quarter net income of $36.3 billion and $26.5 "
        "billion, respectively.",
        datetime(2025, 2, 7, tzinfo=UTC),
    )
    assert paired.select("ticker", "metric", "value").rows() == [
        ("AAPL", "net_income", 36.3e9),
        ("GOOGL", "net_income", 26.5e9),
    ]
    (claim,) = claims_of(
        "Microsoft's second-quarter revenue trailed Alphabet's, at $90 billion."
    ).to_dicts()
    assert "subject ambiguous" in claim["unresolved"]


def test_an_unresolved_claim_is_never_a_mismatch():
    """Root cause: any filed value far from the claim was called a mismatch, even when the
    subject was a guess. $90 billion is 6% off Alphabet's 84,742 M, but the sentence does not
    say whose figure it is."""
    claims = claims_of("Microsoft's second-quarter revenue trailed Alphabet's, at $90 billion.")
    (check,) = check_claims(claims, alphabet_q2_2024_revenue()).to_dicts()
    assert check["verdict"] == "unverifiable"
    assert check["explanation"].startswith("not fully resolved (subject ambiguous")
    assert check["filed_value"] == 84_742e6
    resolved = claims_of("Alphabet's second-quarter revenue was $90 billion.")
    (check,) = check_claims(resolved, alphabet_q2_2024_revenue()).to_dicts()
    assert (check["verdict"], check["confidence"]) == ("mismatch", 1.0)


def test_numbers_in_words_are_read_whole_or_skipped():
    """Root cause: digits were the only figures; words must be read right or not at all."""
    assert [(f["text"], f["value"]) for f in normalise("about twenty-seven billion dollars")] == [
        ("about twenty-seven billion dollars", 27e9)
    ]
    assert [f["value"] for f in normalise("营收两千亿美元，数据中心一千一百五十二亿美元")] == [
        200e9,
        115.2e9,
    ]
    assert normalise("一二十亿美元") == []  # "one or two billion": not one number
    assert normalise("one of the three companies") == []
    (doubled,) = normalise("capital expenditures more than doubled")
    assert (doubled["value"], doubled["low"], doubled["unit"]) == (1.0, 1.0, "percent")


def test_a_parallel_figure_with_words_between_is_only_a_guess():
    """Root cause: "..., and <company>'s $X" took the metric of the figure before even when the
    words between could name another quantity (a founder's wealth is no capex)."""
    claims = claims_of(
        "Alphabet spent $52.5 billion on capital expenditures in 2024, while Meta's founder "
        "is worth $200 billion.",
        datetime(2025, 2, 6, tzinfo=UTC),
    )
    meta = claims.filter(pl.col("ticker") == "META").to_dicts()
    assert [c["unresolved"] is not None for c in meta] == [True]
    listed = claims_of(
        "Amazon spent $83.0 billion on capital expenditures in 2024, Alphabet $52.5 billion.",
        datetime(2025, 2, 6, tzinfo=UTC),
    )
    assert listed.select("ticker", "metric", "unresolved").rows() == [
        ("AMZN", "capex", None),
        ("GOOGL", "capex", None),
    ]
