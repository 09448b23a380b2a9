"""Discrete quarters, fiscal calendars, the metric map and point-in-time marts.

The first part is regression tests on small hand-made staging.facts: each reproduces a
failure mode users of other XBRL tools have reported, and its docstring names the root
cause. The second part runs the same SQL models over the real companyfacts and filing
documents in ../shared/fixtures and asserts the companies' published figures.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.core.warehouse import Warehouse
from pipelines.models import checks as mart_checks
from tests.quarter_support import (
    QUARTER_MARTS,
    build_quarter_marts,
    fact,
    facts_frame,
    grains,
    land_facts,
    new_warehouse,
    rows,
)

PPE = "PaymentsToAcquirePropertyPlantAndEquipment"
PRODUCTIVE = "PaymentsToAcquireProductiveAssets"
RFC = "RevenueFromContractWithCustomerExcludingAssessedTax"


def calendar_year(
    year: int,
    concept: str,
    quarters: tuple[int, int, int, int],
    *,
    cash_flow: bool = False,
    **extra,
) -> list[dict]:
    """One calendar fiscal year of a metric as a company files it.

    10-Qs (filed May, August, November) report the quarter (income statement only) and the
    year to date; the 10-K (filed the next February) reports the year. ``cash_flow``: the
    10-Qs report year-to-date figures only, as cash-flow statements do.
    """
    starts = [f"{year}-01-01", f"{year}-04-01", f"{year}-07-01", f"{year}-10-01"]
    ends = [f"{year}-03-31", f"{year}-06-30", f"{year}-09-30", f"{year}-12-31"]
    out = []
    for q in range(3):
        filing = dict(
            accession=f"{year}-q{q + 1}",
            filed=f"{year}-{3 * q + 5:02d}-01",
            fy=year,
            fp=f"Q{q + 1}",
            **extra,
        )
        ytd = sum(quarters[: q + 1])
        out.append(fact(concept, starts[0], ends[q], ytd, **filing))
        if q > 0 and not cash_flow:
            out.append(fact(concept, starts[q], ends[q], quarters[q], **filing))
    annual = dict(accession=f"{year}-k", filed=f"{year + 1}-02-01", form="10-K", fy=year, fp="FY")
    out.append(fact(concept, starts[0], ends[3], sum(quarters), **annual, **extra))
    return out


def build(tmp_path: Path, facts: list[dict], ticker: str = "TEST") -> Warehouse:
    warehouse = new_warehouse(tmp_path)
    land_facts(warehouse, {ticker: facts_frame(facts, ticker)})
    build_quarter_marts(warehouse)
    return warehouse


def quarterly(warehouse: Warehouse, metric: str, ticker: str = "TEST") -> list[dict]:
    return rows(
        warehouse,
        "select * from marts.metric_quarterly where ticker = ? and metric = ? "
        "order by fiscal_year, fiscal_quarter",
        [ticker, metric],
    )


def labelled(rows_: list[dict], *columns: str) -> list[tuple]:
    return [tuple(r[c] for c in columns) for r in rows_]


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


def test_fy_fp_of_a_comparative_fact_do_not_label_it(tmp_path):
    """Root cause: fy/fp describe the filing that carries a fact, not the fact. The fiscal
    2024 Q2 10-Q (fy=2024, fp=Q2) also reports Q2 2023 as a comparative; grouping by fy/fp
    files that comparative under 2024 and compares 2024 with itself."""
    tenk = dict(accession="2023-k", filed="2024-02-01", form="10-K", fy=2023, fp="FY")
    q2 = dict(accession="2024-q2", filed="2024-08-01", fy=2024, fp="Q2")
    facts = [
        fact("Revenues", "2023-01-01", "2023-12-31", 400, **tenk),
        fact("Revenues", "2022-01-01", "2022-12-31", 300, **tenk),
        fact("Revenues", "2024-04-01", "2024-06-30", 130, **q2),
        fact("Revenues", "2023-04-01", "2023-06-30", 100, **q2),  # comparative
    ]
    warehouse = build(tmp_path, facts)
    assert labelled(quarterly(warehouse, "revenue"), "fiscal_year", "fiscal_quarter", "value") == [
        (2023, 2, 100),
        (2024, 2, 130),
    ]
    growth = rows(
        warehouse, "select revenue_yoy from marts.revenue_growth where fiscal_year = 2024"
    )
    assert growth[0]["revenue_yoy"] == pytest.approx(0.3)


def test_52_53_week_year_with_a_14_week_first_quarter(tmp_path):
    """Root cause: fixed durations (90 days a quarter, 365 a year) reject a 14-week quarter
    (98 days) and a 53-week year (371 days), or mis-shift the following quarters. Apple's
    fiscal 2023 ran 2022-09-25 to 2023-09-30; published revenue (Apple's fiscal 2023 press
    releases, in $ millions): Q1 117,154, Q2 94,836, Q3 81,797, year 383,285, so Q4 89,498."""
    m = 1_000_000
    tenk = dict(accession="k23", filed="2023-11-03", form="10-K", fy=2023, fp="FY")
    facts = [
        fact("Revenues", "2021-09-26", "2022-09-24", 394_328 * m, **tenk),
        fact("Revenues", "2022-09-25", "2023-09-30", 383_285 * m, **tenk),
        fact(
            "Revenues", "2022-09-25", "2022-12-31", 117_154 * m, accession="q1", filed="2023-02-03"
        ),
        fact(
            "Revenues", "2023-01-01", "2023-04-01", 94_836 * m, accession="q2", filed="2023-05-05"
        ),
        fact(
            "Revenues", "2022-09-25", "2023-04-01", 211_990 * m, accession="q2", filed="2023-05-05"
        ),
        fact(
            "Revenues", "2023-04-02", "2023-07-01", 81_797 * m, accession="q3", filed="2023-08-04"
        ),
        fact(
            "Revenues", "2022-09-25", "2023-07-01", 293_787 * m, accession="q3", filed="2023-08-04"
        ),
    ]
    warehouse = build(tmp_path, facts)
    revenue = quarterly(warehouse, "revenue")
    assert labelled(
        revenue, "fiscal_year", "fiscal_quarter", "calendar_year", "calendar_quarter", "value"
    ) == [
        (2023, 1, 2022, 4, 117_154 * m),
        (2023, 2, 2023, 1, 94_836 * m),
        (2023, 3, 2023, 2, 81_797 * m),
        (2023, 4, 2023, 3, 89_498 * m),
    ]
    # the 98-day first quarter is kept whole
    assert (revenue[0]["period_start"], revenue[0]["period_end"]) == (
        date(2022, 9, 25),
        date(2022, 12, 31),
    )
    assert revenue[3]["derivation"] == "annual_minus_ytd"


def test_fact_filed_only_in_a_proxy_statement_is_ignored(tmp_path):
    """Root cause: proxy statements (DEF 14A) tag net income for five years in the
    pay-versus-performance table. Taken as filings, they add years no periodic report covers
    and, being filed after the 10-K, override its figure (here with a rounded one)."""
    proxy = dict(accession="proxy", filed="2024-04-20", form="DEF 14A", fy=2023, fp="FY")
    facts = calendar_year(2023, "NetIncomeLoss", (10, 20, 30, 41)) + [
        fact("NetIncomeLoss", "2023-01-01", "2023-12-31", 100, **proxy),
        fact("NetIncomeLoss", "2019-01-01", "2019-12-31", 77, **proxy),
    ]
    warehouse = build(tmp_path, facts)
    annual = rows(
        warehouse,
        "select fiscal_year, value, accession from staging.int_metric_annual "
        "where metric = 'net_income' order by fiscal_year",
    )
    assert annual == [{"fiscal_year": 2023, "value": 101, "accession": "2023-k"}]
    q4 = quarterly(warehouse, "net_income")[-1]
    assert (q4["fiscal_quarter"], q4["value"], q4["accession"]) == (4, 41, "2023-k")


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


def test_capex_incurred_but_not_yet_paid_is_never_capex(tmp_path):
    """Root cause: CapitalExpendituresIncurredButNotYetPaid (a non-cash supplemental
    disclosure) matched a loose 'CapitalExpenditure' pattern and replaced cash capex."""
    facts = calendar_year(2023, PPE, (1, 2, 3, 4), cash_flow=True) + [
        fact(
            "CapitalExpendituresIncurredButNotYetPaid",
            "2024-01-01",
            "2024-03-31",
            999,
            accession="2024-q1",
            filed="2024-05-01",
        ),
    ]
    warehouse = build(tmp_path, facts)
    assert [r["fiscal_year"] for r in quarterly(warehouse, "capex")] == [2023] * 4


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


def test_fiscal_and_calendar_labels_of_a_january_year_end(tmp_path):
    """Root cause: labelling a fiscal year by the year it starts, or a quarter by the
    calendar quarter it mostly covers, shifts NVIDIA by a year or a quarter. Its fiscal 2025
    ran 2024-01-29 to 2025-01-26; its quarter ended 2024-07-28 is calendar 2024 Q2."""
    tenk = dict(accession="k", filed="2025-02-26", form="10-K")
    ends = ["2024-04-28", "2024-07-28", "2024-10-27", "2025-01-26"]
    starts = ["2024-01-29", "2024-04-29", "2024-07-29", "2024-10-28"]
    facts = [fact("Revenues", "2024-01-29", "2025-01-26", 100, **tenk)] + [
        fact("Revenues", s, e, 25, accession=f"q{i}", filed="2024-11-20")
        for i, (s, e) in enumerate(zip(starts[:3], ends[:3], strict=True))
    ]
    warehouse = build(tmp_path, facts)
    revenue = quarterly(warehouse, "revenue")
    assert labelled(
        revenue, "fiscal_year", "fiscal_quarter", "calendar_year", "calendar_quarter", "period_end"
    ) == [
        (2025, 1, 2024, 1, date(2024, 4, 28)),
        (2025, 2, 2024, 2, date(2024, 7, 28)),
        (2025, 3, 2024, 3, date(2024, 10, 27)),
        (2025, 4, 2024, 4, date(2025, 1, 26)),
    ]


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


def test_company_override_in_the_metric_map(tmp_path):
    """Root cause: one global candidate order cannot serve every company: Amazon's capex is
    PaymentsToAcquireProductiveAssets. Its own rows in the map replace the default ones."""
    both = [
        fact(PPE, "2023-01-01", "2023-12-31", 5, accession="k", filed="2024-02-01", form="10-K"),
        fact(
            PRODUCTIVE,
            "2023-01-01",
            "2023-12-31",
            7,
            accession="k",
            filed="2024-02-01",
            form="10-K",
        ),
    ]
    warehouse = new_warehouse(tmp_path)
    land_facts(warehouse, {"AMZN": facts_frame(both, "AMZN"), "TEST": facts_frame(both, "TEST")})
    build_quarter_marts(warehouse)
    annual = rows(warehouse, "select ticker, capex from marts.capex_annual order by ticker")
    assert annual == [{"ticker": "AMZN", "capex": 7}, {"ticker": "TEST", "capex": 5}]


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

COMPANYFACTS = {"AAPL": 320193, "NVDA": 1045810, "GOOGL": 1652044}


@pytest.fixture(scope="module")
def real(shared_fixtures: Path, tmp_path_factory) -> Warehouse:
    """The quarter marts over the recorded companyfacts and filing documents."""
    from pipelines.sec.companyfacts import normalize_companyfacts
    from pipelines.sec.facts import merge_facts
    from tests.sec_server import RECORDED_FILINGS

    frames = {}
    tickers = sorted({f.ticker for f in RECORDED_FILINGS} | set(COMPANYFACTS))
    for ticker in tickers:
        cik = COMPANYFACTS.get(ticker)
        from_companyfacts = []
        if cik:
            path = shared_fixtures / "sec" / "companyfacts" / f"CIK{cik:010d}.json"
            from_companyfacts = [normalize_companyfacts(json.loads(path.read_text()), ticker, cik)]
        from_filings = [
            f.facts(shared_fixtures / "sec") for f in RECORDED_FILINGS if f.ticker == ticker
        ]
        if from_companyfacts:
            frames[ticker] = merge_facts(from_companyfacts[0], from_filings)
        else:
            frames[ticker] = merge_facts(from_filings[0], from_filings[1:])
    warehouse = new_warehouse(tmp_path_factory.mktemp("real-marts"))
    land_facts(warehouse, frames)
    build_quarter_marts(warehouse)
    return warehouse


def one(warehouse: Warehouse, sql: str, params: list | None = None) -> dict:
    result = rows(warehouse, sql, params)
    assert len(result) == 1, result
    return result[0]


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


def test_nvidia_fiscal_2025_q2_revenue_up_122_percent(real):
    # SOURCES.md (CY2024Q2 Revenues 30,040,000,000) and NVIDIA's Q2 fiscal 2025 results:
    # revenue $30.04 billion, up 122% from a year ago ($13.51 billion).
    row = one(
        real,
        "select * from marts.revenue_growth where ticker = 'NVDA' "
        "and fiscal_year = 2025 and fiscal_quarter = 2",
    )
    assert row["revenue"] == 30_040_000_000
    assert row["period_end"] == date(2024, 7, 28)
    assert (row["calendar_year"], row["calendar_quarter"]) == (2024, 2)
    assert round(row["revenue_yoy"], 3) == 1.224


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


def test_apple_14_week_quarter_of_its_53_week_fiscal_2023(real):
    # Apple's Q1 fiscal 2023 (14 weeks, ended 2022-12-31) results: revenue $117.154 billion;
    # fiscal 2023 (53 weeks) revenue 383,285,000,000 (SOURCES.md, frame CY2023).
    rows_ = rows(
        real,
        "select fiscal_quarter, period_start, period_end, value from marts.metric_quarterly "
        "where ticker = 'AAPL' and metric = 'revenue' and fiscal_year = 2023 "
        "order by fiscal_quarter",
    )
    assert [r["fiscal_quarter"] for r in rows_] == [1, 2, 3, 4]
    assert (rows_[0]["period_start"], rows_[0]["period_end"]) == (
        date(2022, 9, 25),
        date(2022, 12, 31),
    )
    assert rows_[0]["value"] == 117_154_000_000
    assert sum(r["value"] for r in rows_) == 383_285_000_000


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


def test_nvidia_fiscal_2025_capex_from_productive_assets(real):
    # SOURCES.md: NVIDIA PaymentsToAcquireProductiveAssets FY2025 (2024-01-29..2025-01-26)
    # 3,236,000,000; fiscal 2025 revenue 130,497,000,000.
    annual = one(
        real, "select * from marts.capex_annual where ticker = 'NVDA' and fiscal_year = 2025"
    )
    assert annual["capex"] == 3_236_000_000
    assert annual["revenue"] == 130_497_000_000
    quarters = rows(
        real,
        "select value, concept from marts.metric_quarterly where ticker = 'NVDA' "
        "and metric = 'capex' and fiscal_year = 2025",
    )
    assert len(quarters) == 4
    assert {r["concept"] for r in quarters} == {PRODUCTIVE}
    assert sum(r["value"] for r in quarters) == 3_236_000_000


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


def test_nvidia_fiscal_year_label_ignores_the_filings_own_fy(real):
    # NVIDIA's 10-K for the year ended 2011-01-30 (accession 0001045810-11-000015) calls it
    # fiscal year 2011, but its XBRL DocumentFiscalYearFocus says 2010 (companyfacts fy).
    fy = one(
        real,
        "select distinct fiscal_year from staging.facts where accession = "
        "'0001045810-11-000015' and concept = 'Revenues' and period_end = '2011-01-30'",
    )
    assert fy["fiscal_year"] == 2010
    year = one(
        real,
        "select * from staging.int_fiscal_years where ticker = 'NVDA' and fy_end = '2011-01-30'",
    )
    assert (year["fiscal_year"], year["fy_start"]) == (2011, date(2010, 2, 1))


def test_nvidia_misdated_comparative_quarter_does_not_duplicate_it(real):
    # NVIDIA's fiscal 2012 10-K dates fiscal 2011 Q2 to 2010-07-31; its 10-Qs say 2010-08-01.
    # Fiscal 2011 Q2 revenue: $811.2 million (NVIDIA's Q2 fiscal 2011 results).
    row = one(
        real,
        "select * from marts.metric_quarterly where ticker = 'NVDA' and metric = 'revenue' "
        "and fiscal_year = 2011 and fiscal_quarter = 2",
    )
    assert (row["period_start"], row["period_end"]) == (date(2010, 5, 3), date(2010, 8, 1))
    assert row["value"] == 811_208_000


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
        "and fiscal_year = 2024 and fiscal_quarter is null",
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


def test_checks_pass_on_the_real_filings(real):
    with real.connect() as con:
        outcomes = {
            table: mart_checks.unique_keys(con, table, grains(table)) for table in QUARTER_MARTS
        }
        outcomes["quarters_sum_to_year"] = mart_checks.quarters_sum_to_year(con)
        outcomes["no_negative"] = mart_checks.no_negative_revenue_or_capex(con)
    failing = {name: o.sample for name, o in outcomes.items() if not o.passed}
    assert not failing, failing


# --- through `capex run` (the lead's end-to-end fixture over the local SEC) -----------------


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
