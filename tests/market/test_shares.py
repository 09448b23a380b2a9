"""Shares outstanding: class summing, split detection and adjustment.

Hand-made frames pin the rules; the real companyfacts and the Alphabet 10-K in
../shared/fixtures (loaded into a real staging.facts through the project's own normalisers)
pin published figures: Alphabet's 5,833 M + 860 M + 5,497 M shares on 2025-01-28 (10-K cover
page), Apple's 7:1 (June 2014) and 4:1 (August 2020) splits, NVIDIA's 4:1 (July 2021) and 10:1
(June 2024) splits.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.core import tables
from pipelines.core.warehouse import Warehouse
from pipelines.market.shares import (
    RATIO_FACTS_SCHEMA,
    SHARE_FACTS_SCHEMA,
    adjust_for_splits,
    cover_page_counts,
    detect_splits,
    shares_outstanding,
)
from pipelines.sec.companyfacts import normalize_companyfacts
from pipelines.sec.facts import FACTS_INSERT_SELECT, filing_facts, merge_facts
from pipelines.sec.xbrl import parse_xbrl

D = date.fromisoformat
CLASS_A, CLASS_B = "us-gaap:CommonClassAMember", "us-gaap:CommonClassBMember"


def share_facts(*rows) -> pl.DataFrame:
    """(ticker, accession, filed, period_end, value, share_class[, other_dimensions])"""
    records = []
    for row in rows:
        ticker, accession, filed, end, value, share_class, *other = row
        records.append(
            {
                "ticker": ticker,
                "accession": accession,
                "form": "10-Q",
                "filed": D(filed),
                "period_end": D(end),
                "value": float(value),
                "share_class": share_class,
                "other_dimensions": bool(other and other[0]),
            }
        )
    return pl.DataFrame(records, schema=SHARE_FACTS_SCHEMA)


def ratio_facts(*rows) -> pl.DataFrame:
    """(ticker, period_end, filed, value)"""
    return pl.DataFrame(
        [
            {
                "ticker": t,
                "concept": "StockholdersEquityNoteStockSplitConversionRatio1",
                "period_end": D(end),
                "filed": D(filed),
                "value": float(v),
            }
            for t, end, filed, v in rows
        ],
        schema=RATIO_FACTS_SCHEMA,
    )


NO_RATIOS = ratio_facts()


# --- class summing ------------------------------------------------------------------------


def test_classes_are_summed_when_no_total_is_reported():
    facts = share_facts(
        ("GOOGL", "a1", "2025-02-05", "2025-01-28", 5_833e6, CLASS_A),
        ("GOOGL", "a1", "2025-02-05", "2025-01-28", 860e6, CLASS_B),
        ("GOOGL", "a1", "2025-02-05", "2025-01-28", 5_497e6, "goog:CapitalClassCMember"),
        # the same class again (e.g. from companyfacts and the document): counted once
        ("GOOGL", "a1", "2025-02-05", "2025-01-28", 860e6, CLASS_B),
        # a fact on another axis too is not part of the company's count
        ("GOOGL", "a1", "2025-02-05", "2025-01-28", 1e6, CLASS_A, True),
    )
    [row] = cover_page_counts(facts).rows(named=True)
    assert row["shares_reported"] == 12_190e6
    assert row["share_classes"] == 3


def test_a_reported_total_wins_over_its_classes():
    facts = share_facts(
        ("META", "m1", "2024-02-02", "2024-01-26", 2_200e6, None),
        ("META", "m1", "2024-02-02", "2024-01-26", 1_850e6, CLASS_A),
        ("META", "m1", "2024-02-02", "2024-01-26", 350e6, CLASS_B),
        ("META", "m2", "2024-04-25", "2024-04-19", 2_190e6, None),
    )
    counts = cover_page_counts(facts)
    assert counts.select("accession", "shares_reported", "share_classes").rows() == [
        ("m1", 2_200e6, 0),
        ("m2", 2_190e6, 0),
    ]


# --- split detection ----------------------------------------------------------------------


def nvda_counts() -> pl.DataFrame:
    # NVIDIA's cover pages (companyfacts): 2.46 billion on 2024-05-24, 24.53 billion on
    # 2024-08-23 after the 10:1 split of June 2024.
    return cover_page_counts(
        share_facts(
            ("NVDA", "q1", "2024-02-21", "2024-02-16", 2_500e6, None),
            ("NVDA", "q2", "2024-05-29", "2024-05-24", 2_460e6, None),
            ("NVDA", "q3", "2024-08-28", "2024-08-23", 24_530e6, None),
            ("NVDA", "q4", "2024-11-20", "2024-11-15", 24_490e6, None),
        )
    )


def test_split_confirmed_by_the_filed_ratio():
    ratios = ratio_facts(("NVDA", "2024-05-31", "2024-08-28", 10))
    splits = detect_splits(nvda_counts(), ratios)
    assert splits.rows(named=True) == [
        {
            "ticker": "NVDA",
            "ratio": 10.0,
            "after_date": D("2024-05-24"),
            "before_date": D("2024-08-23"),
            "ratio_fact_date": D("2024-05-31"),
            "detected_from": "filing+share_count",
        }
    ]


def test_split_from_the_share_count_alone():
    splits = detect_splits(nvda_counts(), NO_RATIOS)
    assert splits.select("ratio", "after_date", "detected_from").rows() == [
        (10.0, D("2024-05-24"), "share_count")
    ]


def test_buybacks_and_issuance_are_not_splits():
    counts = cover_page_counts(
        share_facts(
            ("X", "1", "2023-01-10", "2023-01-05", 1_000e6, None),
            ("X", "2", "2023-04-10", "2023-04-05", 960e6, None),  # buyback
            ("X", "3", "2023-07-10", "2023-07-05", 1_500e6, None),  # share issuance: 1.56×
            ("X", "4", "2023-10-10", "2023-10-05", 2_700e6, None),  # 1.8×: not within 5% of 2
        )
    )
    assert detect_splits(counts, NO_RATIOS).height == 0


def test_issuance_around_a_split_needs_the_filed_ratio():
    # Tesla-like: 3:1 with share issuance between the counts → ratio 3.25, 8% off 3.
    counts = cover_page_counts(
        share_facts(
            ("T", "1", "2022-04-25", "2022-04-18", 1_000e6, None),
            ("T", "2", "2022-10-24", "2022-10-17", 3_250e6, None),
        )
    )
    assert detect_splits(counts, NO_RATIOS).height == 0
    confirmed = detect_splits(counts, ratio_facts(("T", "2022-08-25", "2022-10-24", 3)))
    assert confirmed.select("ratio", "detected_from").rows() == [(3.0, "filing+share_count")]


def test_three_for_two_split_is_found_from_its_filed_ratio():
    counts = cover_page_counts(
        share_facts(
            ("X", "1", "2007-05-10", "2007-05-01", 370e6, None),
            ("X", "2", "2007-11-10", "2007-11-01", 556e6, None),
        )
    )
    assert detect_splits(counts, NO_RATIOS).height == 0, "1.5× alone is not a whole split"
    found = detect_splits(counts, ratio_facts(("X", "2007-09-10", "2007-11-10", 1.5)))
    assert found.select("ratio", "detected_from").rows() == [(1.5, "filing+share_count")]


def test_reverse_split():
    counts = cover_page_counts(
        share_facts(
            ("R", "1", "2023-01-10", "2023-01-05", 800e6, None),
            ("R", "2", "2023-04-10", "2023-04-05", 80.5e6, None),
        )
    )
    assert detect_splits(counts, NO_RATIOS)["ratio"].to_list() == [0.1]


def test_announcement_dated_ratio_still_confirms():
    # Alphabet tagged its July 2022 20:1 split with 2022-02-01, the announcement date.
    counts = cover_page_counts(
        share_facts(
            ("GOOGL", "1", "2022-04-27", "2022-04-19", 660e6, None),
            ("GOOGL", "2", "2022-07-27", "2022-07-19", 13_100e6, None),
        )
    )
    found = detect_splits(counts, ratio_facts(("GOOGL", "2022-02-01", "2022-04-27", 20)))
    assert found.select("ratio", "detected_from").rows() == [(20.0, "filing+share_count")]


def test_split_known_from_filings_only_and_old_ratios_ignored():
    counts = nvda_counts().filter(pl.col("period_end") <= D("2024-05-24"))
    ratios = ratio_facts(
        ("NVDA", "2021-07-19", "2022-03-18", 4),  # before the first count: already reflected
        ("NVDA", "2024-05-31", "2024-08-28", 10),
        ("NVDA", "2024-06-30", "2025-05-28", 10),
    )
    splits = detect_splits(counts, ratios)
    assert splits.rows(named=True) == [
        {
            "ticker": "NVDA",
            "ratio": 10.0,
            "after_date": D("2024-05-24"),
            "before_date": None,
            "ratio_fact_date": D("2024-06-30"),
            "detected_from": "filing",
        }
    ]
    adjusted = adjust_for_splits(counts, splits)
    assert adjusted["shares_outstanding"].to_list() == [25_000e6, 24_600e6]


# --- adjustment ---------------------------------------------------------------------------


def test_counts_before_each_split_are_multiplied_by_every_later_ratio():
    counts = cover_page_counts(
        share_facts(
            ("NVDA", "a", "2021-05-26", "2021-05-21", 623e6, None),
            ("NVDA", "b", "2021-08-20", "2021-08-13", 2_500e6, None),
            ("NVDA", "c", "2024-05-29", "2024-05-24", 2_460e6, None),
            ("NVDA", "d", "2024-08-28", "2024-08-23", 24_530e6, None),
        )
    )
    shares, splits = shares_outstanding(
        share_facts(
            *[
                (
                    "NVDA",
                    r["accession"],
                    str(r["filed"]),
                    str(r["period_end"]),
                    r["shares_reported"],
                    None,
                )
                for r in counts.iter_rows(named=True)
            ]
        ),
        NO_RATIOS,
    )
    assert splits["ratio"].to_list() == [4.0, 10.0]
    assert shares.select("accession", "split_factor", "shares_outstanding").rows() == [
        ("a", 40.0, 24_920e6),
        ("b", 10.0, 25_000e6),
        ("c", 10.0, 24_600e6),
        ("d", 1.0, 24_530e6),
    ]


# --- real filings -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_facts_warehouse(shared_fixtures: Path, tmp_path_factory) -> Path:
    """A real staging.facts: NVDA and AAPL companyfacts, and Alphabet's FY2024 10-K document."""
    folder = tmp_path_factory.mktemp("shares")
    warehouse = Warehouse(folder / ".build" / "capex.duckdb", folder / "capex.duckdb")
    frames = {}
    for ticker, cik in (("NVDA", 1045810), ("AAPL", 320193)):
        document = (shared_fixtures / f"sec/companyfacts/CIK{cik:010d}.json").read_bytes()
        frames[ticker] = merge_facts(normalize_companyfacts(document, ticker, cik), [])
    body = (shared_fixtures / "sec/filings/GOOGL/10-K_2024-12-31/goog-20241231.htm").read_bytes()
    parsed = parse_xbrl(body, url="goog-20241231.htm")
    frames["GOOGL"] = merge_facts(
        normalize_companyfacts(b'{"facts": {}}', "GOOGL", 1652044),
        [
            filing_facts(
                parsed,
                ticker="GOOGL",
                cik=1652044,
                accession="0001652044-25-000014",
                form="10-K",
                filed=D("2025-02-05"),
            )
        ],
    )
    with warehouse.connect() as con:
        for ticker, frame in frames.items():
            warehouse.replace_rows(
                tables.FACTS, frame, {"ticker": ticker}, con, FACTS_INSERT_SELECT
            )
    return folder


def test_shares_asset_on_real_facts(real_facts_warehouse: Path, monkeypatch):
    from pipelines.core.resources import CapexResource
    from pipelines.market.assets import staging_shares

    monkeypatch.setenv("CAPEX_WAREHOUSE", str(real_facts_warehouse / "capex.duckdb"))
    result = dg.materialize([staging_shares], resources={"capex": CapexResource()})
    assert result.success
    con = duckdb.connect(str(real_facts_warehouse / ".build" / "capex.duckdb"), read_only=True)
    try:
        googl = con.execute(
            "SELECT period_end, shares_reported, share_classes, shares_outstanding "
            "FROM staging.shares_outstanding WHERE ticker = 'GOOGL'"
        ).fetchall()
        splits = con.execute(
            "SELECT ticker, ratio, after_date, before_date, detected_from "
            "FROM staging.stock_splits ORDER BY ticker, after_date"
        ).fetchall()
        nvda = dict(
            con.execute(
                "SELECT period_end, shares_outstanding FROM staging.shares_outstanding "
                "WHERE ticker = 'NVDA' AND period_end IN ('2024-05-24', '2024-08-23')"
            ).fetchall()
        )
    finally:
        con.close()
    # Alphabet 10-K FY2024 cover: 5,833 M class A + 860 M class B + 5,497 M class C.
    assert googl == [(D("2025-01-28"), 12_190e6, 3, 12_190e6)]
    assert splits == [
        ("AAPL", 7.0, D("2014-04-11"), D("2014-07-11"), "filing+share_count"),
        ("AAPL", 4.0, D("2020-07-17"), D("2020-10-16"), "filing+share_count"),
        ("NVDA", 4.0, D("2021-05-21"), D("2021-08-13"), "filing+share_count"),
        ("NVDA", 10.0, D("2024-05-24"), D("2024-08-23"), "filing+share_count"),
    ]
    assert nvda == {D("2024-05-24"): 24_600e6, D("2024-08-23"): 24_530e6}
