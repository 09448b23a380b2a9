"""Fixtures of the model tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.warehouse import Warehouse
from pipelines.sec.companyfacts import normalize_companyfacts
from pipelines.sec.facts import merge_facts
from tests.quarter_support import build_quarter_marts, land_facts, new_warehouse
from tests.sec_server import RECORDED_FILINGS

COMPANYFACTS = {"AAPL": 320193, "NVDA": 1045810, "GOOGL": 1652044}


@pytest.fixture(scope="session")
def real(shared_fixtures: Path, tmp_path_factory) -> Warehouse:
    """The quarter marts over the recorded companyfacts and filing documents (built once)."""
    frames = {}
    tickers = sorted({f.ticker for f in RECORDED_FILINGS} | set(COMPANYFACTS))
    for ticker in tickers:
        cik = COMPANYFACTS.get(ticker)
        from_companyfacts = []
        if cik:
            path = shared_fixtures / "sec" / "companyfacts" / f"CIK{cik:010d}.json"
            from_companyfacts = [normalize_companyfacts(path.read_bytes(), ticker, cik)]
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
