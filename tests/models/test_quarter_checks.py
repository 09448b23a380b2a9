"""The data checks of the quarter marts (pipelines/models/checks.py): they fail on a
negative quarter, a stale latest quarter or a duplicate key, and pass on the real filings; and
the marts built by `capex run` over the local SEC hold the published figures.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pipelines.models import checks as mart_checks
from tests.quarter_support import (
    PPE,
    QUARTER_MARTS,
    build,
    calendar_year,
    fact,
    grains,
)

# --- regression tests on hand-made facts ----------------------------------------------------


def test_checks_catch_negative_capex_and_a_stale_latest_quarter(tmp_path):
    """The checks can fail: a nine-month figure below the six-month one makes a negative
    quarter, and a 10-Q whose quarter cannot be placed leaves the latest quarter stale."""
    facts = calendar_year(2023, PPE, (100, 200, 300, 400), cash_flow=True) + [
        fact(PPE, "2024-01-01", "2024-06-30", 50, accession="24q2", filed="2024-08-01"),
        fact(PPE, "2024-01-01", "2024-03-31", 80, accession="24q1", filed="2024-05-01"),
        # a 10-Q for a period no fiscal year covers
        fact(PPE, "2026-01-01", "2026-03-31", 5, accession="26q1", filed="2026-05-01"),
    ]
    warehouse = build(tmp_path, facts)
    with warehouse.connect() as con:
        negative = mart_checks.no_negative_revenue_or_capex(con)
        latest = mart_checks.latest_quarter_is_current(con)
        unique = mart_checks.unique_keys(
            con, "marts.metric_quarterly", grains("marts.metric_quarterly")
        )
    assert not negative.passed
    assert negative.sample.select("fiscal_year", "fiscal_quarter", "value").rows() == [
        (2024, 2, Decimal("-30"))
    ]
    assert not latest.passed
    assert latest.sample.rows() == [("TEST", date(2026, 3, 31), date(2024, 6, 30))]
    assert unique.passed


# --- the real filings ------------------------------------------------------------------------


def test_checks_pass_on_the_real_filings(real):
    with real.connect() as con:
        outcomes = {
            table: mart_checks.unique_keys(con, table, grains(table)) for table in QUARTER_MARTS
        }
        outcomes["quarters_sum_to_year"] = mart_checks.quarters_sum_to_year(con)
        outcomes["no_negative"] = mart_checks.no_negative_revenue_or_capex(con)
    failing = {name: o.sample for name, o in outcomes.items() if not o.passed}
    assert not failing, failing


# --- through `capex run` (the end-to-end fixture over the local SEC) -------------------------


def test_marts_through_capex_run(warehouse_sql):
    # SOURCES.md: Alphabet CY2024Q2 revenue 84,742,000,000; NVIDIA fiscal 2025 capex
    # 3,236,000,000 (PaymentsToAcquireProductiveAssets); Amazon 2024 10-K: AWS $107,556 M.
    assert warehouse_sql(
        "select value, derivation from marts.metric_quarterly where ticker = 'GOOGL' "
        "and metric = 'revenue' and period_end = '2024-06-30'"
    ) == [(Decimal("84742000000"), "reported")]
    assert warehouse_sql(
        "select capex from marts.capex_annual where ticker = 'NVDA' and fiscal_year = 2025"
    ) == [(Decimal("3236000000"),)]
    assert warehouse_sql(
        "select revenue from marts.segment_revenue where ticker = 'AMZN' "
        "and segment = 'Amazon Web Services' and fiscal_year = 2024 and fiscal_quarter is null"
    ) == [(Decimal("107556000000"),)]
