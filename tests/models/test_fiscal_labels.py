"""Fiscal and calendar labels of quarters: found from the dates of the periods (never the
fy/fp of the filing that carries a fact), for 52/53-week years, January year ends and
filings that misdate a comparative.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.quarter_support import (
    build,
    fact,
    labelled,
    one,
    quarterly,
    rows,
)

# --- regression tests on hand-made facts ----------------------------------------------------


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


# --- the real filings ------------------------------------------------------------------------


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
