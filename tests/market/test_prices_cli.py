"""`capex prices check` and the per-ticker provider lines of `capex run`'s summary."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from pipelines.cli import price_summary_lines
from tests.conftest import ROOT, run_capex
from tests.market.price_servers import series_from_csv

D = date.fromisoformat


def test_prices_check_compares_every_provider(fake_yahoo, fake_stooq, shared_fixtures, tmp_path):
    """Yahoo (built from the yfinance export) and Stooq (the stooq recording) agree on NVIDIA
    within 1% on their 1,708 common days, except one day altered here by 5%: exit 1, and the
    day is named."""
    fake_yahoo.series["NVDA"] = series_from_csv(
        shared_fixtures / "prices/NVDA.csv",
        [(D("2021-07-20"), 4.0), (D("2024-06-10"), 10.0)],
        first=D("2018-12-03"),
    )
    body = fake_stooq.bodies["nvda.us"].decode()
    line = next(x for x in body.splitlines() if x.startswith("2024-07-31,"))
    fields = line.split(",")
    fields[4] = f"{float(fields[4]) * 1.05:.3f}"
    fake_stooq.bodies["nvda.us"] = body.replace(line, ",".join(fields)).encode()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPEX_", "DAGSTER_"))}
    env.update(
        CAPEX_YAHOO_URL=fake_yahoo.url,
        CAPEX_PRICES_URL=fake_stooq.url,
        CAPEX_STOOQ_APIKEY=fake_stooq.key,
        CAPEX_RAW_DIR=str(tmp_path / "raw"),
        CAPEX_WAREHOUSE=str(tmp_path / "warehouse" / "capex.duckdb"),
        CAPEX_PRICES_RATE="50",
        CAPEX_HTTP_MAX_ATTEMPTS="2",
        PYTHONPATH=str(ROOT),
    )
    result = run_capex(env, "prices", "check", "--tickers", "NVDA", timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "NVDA     yahoo     1,829 days 2018-12-03 .. 2026-03-16" in out
    assert "NVDA     stooq     6,706 days 1999-01-22 .. 2025-09-19" in out
    assert "NVDA     yahoo vs stooq: 1708 common days, 1 differ by more than 1%" in out
    assert "2024-07-31: 116.964 vs 122.852 (-4.79%)" in out  # 117.002 × 1.05 at Stooq
    assert "SPX      yahoo    no answer: SPX from yahoo ('^GSPC')" in out
    assert "Stooq has no data for symbol '^spx'" in out
    assert fake_stooq.key not in out + result.stderr
    assert not any(fake_stooq.key in str(p) for p in Path(tmp_path / "raw").rglob("*"))


def test_run_summary_names_the_provider_and_why_others_were_passed_over():
    providers = {
        "NVDA": {"provider": "yahoo", "days": 1829, "note": "", "passed_over": []},
        "AAPL": {
            "provider": "stooq",
            "days": 10339,
            "note": "",
            "passed_over": [["yahoo", "AAPL from yahoo ('AAPL'): HTTP 404"]],
        },
        "SPX": {
            "provider": None,
            "days": 0,
            "note": "",
            "passed_over": [["yahoo", "HTTP 429"], ["stooq", "Stooq skipped: set CAPEX_STOOQ"]],
        },
    }
    assert price_summary_lines(providers) == [
        "NVDA     yahoo     1,829 days",
        "AAPL     stooq    10,339 days  (passed over: yahoo: AAPL from yahoo ('AAPL'): HTTP 404)",
        "SPX      -        no provider answered (yahoo: HTTP 429; stooq: Stooq skipped: set "
        "CAPEX_STOOQ)",
    ]


def test_capex_run_prints_the_provider_of_each_ticker(built_warehouse: Path):
    """The test build reads the recorded CSVs (CAPEX_PRICES_DIR): every ticker from 'file'."""
    log = (built_warehouse.parent.parent / "run.log").read_text()
    assert "prices: the provider of each ticker" in log
    assert "  NVDA     file      3,771 days" in log
    assert "  META     file      3,475 days" in log
    assert "  SPX      file      3,771 days" in log
