"""Claim resolution (company, metric, period, forecasts, FX) and the verdict rule.

Calendars and filed values are the companies' published ones: NVIDIA's fiscal 2025 second
quarter ran 2024-04-29 to 2024-07-28 (10-Q); Apple's fiscal 2024 ended 2024-09-28 (10-K).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from pipelines.market.ecb import parse_ecb_rates
from pipelines.news.checks import judge
from pipelines.news.claims.calendar import FiscalCalendar
from pipelines.news.claims.fx import convert_to_usd
from pipelines.news.claims.periods import find_periods, resolve_period
from pipelines.news.claims.resolver import ClaimResolver, resolve_claims
from pipelines.news.claims.schema import CLAIM_SCHEMA
from pipelines.news.claims.sentences import article_sentences, split_sentences
from pipelines.news.numbers import extract_numbers
from tests.news_server import NEWS

NVDA = FiscalCalendar.from_quarters(
    [
        (2025, 1, date(2024, 1, 29), date(2024, 4, 28)),
        (2025, 2, date(2024, 4, 29), date(2024, 7, 28)),
        (2025, 3, date(2024, 7, 29), date(2024, 10, 27)),
        (2025, 4, date(2024, 10, 28), date(2025, 1, 26)),
    ]
)
AAPL = FiscalCalendar(9)
CALENDARS = {"NVDA": NVDA, "AAPL": AAPL}


def claims_of(text: str, published: datetime, title: str = "") -> list[dict]:
    articles = pl.DataFrame(
        {"article_id": ["a"], "title": [title], "published_at": [published], "body_text": [text]},
        schema_overrides={"published_at": pl.Datetime("us", "UTC")},
    )
    sentences = article_sentences(articles)
    numbers = extract_numbers(sentences)
    claims = resolve_claims(articles, numbers, sentences, ClaimResolver(CALENDARS))
    return claims.to_dicts()


AUG_2024 = datetime(2024, 8, 1, tzinfo=UTC)


def test_sentences_split_at_full_stops_but_not_abbreviations_or_decimals():
    text = (
        "Alphabet Inc. reported revenue of $84.74 billion. The U.S. company said capex rose. "
        "On Aug. 1 it filed its 10-Q.\n\n营收300.4亿美元。净利润166亿美元！"
    )
    assert split_sentences(text) == [
        "Alphabet Inc. reported revenue of $84.74 billion.",
        "The U.S. company said capex rose.",
        "On Aug. 1 it filed its 10-Q.",
        "营收300.4亿美元。",
        "净利润166亿美元！",
    ]


@pytest.mark.parametrize(
    ("phrase", "ticker", "start", "end", "basis"),
    [
        # an article of August 2024: "the second quarter" is the one ended June 2024
        ("second quarter", None, "2024-04-01", "2024-06-30", "fiscal"),
        ("Q2", None, "2024-04-01", "2024-06-30", "fiscal"),
        ("second-quarter", None, "2024-04-01", "2024-06-30", "fiscal"),
        # a quarter named in August that ended over 200 days before is the coming one
        ("fourth quarter", None, "2024-10-01", "2024-12-31", "fiscal"),
        ("first quarter", None, "2024-01-01", "2024-03-31", "fiscal"),
        ("Q3 2023", None, "2023-07-01", "2023-09-30", "fiscal"),
        ("2Q24", None, "2024-04-01", "2024-06-30", "fiscal"),
        ("first half", None, "2024-01-01", "2024-06-30", "fiscal"),
        ("H1", None, "2024-01-01", "2024-06-30", "fiscal"),
        ("上半年", None, "2024-01-01", "2024-06-30", "fiscal"),
        ("2024年第二季度", None, "2024-04-01", "2024-06-30", "fiscal"),
        ("二季度", None, "2024-04-01", "2024-06-30", "fiscal"),
        ("last year", None, "2023-01-01", "2023-12-31", "fiscal"),
        ("去年", None, "2023-01-01", "2023-12-31", "fiscal"),
        ("in 2023", None, "2023-01-01", "2023-12-31", "fiscal"),
        ("this quarter", None, "2024-04-01", "2024-06-30", "fiscal"),
        # NVIDIA's own labels: fiscal 2025 Q2 ended 2024-07-28
        ("second quarter of fiscal 2025", "NVDA", "2024-04-29", "2024-07-28", "fiscal"),
        ("Q2 FY25", "NVDA", "2024-04-29", "2024-07-28", "fiscal"),
        ("2025财年第二季度", "NVDA", "2024-04-29", "2024-07-28", "fiscal"),
        ("第二财季", "NVDA", "2024-04-29", "2024-07-28", "fiscal"),
        ("second quarter", "NVDA", "2024-04-29", "2024-07-28", "fiscal"),
        ("fiscal 2025", "NVDA", "2024-01-29", "2025-01-26", "fiscal"),
        ("calendar 2023", "NVDA", "2023-01-01", "2023-12-31", "calendar"),
        # Apple: fiscal 2024 ran October 2023 to September 2024 (nominal month ends here)
        ("fiscal 2024", "AAPL", "2023-10-01", "2024-09-30", "fiscal"),
    ],
)
def test_periods_resolve_against_the_publication_date(phrase, ticker, start, end, basis):
    (spec,) = [s for s in find_periods(f"revenue in the {phrase} was") if s.kind != "comparative"]
    period = resolve_period(spec, AUG_2024.date(), CALENDARS.get(ticker, FiscalCalendar()))
    assert (str(period.start), str(period.end), period.basis) == (start, end, basis)


def test_nvidia_press_release_claims_in_fiscal_labels():
    text = (
        "For the second quarter of fiscal 2025, NVIDIA (NASDAQ: NVDA) recorded revenue of "
        "$30.04 billion. Revenue was up 122% from a year ago and up 15% from the previous "
        "quarter. GAAP net income for the quarter was $16.60 billion. Revenue for the third "
        "quarter is expected to be $32.5 billion, plus or minus 2%."
    )
    got = [
        (c["ticker"], c["metric"], str(c["period_start"]), str(c["period_end"]), c["value"],
         c["forecast"])
        for c in claims_of(text, datetime(2024, 8, 28, 20, 20, tzinfo=UTC))
    ]  # fmt: skip
    assert got == [
        ("NVDA", "revenue", "2024-04-29", "2024-07-28", 30.04e9, False),
        ("NVDA", "revenue_yoy", "2024-04-29", "2024-07-28", 1.22, False),
        ("NVDA", "revenue_qoq", "2024-04-29", "2024-07-28", 0.15, False),
        ("NVDA", "net_income", "2024-04-29", "2024-07-28", 16.6e9, False),
        ("NVDA", "revenue", "2024-07-29", "2024-10-27", 32.5e9, True),
    ]


def test_chinese_cashtag_and_company_in_focus():
    text = (
        "$英伟达 (NVDA.US)$ 公布2025财年第二季度业绩。公司第二财季营收300.4亿美元，同比增长122%。"
        "该公司净利润166亿美元。"
    )
    got = [(c["ticker"], c["metric"], c["value"]) for c in claims_of(text, AUG_2024)]
    assert got == [
        ("NVDA", "revenue", 30.04e9),
        ("NVDA", "revenue_yoy", 1.22),
        ("NVDA", "net_income", 16.6e9),
    ]


def test_pronouns_lists_comparisons_and_non_claims():
    text = (
        "Alphabet said capital expenditures were $13.2 billion in the second quarter, compared "
        "with $6.9 billion in the same period last year. Its net income rose to $23.62 billion. "
        "Microsoft, Alphabet, Amazon and Meta together spent more than $49 billion on capital "
        "expenditures in the quarter. Shares fell 2.5% and the company has 3.27 billion users."
    )
    got = [
        (c["ticker"], c["metric"], str(c["period_start"]), c["value"], c["low"])
        for c in claims_of(text, datetime(2024, 7, 24, tzinfo=UTC))
    ]
    assert got == [
        ("GOOGL", "capex", "2024-04-01", 13.2e9, None),
        ("GOOGL", "capex", "2023-04-01", 6.9e9, None),
        ("GOOGL", "net_income", "2024-04-01", 23.62e9, None),
        (None, "capex", "2024-04-01", 49e9, 49e9),
    ]


def test_a_figure_following_its_metric_and_guidance_words():
    text = (
        "Alphabet spent $52.5 billion on capital expenditures in 2024, and it said it expects "
        "to spend about $75 billion in 2025."
    )
    got = [(c["metric"], c["period_label"], c["forecast"]) for c in claims_of(
        text, datetime(2025, 2, 6, tzinfo=UTC))]  # fmt: skip
    assert got == [("capex", "2024", False), ("capex", "2025", True)]


def test_non_usd_values_use_the_ecb_rate_of_the_publication_day():
    rates = parse_ecb_rates((NEWS / "eurofxref-hist.csv").read_bytes())
    claims = pl.DataFrame(
        [
            {"claim_id": "1", "value": 7.8754e9, "currency": "CNY", "precision_usd": 5e6},
            {"claim_id": "2", "value": 1.0e9, "currency": "EUR", "precision_usd": 5e6},
            {"claim_id": "3", "value": 2.0e9, "currency": "USD", "precision_usd": 5e6},
            {"claim_id": "4", "value": 1.0e9, "currency": "GBP", "precision_usd": 5e6},
        ]
    ).with_columns(
        # 2024-08-31 is a Saturday: the Thursday 2024-08-29 rate applies; claim 4 is dated
        # 2024-06-01, with no rate in the 7 days before it in the test file
        published_at=pl.Series(
            [datetime(2024, 8, 31, tzinfo=UTC)] * 3 + [datetime(2024, 6, 1, tzinfo=UTC)]
        ).dt.cast_time_unit("us")
    )
    full = claims.with_columns(
        [pl.lit(None, dtype).alias(n) for n, dtype in CLAIM_SCHEMA.items() if n not in claims]
    ).select(list(CLAIM_SCHEMA))
    out = convert_to_usd(full.cast(CLAIM_SCHEMA), rates).sort("claim_id").to_dicts()  # type: ignore[arg-type]
    # 7.8754e9 CNY at 1.1106 USD / 7.8754 CNY per euro = 1.1106e9 USD
    assert out[0]["value_usd"] == pytest.approx(1.1106e9, rel=1e-12)
    assert "ECB reference rate of 2024-08-29" in out[0]["note"]
    assert out[1]["value_usd"] == pytest.approx(1.1106e9, rel=1e-12)
    assert out[2]["value_usd"] == 2.0e9
    assert out[3]["value_usd"] is None and "no FX rate within 7 days" in out[3]["note"]


@pytest.mark.parametrize(
    ("claimed", "low", "high", "precision", "filed", "verdict"),
    [
        (84.74e9, None, None, 0.005e9, 84.742e9, "match"),  # exact to its rounding
        (85e9, None, None, 0.5e9, 84.742e9, "match"),  # "$85 billion" rounds 84.742
        (52.5e9, None, None, 0.05e9, 52.535e9, "match"),
        (0.14, None, None, 0.005, 84742 / 74604 - 1, "match"),  # "14%" for 13.59%
        (13.8e9, None, None, 0.05e9, 13.186e9, "close"),  # 4.7% apart
        (13.9e9, None, None, 0.05e9, 13.186e9, "mismatch"),  # 5.4% apart
        (17.5e9, None, None, 0.05e9, 14.276e9, "mismatch"),
        (49e9, 49e9, None, 0.5e9, 52.535e9, "match"),  # "more than $49 billion"
        (60e9, 60e9, None, 0.5e9, 52.535e9, "mismatch"),  # "more than $60 billion"
        (10e9, None, 10e9, 0.5e9, 9.447e9, "match"),  # "under $10 billion"
        (3.5e9, 3e9, 4e9, 0.5e9, 4.2e9, "match"),  # "$3-4 billion": 4.2 rounds to 4
        (3.5e9, 3e9, 4e9, 0.05e9, 4.15e9, "close"),  # 3.6% above the high end
        (3.5e9, 3e9, 4e9, 0.05e9, 4.3e9, "mismatch"),
    ],
)
def test_verdict_rule(claimed, low, high, precision, filed, verdict):
    assert judge(claimed, low, high, precision, filed)[0] == verdict
