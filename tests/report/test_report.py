"""The HTML report and its PNG charts.

A small hand-made warehouse holds mart rows with figures from the companies' own filings
(Alphabet's and NVIDIA's 10-Qs, Amazon's and Alphabet's 10-Ks), so the test knows what each chart
must carry; some marts are left out or empty on purpose, and the report must say so in their
place. Then the report asset runs through Dagster, and `capex run` writes the report too.
"""

from __future__ import annotations

import struct
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.report import SECTIONS, build_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Alphabet, purchases of property and equipment: Q1 2024 12,012 M; six months to 2024-06-30
# 25,198 M, so Q2 13,186 M (10-Qs 0001652044-24-000053 and -000079); revenues Q1 80,539 M and
# Q2 84,742 M. NVIDIA Q2 FY2025 (ended 2024-07-28): revenue 30,040 M; purchases related to
# property and equipment and intangible assets 1,346 M for six months less 369 M for Q1 = 977 M.
CAPEX_QUARTERLY = [
    # ticker, fy, fq, cy, cq, period_end, capex, revenue
    ("GOOGL", 2024, 1, 2024, 1, "2024-03-31", 12_012_000_000, 80_539_000_000),
    ("GOOGL", 2024, 2, 2024, 2, "2024-06-30", 13_186_000_000, 84_742_000_000),
    ("NVDA", 2025, 2, 2024, 2, "2024-07-28", 977_000_000, 30_040_000_000),
]
# Segment revenue from the 10-Ks: AWS 90,757 M (2023) and 107,556 M (2024); Google Cloud
# 43,229 M (2024); Google Services 304,930 M (2024) is not a cloud segment.
SEGMENTS = [
    ("AMZN", "Amazon Web Services", "2023-01-01", "2023-12-31", 90_757_000_000, None),
    ("AMZN", "Amazon Web Services", "2024-01-01", "2024-12-31", 107_556_000_000, 0.1851),
    ("GOOGL", "Google Cloud", "2024-01-01", "2024-12-31", 43_229_000_000, 0.3065),
    ("GOOGL", "Google Services", "2024-01-01", "2024-12-31", 304_930_000_000, 0.1),
]
# Claims (our own sentences) and their verdicts as marts.claim_checks would hold them.
CLAIMS = [
    ("c1", "GOOGL", "capex", "2024-04-01", "2024-06-30", 13_200_000_000, 13_186_000_000,
     0.0010617, "match", "within the claim's rounding"),
    ("c2", "NVDA", "revenue", "2024-04-29", "2024-07-28", 35_000_000_000, 30_040_000_000,
     0.1651132, "mismatch", "the filed revenue is 30,040 M"),
]  # fmt: skip


def _make_warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        """CREATE TABLE marts.capex_quarterly (ticker VARCHAR, fiscal_year INTEGER,
        fiscal_quarter INTEGER, calendar_year INTEGER, calendar_quarter INTEGER, period_end DATE,
        capex DECIMAL(38,10), capex_yoy DOUBLE, capex_ttm DECIMAL(38,10), capex_ttm_yoy DOUBLE,
        revenue DECIMAL(38,10), capex_to_revenue DOUBLE, operating_cash_flow DECIMAL(38,10),
        free_cash_flow DECIMAL(38,10))"""
    )
    for ticker, fy, fq, cy, cq, end, capex, revenue in CAPEX_QUARTERLY:
        con.execute(
            "INSERT INTO marts.capex_quarterly (ticker, fiscal_year, fiscal_quarter, "
            "calendar_year, calendar_quarter, period_end, capex, revenue, capex_to_revenue) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ticker, fy, fq, cy, cq, end, capex, revenue, capex / revenue],
        )
    con.execute(
        """CREATE TABLE marts.capex_by_calendar_quarter AS
        SELECT calendar_year, calendar_quarter, count(*)::INTEGER AS companies,
               sum(capex) AS capex, NULL::DOUBLE AS capex_yoy
        FROM marts.capex_quarterly GROUP BY ALL"""
    )
    con.execute(
        """CREATE TABLE marts.segment_revenue (ticker VARCHAR, segment VARCHAR,
        period_start DATE, period_end DATE, revenue DECIMAL(38,10), yoy DOUBLE)"""
    )
    con.executemany("INSERT INTO marts.segment_revenue VALUES (?, ?, ?, ?, ?, ?)", SEGMENTS)
    con.execute(
        """CREATE TABLE marts.valuation_daily (ticker VARCHAR, date DATE, close DOUBLE,
        pe DOUBLE, ps DOUBLE, ev_ebitda DOUBLE, fcf_yield DOUBLE)"""
    )
    con.execute(
        """CREATE TABLE marts.claim_checks (claim_id VARCHAR, ticker VARCHAR, metric VARCHAR,
        period_start DATE, period_end DATE, claimed_value DOUBLE, filed_value DOUBLE,
        deviation DOUBLE, verdict VARCHAR, explanation VARCHAR)"""
    )
    con.executemany("INSERT INTO marts.claim_checks VALUES (?,?,?,?,?,?,?,?,?,?)", CLAIMS)
    con.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse" / "capex.duckdb"
    path.parent.mkdir()
    _make_warehouse(path)
    return path


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def _chart_rows(result) -> list[dict]:
    spec = result.chart.to_dict()  # validates the spec against Vega-Lite's schema
    (rows,) = spec["datasets"].values()  # Altair moves inline values into one named dataset
    return rows


def test_report_charts_the_figures_and_notes_what_is_missing(warehouse: Path, tmp_path: Path):
    out = warehouse.parent / "reports"
    out.mkdir()
    (out / "valuation.png").write_bytes(PNG_MAGIC)  # a picture from an earlier report
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        files = build_report(con, out, source=str(warehouse))
    finally:
        con.close()
    results = {r.section.id: r for r in files.results}
    assert set(results) == {s.id for s in SECTIONS}

    stacked = {(r["quarter"], r["ticker"]): r["capex_bn"] for r in _chart_rows(
        results["capex_by_company"])}  # fmt: skip
    assert stacked == {
        ("2024 Q1", "GOOGL"): pytest.approx(12.012),
        ("2024 Q2", "GOOGL"): pytest.approx(13.186),
        ("2024 Q2", "NVDA"): pytest.approx(0.977),
    }
    universe = {r["quarter"]: (r["capex_bn"], r["companies"]) for r in _chart_rows(
        results["capex_universe"])}  # fmt: skip
    assert universe["2024 Q2"] == (pytest.approx(14.163), 2)
    intensity = {(r["ticker"], r["period_end"]): r["intensity_pct"] for r in _chart_rows(
        results["capex_intensity"])}  # fmt: skip
    assert intensity[("GOOGL", "2024-06-30")] == pytest.approx(100 * 13_186 / 84_742)
    cloud = {(r["label"], r["period_end"]): r["revenue_bn"] for r in _chart_rows(
        results["cloud_segments"])}  # fmt: skip
    assert cloud == {
        ("Amazon Web Services (AMZN)", "2023-12-31"): pytest.approx(90.757),
        ("Amazon Web Services (AMZN)", "2024-12-31"): pytest.approx(107.556),
        ("Google Cloud (GOOGL)", "2024-12-31"): pytest.approx(43.229),
    }

    # a PNG per chart, none for the sections left out (the stale one is gone)
    assert set(files.pngs) == {
        "capex_by_company",
        "capex_universe",
        "capex_intensity",
        "cloud_segments",
    }
    for png in files.pngs.values():
        width, height = _png_size(png)
        assert width > 400 and height > 200
    assert not (out / "valuation.png").exists()
    assert not list(out.glob(".build-*"))

    assert files.notes.keys() == {"capex_vs_growth", "valuation"}
    page = files.html.read_text()
    assert "marts.revenue_growth is not in the warehouse yet" in page
    assert "marts.valuation_daily has no rows to show here: it needs daily prices" in page
    assert page.count("<svg") == 4 and "<script" not in page
    # the claims table, mismatches first, values in billions, deviation as a percentage
    table = page[page.index('id="claim_checks"') :]
    assert table.index("mismatch") < table.index(">match<")
    for text in ("13.200 bn", "13.186 bn", "+0.11%", "35.000 bn", "+16.51%"):
        assert text in table


def test_charts_start_at_capex_since(warehouse: Path):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        files = build_report(con, warehouse.parent / "r", "w", since=date(2024, 4, 1))
    finally:
        con.close()
    rows = _chart_rows(next(r for r in files.results if r.section.id == "capex_by_company"))
    assert {r["quarter"] for r in rows} == {"2024 Q2"}
    # the claims table is not cut: both claims are listed
    claims = next(r for r in files.results if r.section.id == "claim_checks")
    assert claims.frame.height == 2


def test_report_of_a_warehouse_without_marts_is_all_notes(tmp_path: Path):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    con = duckdb.connect(str(path), read_only=True)
    try:
        files = build_report(con, tmp_path / "reports", "empty")
    finally:
        con.close()
    assert files.pngs == {}
    assert set(files.notes) == {s.id for s in SECTIONS}
    page = files.html.read_text()
    for section in SECTIONS:
        assert f"{section.table} is not in the warehouse yet" in page


def test_a_mart_missing_a_column_is_named(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.capex_quarterly (ticker VARCHAR, period_end DATE)")
    con.close()
    con = duckdb.connect(str(path), read_only=True)
    try:
        files = build_report(con, tmp_path / "reports", "w")
    finally:
        con.close()
    assert files.notes["capex_by_company"].startswith(
        "marts.capex_quarterly has no column calendar_year, calendar_quarter, capex"
    )


def test_report_asset_links_to_the_report_and_previews_a_chart(warehouse: Path, monkeypatch):
    from pipelines.core.resources import CapexResource
    from pipelines.report.assets import REPORT, capex_report

    monkeypatch.setenv("CAPEX_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("CAPEX_SINCE", "2019-01-01")
    result = dg.materialize([capex_report], resources={"capex": CapexResource()})
    assert result.success
    (event,) = result.asset_materializations_for_node(capex_report.node_def.name)
    assert event.asset_key == REPORT
    metadata = event.metadata
    report = warehouse.parent / "reports" / "capex_report.html"
    assert metadata["report"].value == str(report.resolve())
    assert metadata["report_url"].value == report.resolve().as_uri()
    assert metadata["charts"].value == 4
    preview = metadata["preview"].value
    assert "![Quarterly capex by company](data:image/png;base64," in preview
    assert "**valuation** left out" in preview
    assert set(metadata["sections_left_out"].value) == {"capex_vs_growth", "valuation"}


def test_capex_run_writes_the_report(built_warehouse: Path):
    report = built_warehouse.parent / "reports" / "capex_report.html"
    page = report.read_text()
    assert f"from {built_warehouse}" in page
    # Alphabet's and NVIDIA's quarters come from their companyfacts: the capex charts are drawn
    for section in ("capex_by_company", "capex_universe", "capex_intensity"):
        assert (report.parent / f"{section}.png").read_bytes()[:8] == PNG_MAGIC
