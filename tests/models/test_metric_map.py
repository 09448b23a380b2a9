"""Which facts are a metric: the metric map's concepts (a company's own rows first), from
periodic reports only, never a non-cash look-alike.
"""

from __future__ import annotations

from tests.quarter_support import (
    PPE,
    PRODUCTIVE,
    build,
    build_quarter_marts,
    calendar_year,
    fact,
    facts_frame,
    land_facts,
    new_warehouse,
    one,
    quarterly,
    rows,
)

# --- regression tests on hand-made facts ----------------------------------------------------


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


# --- the real filings ------------------------------------------------------------------------


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
