"""Segment revenue from the dimensional facts of the filing documents: the segment's total,
counted once whatever extra axes it is reported on.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.quarter_support import (
    RFC,
    build,
    fact,
    one,
    rows,
)

# --- regression tests on hand-made facts ----------------------------------------------------


def test_segment_revenue_from_dimensional_facts(tmp_path):
    """Root cause: segment facts come with extra axes (srt:ConsolidationItemsAxis) or on a
    second axis (product/service), so they were either missed or counted twice; a fact that
    is also split by another axis (a region within AWS) is not the segment's total."""
    seg = {"us-gaap:StatementBusinessSegmentsAxis": "amzn:AmazonWebServicesSegmentMember"}
    ops = {"srt:ConsolidationItemsAxis": "us-gaap:OperatingSegmentsMember"}
    product = {"srt:ProductOrServiceAxis": "amzn:AmazonWebServicesMember"}
    region = {"srt:StatementGeographicalAxis": "country:US"}
    k23 = dict(accession="k23", filed="2024-02-02", form="10-K")
    k24 = dict(accession="k24", filed="2025-02-07", form="10-K")
    q3 = dict(accession="q3-24", filed="2024-11-01")
    facts = [
        fact(RFC, "2023-01-01", "2023-12-31", 574_785, **k23),
        fact(RFC, "2024-01-01", "2024-12-31", 637_959, **k24),
        fact(RFC, "2023-01-01", "2023-12-31", 90_757, dimensions={**seg, **ops}, **k24),
        fact(RFC, "2023-01-01", "2023-12-31", 90_757, dimensions=product, **k24),
        fact(RFC, "2024-01-01", "2024-12-31", 107_556, dimensions={**seg, **ops}, **k24),
        fact(RFC, "2024-01-01", "2024-12-31", 107_556, dimensions=product, **k24),
        fact(RFC, "2024-01-01", "2024-12-31", 60_000, dimensions={**seg, **region}, **k24),
        fact(RFC, "2024-01-01", "2024-09-30", 79_971, dimensions=seg, **q3),
    ]
    warehouse = build(tmp_path, facts, ticker="AMZN")
    segments = rows(
        warehouse,
        "select segment, period_start, period_end, revenue, yoy, fiscal_quarter, derivation "
        "from marts.segment_revenue order by period_end, period_start",
    )
    assert segments == [
        dict(
            segment="Amazon Web Services",
            period_start=date(2023, 1, 1),
            period_end=date(2023, 12, 31),
            revenue=90_757,
            yoy=None,
            fiscal_quarter=None,
            derivation="reported",
        ),
        dict(
            segment="Amazon Web Services",
            period_start=date(2024, 1, 1),
            period_end=date(2024, 12, 31),
            revenue=107_556,
            yoy=pytest.approx(107_556 / 90_757 - 1),
            fiscal_quarter=None,
            derivation="reported",
        ),
        dict(
            segment="Amazon Web Services",
            period_start=date(2024, 10, 1),
            period_end=date(2024, 12, 31),
            revenue=27_585,
            yoy=None,
            fiscal_quarter=4,
            derivation="annual_minus_ytd",
        ),
    ]


# --- the real filings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ticker", "segment", "fiscal_year", "revenue"),
    [
        # Amazon 2024 and 2023 10-K segment information: AWS net sales $107,556 M / $90,757 M
        ("AMZN", "Amazon Web Services", 2024, 107_556_000_000),
        ("AMZN", "Amazon Web Services", 2023, 90_757_000_000),
        # Alphabet 2024 10-K segment information: Google Cloud revenues $43,229 M
        ("GOOGL", "Google Cloud", 2024, 43_229_000_000),
        # Meta 2024 10-K: Family of Apps $162,355 M, Reality Labs $2,146 M
        ("META", "Family of Apps", 2024, 162_355_000_000),
        ("META", "Reality Labs", 2024, 2_146_000_000),
        # NVIDIA fiscal 2025 10-K: Compute & Networking $116,193 M, Graphics $14,304 M
        ("NVDA", "Compute & Networking", 2025, 116_193_000_000),
        ("NVDA", "Graphics", 2025, 14_304_000_000),
        # Tesla 2024 10-K segment note: automotive segment $87,604 M (automotive revenues
        # 77,070 plus services and other 10,534), energy generation and storage $10,086 M;
        # together the total revenues of $97,690 M
        ("TSLA", "Automotive", 2024, 87_604_000_000),
        ("TSLA", "Energy Generation and Storage", 2024, 10_086_000_000),
    ],
)
def test_segment_revenue_of_the_cloud_and_ai_businesses(
    real, ticker, segment, fiscal_year, revenue
):
    row = one(
        real,
        "select * from marts.segment_revenue where ticker = ? and segment = ? "
        "and fiscal_year = ? and fiscal_quarter is null",
        [ticker, segment, fiscal_year],
    )
    assert row["revenue"] == revenue


def test_tesla_segments_add_up_to_total_revenue(real):
    # Tesla 2024 10-K: total revenues $97,690 M = automotive 87,604 + energy 10,086.
    total = one(
        real,
        "select sum(revenue) as revenue from marts.segment_revenue where ticker = 'TSLA' "
        "and fiscal_year = 2024 and fiscal_quarter is null and kind = 'segment'",
    )
    company = one(
        real,
        "select value from staging.int_metric_annual where ticker = 'TSLA' "
        "and metric = 'revenue' and segment = '' and fiscal_year = 2024",
    )
    assert total["revenue"] == company["value"] == 97_690_000_000


def test_aws_growth_2024(real):
    # Amazon 2024: AWS segment sales up 19% to $107.6 billion (from $90.8 billion).
    row = one(
        real,
        "select yoy from marts.segment_revenue where ticker = 'AMZN' "
        "and segment = 'Amazon Web Services' and fiscal_year = 2024 and fiscal_quarter is null",
    )
    assert row["yoy"] == pytest.approx(107_556 / 90_757 - 1)


def test_revenue_lines_of_the_product_axis(real):
    """Revenue lines filed under srt:ProductOrServiceAxis (issue 11: news quotes them as
    subjects). Alphabet 2024 10-K: YouTube ads 36,147 M and Google Search & other 198,084 M, each
    within the Google Services segment (a fact with two axes); Meta 2024 advertising 160,633 M."""
    lines = {
        (r["ticker"], r["segment"]): (r["revenue"], r["kind"])
        for r in rows(
            real,
            "select ticker, segment, revenue, kind from marts.segment_revenue "
            "where fiscal_year = 2024 and fiscal_quarter is null",
        )
    }
    assert lines[("GOOGL", "YouTube ads")] == (36_147_000_000, "product line")
    assert lines[("GOOGL", "Google Search & other")] == (198_084_000_000, "product line")
    assert lines[("META", "Advertising")] == (160_633_000_000, "product line")
    assert lines[("GOOGL", "Google Cloud")] == (43_229_000_000, "segment")
