"""Local price providers for the market tests (see price_servers.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.market.price_servers import FakeStooq, FakeYahoo


@pytest.fixture
def fake_stooq(httpserver: HTTPServer, shared_fixtures: Path) -> FakeStooq:
    """Stooq with the recorded stooq-layout files of NVDA, AAPL and GOOGL, demanding a key."""
    folder = shared_fixtures / "prices" / "stooq"
    app = FakeStooq(
        {f"{t.lower()}.us": (folder / f"{t}.csv").read_bytes() for t in ("NVDA", "AAPL", "GOOGL")}
    )
    httpserver.expect_request(re.compile(r"^/q/d/l/$")).respond_with_handler(app)
    app.url = httpserver.url_for("").rstrip("/")
    return app


@pytest.fixture
def fake_yahoo(httpserver: HTTPServer, shared_fixtures: Path) -> FakeYahoo:
    """Yahoo's chart API; a test fills in what it serves."""
    app = FakeYahoo(shared_fixtures / "prices" / "yahoo")
    httpserver.expect_request(re.compile(r"^/v8/finance/chart/[^/]+$")).respond_with_handler(app)
    app.url = httpserver.url_for("").rstrip("/")
    return app
