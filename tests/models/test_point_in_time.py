"""Point in time: the marts hold the latest filed value, marts.metric_quarterly_pit every
vintage dated by the filing that first made it known (no look-ahead, no stale marts).
"""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.models import checks as mart_checks
from tests.quarter_support import (
    PPE,
    RFC,
    build,
    calendar_year,
    fact,
    one,
    quarterly,
    rows,
)

# --- regression tests on hand-made facts ----------------------------------------------------


def test_restatement_latest_value_in_marts_every_vintage_point_in_time(tmp_path):
    """Root cause: keeping only the latest value gives back-tests look-ahead (they see a
    restated figure before it was published); keeping only the first gives stale marts. The
    mart holds the latest filing's value; the point-in-time mart holds each vintage."""
    facts = calendar_year(2023, "Revenues", (100, 110, 120, 130)) + [
        fact("Revenues", "2023-01-01", "2023-03-31", 90, accession="2024-q1", filed="2024-05-01"),
    ]
    warehouse = build(tmp_path, facts)
    q1 = quarterly(warehouse, "revenue")[0]
    assert (q1["value"], q1["accession"], q1["filed"]) == (90, "2024-q1", date(2024, 5, 1))
    vintages = rows(
        warehouse,
        "select value, filed, superseded from marts.metric_quarterly_pit "
        "where metric = 'revenue' and fiscal_year = 2023 and fiscal_quarter = 1 order by filed",
    )
    assert vintages == [
        {"value": 100, "filed": date(2023, 5, 1), "superseded": date(2024, 5, 1)},
        {"value": 90, "filed": date(2024, 5, 1), "superseded": None},
    ]
    known_on = rows(
        warehouse,
        "select value from marts.metric_quarterly_pit where metric = 'revenue' "
        "and fiscal_year = 2023 and fiscal_quarter = 1 and filed <= ? "
        "and (superseded is null or superseded > ?)",
        [date(2023, 12, 31), date(2023, 12, 31)],
    )
    assert known_on == [{"value": 100}]
    # the restated Q1 no longer adds up with the 10-K's year: the check says so
    con_check = mart_checks.quarters_sum_to_year
    with warehouse.connect() as con:
        outcome = con_check(con)
    assert not outcome.passed and outcome.sample["fiscal_year"].to_list() == [2023]


def test_comparative_repeat_is_no_new_vintage(tmp_path):
    """Root cause: every 10-Q repeats last year's quarter as a comparative; dating a figure
    by the latest filing that carries it makes it known a year late (and a tag switch in the
    repeat, e.g. Alphabet's RevenueFromContract... then Revenues, would look like news). A
    vintage starts when the value changes; the latest filing only relabels the concept."""
    facts = calendar_year(2023, RFC, (100, 110, 120, 130)) + [
        fact("Revenues", "2023-01-01", "2023-03-31", 100, accession="2024-q1", filed="2024-05-01"),
    ]
    warehouse = build(tmp_path, facts)
    vintages = rows(
        warehouse,
        "select value, concept, accession, filed, superseded from marts.metric_quarterly_pit "
        "where metric = 'revenue' and fiscal_year = 2023 and fiscal_quarter = 1",
    )
    assert vintages == [
        dict(
            value=100,
            concept="Revenues",
            accession="2023-q1",
            filed=date(2023, 5, 1),
            superseded=None,
        )
    ]


def test_derived_quarter_is_known_only_from_the_annual_report(tmp_path):
    """Root cause: a Q4 derived as FY - 9M was back-dated to the 10-Q's filing date, before
    the 10-K that makes it knowable. A derived vintage dates from its latest input; a later
    restatement of the nine months makes new Q3 and Q4 vintages."""
    facts = calendar_year(2023, PPE, (100, 200, 300, 400), cash_flow=True) + [
        fact(PPE, "2023-01-01", "2023-09-30", 660, accession="2024-q3", filed="2024-11-01"),
    ]
    warehouse = build(tmp_path, facts)
    vintages = rows(
        warehouse,
        "select fiscal_quarter, value, derivation, filed, superseded "
        "from marts.metric_quarterly_pit where metric = 'capex' and fiscal_quarter >= 3 "
        "order by fiscal_quarter, filed",
    )
    assert vintages == [
        dict(
            fiscal_quarter=3,
            value=300,
            derivation="ytd_difference",
            filed=date(2023, 11, 1),
            superseded=date(2024, 11, 1),
        ),
        dict(
            fiscal_quarter=3,
            value=360,
            derivation="ytd_difference",
            filed=date(2024, 11, 1),
            superseded=None,
        ),
        dict(
            fiscal_quarter=4,
            value=400,
            derivation="annual_minus_ytd",
            filed=date(2024, 2, 1),
            superseded=date(2024, 11, 1),
        ),
        dict(
            fiscal_quarter=4,
            value=340,
            derivation="annual_minus_ytd",
            filed=date(2024, 11, 1),
            superseded=None,
        ),
    ]


# --- the real filings ------------------------------------------------------------------------


def test_alphabet_revenue_quarter_ended_2024_06_30(real):
    # SOURCES.md (CY2024Q2 Revenues) and Alphabet's Q2 2024 results: revenues $84,742 million,
    # up 14% (13.6%) from $74,604 million.
    row = one(
        real,
        "select r.*, q.derivation from marts.revenue_growth r join marts.metric_quarterly q "
        "using (ticker, fiscal_year, fiscal_quarter) "
        "where ticker = 'GOOGL' and metric = 'revenue' and r.period_end = '2024-06-30'",
    )
    assert row["revenue"] == 84_742_000_000
    assert (row["fiscal_year"], row["fiscal_quarter"], row["derivation"]) == (2024, 2, "reported")
    # first filed in the Q2 2024 10-Q (SOURCES.md: accession 0001652044-24-000079, 2024-07-24),
    # repeated under Revenues in the Q2 2025 10-Q
    source = one(
        real,
        "select concept, accession, filed from marts.metric_quarterly where ticker = 'GOOGL' "
        "and metric = 'revenue' and period_end = '2024-06-30'",
    )
    assert source == {
        "concept": "Revenues",
        "accession": "0001652044-24-000079",
        "filed": date(2024, 7, 24),
    }
    assert row["revenue_yoy"] == pytest.approx(84_742 / 74_604 - 1)
    assert round(row["revenue_yoy"], 3) == 0.136
