"""Table-driven tests of the news number normaliser, English and Chinese phrasings.

Each expected value is worked out by hand from the phrase itself (13.87 billion = 13.87e9).
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from pipelines.news.numbers import extract_numbers, normalise

B, M, T = 1e9, 1e6, 1e12

# (phrase, expected text, value, low, high, unit, currency, scale)
CASES = [
    # money, English
    (
        "capital expenditures were $13.87 billion",
        "$13.87 billion",
        13.87 * B,
        None,
        None,
        "money",
        "USD",
        B,
    ),
    ("US$13.87bn", "US$13.87bn", 13.87 * B, None, None, "money", "USD", B),
    (
        "13.87 billion US dollars",
        "13.87 billion US dollars",
        13.87 * B,
        None,
        None,
        "money",
        "USD",
        B,
    ),
    ("revenue of USD 84.74 billion", "USD 84.74 billion", 84.74 * B, None, None, "money", "USD", B),
    ("a $500m charge", "$500m", 500 * M, None, None, "money", "USD", M),
    ("a $2.5 bn deal", "$2.5 bn", 2.5 * B, None, None, "money", "USD", B),
    ("sales of €2.5bn", "€2.5bn", 2.5 * B, None, None, "money", "EUR", B),
    ("£1.1 billion", "£1.1 billion", 1.1 * B, None, None, "money", "GBP", B),
    ("HK$3.2 billion", "HK$3.2 billion", 3.2 * B, None, None, "money", "HKD", B),
    ("5.2 trillion RMB", "5.2 trillion RMB", 5.2 * T, None, None, "money", "CNY", T),
    ("RMB5.2 trillion", "RMB5.2 trillion", 5.2 * T, None, None, "money", "CNY", T),
    ("3 trillion yen", "3 trillion yen", 3 * T, None, None, "money", "JPY", T),
    ("sales of ¥1.2 trillion", "¥1.2 trillion", 1.2 * T, None, None, "money", "JPY", T),
    ("$30,040 million", "$30,040 million", 30_040 * M, None, None, "money", "USD", M),
    ("$1,234,567", "$1,234,567", 1_234_567, None, None, "money", "USD", 1.0),
    # scale without currency is a count (the claim resolver decides whether it is money)
    ("26,281 million", "26,281 million", 26_281 * M, None, None, "count", None, M),
    ("0.01 million pieces", "0.01 million pieces", 10_000, None, None, "count", None, M),
    ("3.27 billion people", "3.27 billion people", 3.27 * B, None, None, "count", None, B),
    ("reached 3.27 billion", "3.27 billion", 3.27 * B, None, None, "count", None, B),
    ("1.8 million vehicles", "1.8 million vehicles", 1.8 * M, None, None, "count", None, M),
    # ranges: value is the midpoint
    ("$3-4 billion", "$3-4 billion", 3.5 * B, 3 * B, 4 * B, "money", "USD", B),
    (
        "$3 billion to $4 billion",
        "$3 billion to $4 billion",
        3.5 * B,
        3 * B,
        4 * B,
        "money",
        "USD",
        B,
    ),
    (
        "$28.5 billion–$29.5 billion",
        "$28.5 billion–$29.5 billion",
        29 * B,
        28.5 * B,
        29.5 * B,
        "money",
        "USD",
        B,
    ),
    ("3%-5%", "3%-5%", 0.04, 0.03, 0.05, "percent", None, 0.01),
    ("3-5%", "3-5%", 0.04, 0.03, 0.05, "percent", None, 0.01),
    ("30亿至40亿美元", "30亿至40亿美元", 3.5e9, 3e9, 4e9, "money", "USD", 1e8),
    # bounds
    ("more than $49 billion", "more than $49 billion", 49 * B, 49 * B, None, "money", "USD", B),
    ("over $100 billion", "over $100 billion", 100 * B, 100 * B, None, "money", "USD", B),
    ("at least $75 billion", "at least $75 billion", 75 * B, 75 * B, None, "money", "USD", B),
    ("nearly $50 billion", "nearly $50 billion", 50 * B, None, 50 * B, "money", "USD", B),
    ("up to $4 billion", "up to $4 billion", 4 * B, None, 4 * B, "money", "USD", B),
    ("about $52.5 billion", "about $52.5 billion", 52.5 * B, None, None, "money", "USD", B),
    ("超过1000亿美元", "超过1000亿美元", 1e11, 1e11, None, "money", "USD", 1e8),
    ("1000亿美元以上", "1000亿美元以上", 1e11, 1e11, None, "money", "USD", 1e8),
    # Chinese scales and currencies
    ("七巨头一年烧光1000亿美金", "1000亿美金", 1e11, None, None, "money", "USD", 1e8),
    ("营收300.4亿美元", "300.4亿美元", 300.4e8, None, None, "money", "USD", 1e8),
    ("5.2万亿元人民币", "5.2万亿元人民币", 5.2e12, None, None, "money", "CNY", 1e12),
    ("投资500亿元", "500亿元", 5e10, None, None, "money", "CNY", 1e8),
    ("¥500亿", "¥500亿", 5e10, None, None, "money", "CNY", 1e8),
    ("3000万台", "3000万台", 3e7, None, None, "count", None, 1e4),
    ("1.2千亿欧元", "1.2千亿欧元", 1.2e11, None, None, "money", "EUR", 1e11),
    # percentages and points
    ("33.4%", "33.4%", 0.334, None, None, "percent", None, 0.01),
    ("a margin of 33.4 percent", "33.4 percent", 0.334, None, None, "percent", None, 0.01),
    (
        "8 percentage points",
        "8 percentage points",
        0.08,
        None,
        None,
        "percentage_points",
        None,
        0.01,
    ),
    ("毛利率提升了8个百分点", "提升了8个百分点", 0.08, None, None, "percentage_points", None, 0.01),
    # signs
    ("(1.2)", "(1.2)", -1.2, None, None, "count", None, 1.0),
    ("a loss of $(1.2) billion", "$(1.2) billion", -1.2 * B, None, None, "money", "USD", B),
    ("-3.5%", "-3.5%", -0.035, None, None, "percent", None, 0.01),
    ("revenue fell 22%", "fell 22%", -0.22, None, None, "percent", None, 0.01),
    ("shares were down 4.1%", "down 4.1%", -0.041, None, None, "percent", None, 0.01),
    ("declined by 5%", "declined by 5%", -0.05, None, None, "percent", None, 0.01),
    ("a 22% decline", "22% decline", -0.22, None, None, "percent", None, 0.01),
    ("revenue rose 122%", "rose 122%", 1.22, None, None, "percent", None, 0.01),
    ("同比下降22%", "同比下降22%", -0.22, None, None, "percent", None, 0.01),
    ("同比增长15%", "同比增长15%", 0.15, None, None, "percent", None, 0.01),
]


@pytest.mark.parametrize(
    ("phrase", "text", "value", "low", "high", "unit", "currency", "scale"), CASES
)
def test_normalise_phrase(phrase, text, value, low, high, unit, currency, scale):
    figures = normalise(phrase)
    assert len(figures) == 1, figures
    (got,) = figures
    assert got["text"] == text
    assert math.isclose(got["value"], value, rel_tol=1e-12)
    for key, expected in (("low", low), ("high", high)):
        if expected is None:
            assert got[key] is None, key
        else:
            assert math.isclose(got[key], expected, rel_tol=1e-12), key
    assert got["unit"] == unit
    assert got["currency"] == currency
    assert math.isclose(got["scale"], scale)


def test_value_is_exact_in_units():
    # 13.87 × 1e9 in floating point is 13870000000.000002; the normaliser works from digits
    (got,) = normalise("$13.87 billion")
    assert got["value"] == 13_870_000_000
    (got,) = normalise("26,281 million")
    assert got["value"] == 26_281_000_000


def test_precision_is_half_the_last_stated_digit():
    assert normalise("$52.5 billion")[0]["precision"] == pytest.approx(0.05e9)
    assert normalise("$3 billion")[0]["precision"] == pytest.approx(0.5e9)
    assert normalise("$84.74 billion")[0]["precision"] == pytest.approx(0.005e9)
    assert normalise("33.4%")[0]["precision"] == pytest.approx(0.0005)


def test_from_to_is_two_levels_not_a_range():
    got = normalise("revenue rose from $74.6 billion to $84.74 billion")
    assert [(g["text"], g["value"], g["low"], g["high"]) for g in got] == [
        ("from $74.6 billion", 74.6e9, None, None),
        ("to $84.74 billion", 84.74e9, None, None),
    ]
    sentence = "revenue rose from $74.6 billion to $84.74 billion"
    assert [sentence[g["position"] :].startswith(g["text"]) for g in got] == [True, True]


def test_change_and_level_in_one_sentence():
    got = normalise("Revenue grew 15% to $84.74 billion, while capex rose to $13.2 billion.")
    assert [(g["text"], g["value"], g["unit"], g["change"]) for g in got] == [
        ("grew 15%", 0.15, "percent", True),
        ("$84.74 billion", 84.74e9, "money", False),
        ("$13.2 billion", 13.2e9, "money", False),
    ]


@pytest.mark.parametrize(
    "phrase",
    [
        "NVIDIA ships B200 chips",
        "the 10-K for Q2 2024",
        "in 2024 and 2025",
        "on July 23, 2024",
        "Windows 11 on 3 continents",
        "GPT-4 and H100",
    ],
)
def test_non_figures_are_ignored(phrase):
    assert normalise(phrase) == []


def test_positions_point_at_each_figure():
    sentence = "Alphabet said revenue was $84.74 billion, up 14%, and capex $13.2 billion."
    got = normalise(sentence)
    assert [g["text"] for g in got] == ["$84.74 billion", "up 14%", "$13.2 billion"]
    for g in got:
        assert sentence[g["position"] : g["position"] + len(g["text"])] == g["text"]


def test_vectorised_over_many_rows_keeps_article_and_sentence():
    frame = pl.DataFrame(
        {
            "article_id": ["a", "a", "b"],
            "sentence_no": [0, 1, 0],
            "sentence": ["Capex hit $13.2 billion", "no figures here", "营收300.4亿美元，增长15%"],
        }
    )
    got = extract_numbers(frame)
    assert got.select("article_id", "sentence_no", "text").rows() == [
        ("a", 0, "$13.2 billion"),
        ("b", 0, "300.4亿美元"),
        ("b", 0, "增长15%"),
    ]
    empty = extract_numbers(frame.filter(pl.col("sentence_no") == 1))
    assert empty.height == 0 and "value" in empty.columns
