"""Discrete quarters derived from what companies file: a year-to-date or full-year figure
is never a quarter, a quarter is the difference of two year-to-date figures of one fiscal
year (across a tag switch too), and only additive metrics are derived.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.quarter_support import (
    PPE,
    PRODUCTIVE,
    RFC,
    build,
    calendar_year,
    fact,
    labelled,
    one,
    quarterly,
    rows,
)

# --- regression tests on hand-made facts ----------------------------------------------------


def test_tag_switch_mid_history_keeps_one_continuous_series(tmp_path):
    """Root cause: choosing one concept per company (the first candidate that has any data)
    freezes the history at the old tag's last period, or drops the years before the new tag.
    NVIDIA moved revenue from RevenueFromContractWithCustomerExcludingAssessedTax to
    Revenues; the concept must be chosen per period, preferring the latest filing."""
    facts = calendar_year(2021, RFC, (10, 11, 12, 13)) + calendar_year(
        2022, "Revenues", (20, 22, 24, 26)
    )
    # the 2022 10-Qs restate their 2021 comparatives under the new tag
    facts.append(
        fact("Revenues", "2021-04-01", "2021-06-30", 11, accession="2022-q2", filed="2022-08-01")
    )
    warehouse = build(tmp_path, facts)
    revenue = quarterly(warehouse, "revenue")
    assert labelled(revenue, "fiscal_year", "fiscal_quarter", "value", "concept") == [
        (2021, 1, 10, RFC),
        (2021, 2, 11, "Revenues"),  # the latest filing's tag
        (2021, 3, 12, RFC),
        (2021, 4, 13, RFC),
        (2022, 1, 20, "Revenues"),
        (2022, 2, 22, "Revenues"),
        (2022, 3, 24, "Revenues"),
        (2022, 4, 26, "Revenues"),
    ]
    growth = rows(
        warehouse,
        "select fiscal_quarter, revenue_yoy, revenue_ttm from marts.revenue_growth "
        "where fiscal_year = 2022 order by fiscal_quarter",
    )
    assert [r["revenue_yoy"] for r in growth] == pytest.approx([1.0, 1.0, 1.0, 1.0])
    assert [r["revenue_ttm"] for r in growth] == [56, 67, 79, 92]


def test_tag_switch_between_two_year_to_date_facts(tmp_path):
    """Root cause: a quarter derived from year-to-date facts of two different tags was
    dropped (or compared with the wrong tag's history). NVIDIA's fiscal 2021 capex: the
    six-month figure is PaymentsToAcquirePropertyPlantAndEquipment (Q2 10-Q), the nine-month
    figure PaymentsToAcquireProductiveAssets (Q3 10-Q); Q3 = 9M - 6M across the switch."""
    filed = {"q1": "2020-05-21", "q2": "2020-08-19", "q3": "2020-11-18"}
    facts = [
        fact(PPE, "2020-01-27", "2020-04-26", 155, accession="q1", filed=filed["q1"]),
        fact(PPE, "2020-01-27", "2020-07-26", 372, accession="q2", filed=filed["q2"]),
        fact(PRODUCTIVE, "2020-01-27", "2020-10-25", 845, accession="q3", filed=filed["q3"]),
        # the fiscal year before, from its 10-K, fixes where fiscal 2021 starts
        fact(PPE, "2019-01-28", "2020-01-26", 489, accession="k", filed="2020-02-20", form="10-K"),
    ]
    warehouse = build(tmp_path, facts)
    capex = [r for r in quarterly(warehouse, "capex") if r["fiscal_year"] == 2021]
    assert labelled(capex, "fiscal_quarter", "value", "derivation", "concept") == [
        (1, 155, "reported", PPE),
        (2, 217, "ytd_difference", PPE),
        (3, 473, "ytd_difference", f"{PRODUCTIVE} - {PPE}"),
    ]


def test_year_to_date_cash_flow_is_not_a_quarter(tmp_path):
    """Root cause: a 10-Q's cash-flow figures are year to date (six months in Q2, nine in
    Q3), yet carry fp=Q2/Q3; taking them as the quarter overstates capex two- and threefold.
    Quarters are identified by their dates: Q2 = 6M - Q1, Q3 = 9M - 6M, Q4 = FY - 9M."""
    warehouse = build(tmp_path, calendar_year(2023, PPE, (100, 200, 300, 400), cash_flow=True))
    capex = quarterly(warehouse, "capex")
    assert labelled(
        capex, "fiscal_quarter", "period_start", "period_end", "value", "derivation"
    ) == [
        (1, date(2023, 1, 1), date(2023, 3, 31), 100, "reported"),
        (2, date(2023, 4, 1), date(2023, 6, 30), 200, "ytd_difference"),
        (3, date(2023, 7, 1), date(2023, 9, 30), 300, "ytd_difference"),
        (4, date(2023, 10, 1), date(2023, 12, 31), 400, "annual_minus_ytd"),
    ]


def test_full_year_value_labelled_q4_is_the_year_not_the_fourth_quarter(tmp_path):
    """Root cause: tools that map fp to quarters read a 10-K's fiscal-year figure as Q4 (the
    filing's fp is FY, or a filer labels it Q4), so Q4 equals the whole year. A twelve-month
    period is a year whatever its label; Q4 is the year minus the first nine months."""
    facts = [
        {**f, "fiscal_period": "Q4"} if f["form"] == "10-K" else f
        for f in calendar_year(2023, "Revenues", (10, 20, 30, 40))
    ]
    warehouse = build(tmp_path, facts)
    revenue = quarterly(warehouse, "revenue")
    assert labelled(revenue, "fiscal_quarter", "value", "derivation") == [
        (1, 10, "reported"),
        (2, 20, "reported"),
        (3, 30, "reported"),
        (4, 40, "annual_minus_ytd"),
    ]
    annual = rows(warehouse, "select revenue from marts.capex_annual where ticker = 'TEST'")
    assert annual == [{"revenue": 100}]


def test_q4_from_the_year_minus_three_reported_quarters_without_nine_months(tmp_path):
    """Root cause: with no nine-month figure (a filer that reports quarters only) Q4 was
    left empty. Q4 = FY - (Q1 + Q2 + Q3), all three reported, is the fallback."""
    facts = [
        fact("Revenues", s, e, v, accession=f"q{i}", filed="2023-11-01")
        for i, (s, e, v) in enumerate(
            [
                ("2023-01-01", "2023-03-31", 10),
                ("2023-04-01", "2023-06-30", 20),
                ("2023-07-01", "2023-09-30", 30),
            ]
        )
    ] + [
        fact(
            "Revenues",
            "2023-01-01",
            "2023-12-31",
            100,
            accession="k",
            filed="2024-02-01",
            form="10-K",
        )
    ]
    warehouse = build(tmp_path, facts)
    q4 = quarterly(warehouse, "revenue")[-1]
    assert (q4["fiscal_quarter"], q4["value"], q4["derivation"]) == (4, 40, "annual_minus_ytd")


def test_non_additive_metric_is_never_derived(tmp_path):
    """Root cause: weighted diluted shares of six months minus three months is not a
    quarter's share count; only additive metrics may be derived from year-to-date figures."""
    facts = calendar_year(2023, "Revenues", (10, 20, 30, 40)) + [
        fact(
            "WeightedAverageNumberOfDilutedSharesOutstanding",
            "2023-01-01",
            "2023-03-31",
            50,
            unit="shares",
            accession="2023-q1",
            filed="2023-05-01",
        ),
        fact(
            "WeightedAverageNumberOfDilutedSharesOutstanding",
            "2023-01-01",
            "2023-06-30",
            52,
            unit="shares",
            accession="2023-q2",
            filed="2023-08-01",
        ),
    ]
    warehouse = build(tmp_path, facts)
    assert labelled(quarterly(warehouse, "diluted_shares"), "fiscal_quarter", "value") == [(1, 50)]


def test_instants_are_quarter_end_balances(tmp_path):
    """Root cause: balance-sheet instants at other dates (a cover-page share count date)
    were taken for quarter-end balances, and instants were 'derived' like flows. A balance
    repeated a year later as a comparative stays dated by its first filing."""
    facts = calendar_year(2023, "Revenues", (10, 20, 30, 40)) + [
        fact(
            "CashAndCashEquivalentsAtCarryingValue",
            None,
            "2023-06-30",
            500,
            accession="2023-q2",
            filed="2023-08-01",
        ),
        fact(
            "CashAndCashEquivalentsAtCarryingValue",
            None,
            "2023-07-25",
            999,
            accession="2023-q2",
            filed="2023-08-01",
        ),
    ]
    warehouse = build(tmp_path, facts)
    cash = quarterly(warehouse, "cash")
    assert labelled(
        cash, "fiscal_quarter", "period_start", "period_end", "value", "derivation"
    ) == [(2, None, date(2023, 6, 30), 500, "reported")]


# --- the real filings ------------------------------------------------------------------------


def test_apple_fiscal_2024_q4_revenue_is_the_year_minus_nine_months(real):
    # Apple's Q4 fiscal 2024 results: revenue $94.93 billion; fiscal 2024 revenue
    # 391,035,000,000 (SOURCES.md, frame CY2024).
    row = one(
        real,
        "select * from marts.metric_quarterly where ticker = 'AAPL' and metric = 'revenue' "
        "and fiscal_year = 2024 and fiscal_quarter = 4",
    )
    assert row["value"] == 94_930_000_000
    assert row["derivation"] == "annual_minus_ytd"
    assert (row["period_start"], row["period_end"]) == (date(2024, 6, 30), date(2024, 9, 28))
    total = one(
        real,
        "select sum(value) as total from marts.metric_quarterly where ticker = 'AAPL' "
        "and metric = 'revenue' and fiscal_year = 2024",
    )
    assert total["total"] == 391_035_000_000


def test_nvidia_capex_history_spans_its_tag_switch(real):
    # NVIDIA tagged capex PaymentsToAcquirePropertyPlantAndEquipment until fiscal 2021 Q2
    # (last period ended 2020-07-26, SOURCES.md) and PaymentsToAcquireProductiveAssets after.
    history = rows(
        real,
        "select fiscal_year, fiscal_quarter, concept from marts.metric_quarterly "
        "where ticker = 'NVDA' and metric = 'capex' and fiscal_year in (2020, 2021, 2022) "
        "and fiscal_quarter <= 3 order by fiscal_year, fiscal_quarter",
    )
    assert [(r["fiscal_year"], r["fiscal_quarter"]) for r in history] == [
        (y, q) for y in (2020, 2021, 2022) for q in (1, 2, 3)
    ]
    assert {r["concept"] for r in history if r["fiscal_year"] == 2022} == {PRODUCTIVE}
