"""Without ECB rates the news still lands: USD claims are checked, others are unverifiable.

Regression (issue 12): with the ECB unreachable, `staging__fx_rates` failed its step and took
every news claim down with it, including the claims in US dollars that need no rate at all.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from pipelines.news.checks import check_claims
from pipelines.news.claims.fx import convert_to_usd
from pipelines.news.claims.schema import CLAIM_SCHEMA
from tests.news.test_news_e2e import (  # noqa: F401 (fixtures used below)
    EXPECTED,
    checked_claims,
    find,
    news_site,
    query,
    run_news,
    workdir,
)

B = 1e9

# NVIDIA's Q2 FY2025 (2024-04-29 .. 2024-07-28) revenue, 30,040 M (its 10-Q)
QUARTERLY = pl.DataFrame(
    {
        "ticker": ["NVDA"],
        "metric": ["revenue"],
        "fiscal_year": [2025],
        "fiscal_quarter": [2],
        "calendar_year": [2024],
        "calendar_quarter": [2],
        "period_start": [date(2024, 4, 29)],
        "period_end": [date(2024, 7, 28)],
        "value": [30.04 * B],
        "concept": ["us-gaap:Revenues"],
        "derivation": ["reported"],
        "accession": ["0001045810-24-000264"],
        "filed": [date(2024, 8, 28)],
    },
    schema_overrides={"fiscal_year": pl.Int32, "fiscal_quarter": pl.Int32,
                      "calendar_year": pl.Int32, "calendar_quarter": pl.Int32},
)  # fmt: skip


def _claims(rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows)
    missing = [pl.lit(None, t).alias(n) for n, t in CLAIM_SCHEMA.items() if n not in frame.columns]
    return frame.with_columns(missing).select(list(CLAIM_SCHEMA)).cast(CLAIM_SCHEMA)  # type: ignore[arg-type]


def test_without_rates_usd_claims_are_checked_and_others_unverifiable(reliability):
    reliability.record(
        "FX rates unavailable",
        2,
        "USD claims checked; non-USD claims unverifiable, naming currency and day",
    )
    common = {
        "article_id": "a",
        "ticker": "NVDA",
        "metric": "revenue",
        "period_start": date(2024, 4, 29),
        "period_end": date(2024, 7, 28),
        "unit": "money",
        "forecast": False,
        "period_basis": "fiscal",
        "published_at": datetime(2024, 8, 5, 9, 30, tzinfo=UTC),
    }
    claims = _claims(
        [
            {
                **common,
                "claim_id": "usd",
                "value": 30.04 * B,
                "currency": "USD",
                "precision_usd": 5e6,
            },
            {
                **common,
                "claim_id": "cny",
                "value": 218.0 * B,
                "currency": "CNY",
                "precision_usd": 5e8,
            },
        ]  # fmt: skip
    )
    checks = check_claims(convert_to_usd(claims, None), QUARTERLY)
    by_id = {row["claim_id"]: row for row in checks.to_dicts()}
    assert by_id["usd"]["verdict"] == "match"
    assert by_id["usd"]["filed_value"] == pytest.approx(30.04 * B)
    assert by_id["cny"]["verdict"] == "unverifiable"
    assert by_id["cny"]["explanation"].startswith("no exchange rate for CNY on 2024-08-05; ")


def test_an_unreachable_ecb_keeps_the_last_rates_and_the_news(
    reliability,
    monkeypatch,
    workdir,  # noqa: F811 (the fixture imported above)
    news_site,  # noqa: F811
):
    reliability.record(
        "ECB unreachable (HTTP 404) after a good run",
        1,
        "last good rates kept; every claim still gets its verdict; check rates_refreshed fails",
    )
    run_news(monkeypatch, workdir, news_site)
    rates_before = query(workdir, "SELECT * FROM staging.fx_rates ORDER BY ALL")
    assert len(rates_before) > 0
    result = run_news(
        monkeypatch, workdir, news_site, CAPEX_FX_URL=f"{news_site.base}/gone/eurofxref"
    )
    failed = [e.asset_check_key.name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == ["rates_refreshed"]
    meta = result.asset_materializations_for_node("staging__fx_rates")[0].metadata
    assert "gone/eurofxref/eurofxref-hist.zip: HTTP 404 (no eurofxref-hist.zip" in (
        meta["error"].value
    )
    assert meta["capex/kept"].value.startswith(f"FX: {len(rates_before)} rates up to ")
    assert query(workdir, "SELECT * FROM staging.fx_rates ORDER BY ALL") == rates_before
    claims = checked_claims(workdir)
    for page, ticker, metric, segment, start, _end, claimed, _filed, verdict in EXPECTED:
        row = find(claims, page, ticker, metric, segment, start, claimed)
        assert row["verdict"] == verdict, f"{page} {ticker} {metric}: {row['explanation']}"
