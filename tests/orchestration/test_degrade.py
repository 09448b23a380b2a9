"""`capex run` degrades per source and follows one exit-code rule (0, 1, 2, 3).

Runs the real command line against the local SEC (tests/sec_server.py) and the recorded
prices; each failure is made by taking one source away, never by patching our code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from tests.conftest import SHARED_FIXTURES, capex_environment, run_capex


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_exit_codes_and_what_each_failed_source_keeps(reliability, fake_sec, tmp_path):
    """A ticker whose prices fail used to exit 0 while an unreachable ECB exited 1 (issue 12):
    now a failed step is 1, a failed ERROR check (stale data kept) is 3, bad settings 2."""
    reliability.record(
        "a source fails (SEC company, prices ticker, bad settings)",
        4,
        "the others land; previous rows kept and listed; exit code 0/1/2/3 by one rule",
    )
    env = capex_environment(fake_sec, tmp_path, CAPEX_TICKERS="TSLA")
    warehouse = tmp_path / "warehouse" / "capex.duckdb"
    first = run_capex(env, "run")
    assert first.returncode == 0, first.stdout + first.stderr
    prices_before = _rows(warehouse, "SELECT * FROM staging.prices ORDER BY ALL")
    tsla_days = sum(1 for row in prices_before if row[0] == "TSLA")
    assert tsla_days > 1000

    # prices: TSLA's file is missing; the benchmarks still land, TSLA keeps its rows → 3
    prices = tmp_path / "prices"
    shutil.copytree(SHARED_FIXTURES / "prices", prices)
    (prices / "TSLA.csv").unlink()
    result = run_capex({**env, "CAPEX_PRICES_DIR": str(prices)}, "run")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "every_ticker_loaded did not pass (ERROR" in result.stdout
    assert "Kept from the previous run (a source failed):" in result.stdout
    last_day = max(row[1] for row in prices_before if row[0] == "TSLA")
    assert f"prices: TSLA {tsla_days} days up to {last_day}" in result.stdout
    assert _rows(warehouse, "SELECT * FROM staging.prices ORDER BY ALL") == prices_before

    # SEC: Tesla's submissions answer 404 → its step fails (1), its facts are kept
    facts = _rows(warehouse, "SELECT count(*) FROM staging.facts WHERE ticker = 'TSLA'")[0][0]
    path = "/submissions/CIK0001318605.json"
    fake_sec.faults[path] = [(404, {}, b"not found")] * 3
    try:
        result = run_capex(env, "run")
    finally:
        fake_sec.faults.pop(path, None)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{path}: HTTP 404 (is the CIK or ticker right?)" in result.stdout
    assert f"SEC: TSLA {facts:,} facts" in result.stdout
    assert _rows(warehouse, "SELECT count(*) FROM staging.facts WHERE ticker = 'TSLA'") == [
        (facts,)
    ]

    # bad settings → 2, and nothing runs
    bad = run_capex({**env, "CAPEX_MAX_BODY_BYTES": "huge"}, "run")
    assert bad.returncode == 2 and "CAPEX_MAX_BODY_BYTES='huge'" in bad.stderr
    help_text = run_capex(env, "run", "--help").stdout
    assert "exit codes:" in help_text and "3  every step ran, but an ERROR check failed" in (
        help_text
    )
