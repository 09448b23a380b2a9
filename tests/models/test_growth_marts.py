"""Growth, trailing sums and the universe total: a window that lacks a quarter gives null,
never a sum over the wrong quarters, and the universe compares like for like.
"""

from __future__ import annotations

import pytest

from tests.quarter_support import (
    PPE,
    build,
    build_quarter_marts,
    calendar_year,
    fact,
    facts_frame,
    land_facts,
    new_warehouse,
    one,
    rows,
)

# --- regression tests on hand-made facts ----------------------------------------------------


def test_gap_in_the_window_makes_ttm_and_growth_null(tmp_path):
    """Root cause: a rolling sum over 'the last four rows' silently spans five or six
    quarters when one is missing, and QoQ compares with a quarter two back."""
    facts = calendar_year(2023, "Revenues", (10, 20, 30, 40))
    for q, (start, end, value) in enumerate(
        [("2024-01-01", "2024-03-31", 11), ("2024-07-01", "2024-09-30", 33)]
    ):
        facts.append(fact("Revenues", start, end, value, accession=f"24-{q}", filed="2024-11-01"))
    warehouse = build(tmp_path, facts)
    growth = rows(
        warehouse,
        "select fiscal_year, fiscal_quarter, revenue_yoy, revenue_qoq, revenue_ttm "
        "from marts.revenue_growth where fiscal_year = 2024 order by fiscal_quarter",
    )
    assert growth[0]["fiscal_quarter"] == 1 and growth[0]["revenue_ttm"] == 101
    assert growth[0]["revenue_qoq"] == pytest.approx(11 / 40 - 1)
    assert growth[1]["fiscal_quarter"] == 3
    assert growth[1]["revenue_yoy"] == pytest.approx(0.1)
    assert growth[1]["revenue_qoq"] is None  # Q2 2024 is missing
    assert growth[1]["revenue_ttm"] is None


def test_universe_capex_by_calendar_quarter_is_like_for_like(tmp_path):
    """Root cause: summing whatever companies reported makes growth jump when a company
    enters the data; YoY compares the same companies, and is null if one lacks a year ago."""
    a = calendar_year(2023, PPE, (10, 10, 10, 10), cash_flow=True) + calendar_year(
        2024, PPE, (20, 20, 20, 20), cash_flow=True
    )
    b = calendar_year(2024, PPE, (5, 5, 5, 5), cash_flow=True)
    warehouse = new_warehouse(tmp_path)
    land_facts(warehouse, {"AAA": facts_frame(a, "AAA"), "BBB": facts_frame(b, "BBB")})
    build_quarter_marts(warehouse)
    universe = rows(
        warehouse,
        "select calendar_year, calendar_quarter, companies, capex, capex_yoy "
        "from marts.capex_by_calendar_quarter where calendar_quarter = 1 order by calendar_year",
    )
    assert universe == [
        dict(calendar_year=2023, calendar_quarter=1, companies=1, capex=10, capex_yoy=None),
        dict(calendar_year=2024, calendar_quarter=1, companies=2, capex=25, capex_yoy=None),
    ]


# --- the real filings ------------------------------------------------------------------------


def test_alphabet_calendar_2024_capex(real):
    # SOURCES.md: Alphabet PaymentsToAcquirePropertyPlantAndEquipment CY2024 52,535,000,000;
    # Alphabet's quarterly results: capex $12.0 B (Q1), $13.2 B (Q2), $13.1 B (Q3), $14.3 B (Q4).
    annual = one(
        real, "select * from marts.capex_annual where ticker = 'GOOGL' and fiscal_year = 2024"
    )
    assert annual["capex"] == 52_535_000_000
    assert annual["revenue"] == 350_018_000_000
    quarters = rows(
        real,
        "select calendar_quarter, capex from marts.capex_quarterly where ticker = 'GOOGL' "
        "and calendar_year = 2024 order by calendar_quarter",
    )
    assert [round(r["capex"] / 10**8) / 10 for r in quarters] == [12.0, 13.2, 13.1, 14.3]
    assert sum(r["capex"] for r in quarters) == 52_535_000_000


def test_apple_fiscal_2024_capex(real):
    # SOURCES.md: Apple PaymentsToAcquirePropertyPlantAndEquipment FY2024 (frame CY2024)
    # 9,447,000,000; FY2023 10,959,000,000.
    annual = one(
        real, "select * from marts.capex_annual where ticker = 'AAPL' and fiscal_year = 2024"
    )
    assert annual["capex"] == 9_447_000_000
    assert annual["capex_yoy"] == pytest.approx(9_447 / 10_959 - 1)
    total = one(
        real,
        "select sum(capex) as total, count(*) as quarters from marts.capex_quarterly "
        "where ticker = 'AAPL' and fiscal_year = 2024",
    )
    assert total == {"total": 9_447_000_000, "quarters": 4}
