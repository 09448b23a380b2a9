"""`capex run --universe all` against the local SEC serving bulk archives.

The archives are built in the test from the documents the per-company routes serve (the
recorded companyfacts and submissions), so the facts landed from them must equal those of the
per-company path (:func:`built_warehouse`) for the same companies.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import capex_environment, run_capex
from tests.sec_server import COMPANY_NAMES, COMPANYFACTS_ZIP, SUBMISSIONS_ZIP

SEVEN = sorted(COMPANY_NAMES)
# A filer outside the seed file, without a ticker: Meta's April 2022 companyfacts under CIK 1750
# (AAR Corp's CIK, whose own documents were not recorded), with submissions listing no ticker.
NO_TICKER_CIK = 1750
MALFORMED = "CIK0000000020.json"


def _no_ticker_members(shared: Path) -> dict[str, dict[str, bytes]]:
    facts = json.loads((shared / "sec" / "companyfacts-2022" / "CIK0001326801.json").read_bytes())
    facts["cik"] = NO_TICKER_CIK
    submissions = {
        "cik": str(NO_TICKER_CIK),
        "name": "No Ticker Filer",
        "tickers": [],
        "fiscalYearEnd": "0531",
        "filings": {
            "recent": {
                "accessionNumber": ["0000001750-22-000010"],
                "filingDate": ["2022-04-28"],
                "reportDate": ["2022-03-31"],
                "form": ["10-Q"],
                "primaryDocument": ["q1.htm"],
            },
            "files": [],
        },
    }
    name = f"CIK{NO_TICKER_CIK:010d}.json"
    return {
        COMPANYFACTS_ZIP: {name: json.dumps(facts).encode(), MALFORMED: b'{"cik": 20, "facts": {'},
        SUBMISSIONS_ZIP: {name: json.dumps(submissions).encode()},
    }


@pytest.fixture(scope="module")
def universe_run(fake_sec, shared_fixtures, tmp_path_factory):
    """One `capex run --universe all` over archives of the seven, a no-ticker filer and a
    malformed member; then the same again (a refresh) and offline into a new warehouse."""
    fake_sec.build_archives(SEVEN, _no_ticker_members(shared_fixtures))
    workdir = tmp_path_factory.mktemp("universe")
    env = capex_environment(fake_sec, workdir)
    already = len(fake_sec.statuses)
    first = run_capex(env, "run", "--universe", "all")
    # Exit 3, not 0: every step ran, but the no-ticker filer's real April 2022 facts (Meta's)
    # fail the ERROR check quarters_sum_to_year for depreciation_amortization, and that check
    # alone (issue 12's exit-code rule).
    assert first.returncode == 3, first.stdout + first.stderr
    errors = [line for line in first.stdout.splitlines() if "did not pass (ERROR" in line]
    assert len(errors) == 1 and "quarters_sum_to_year" in errors[0], first.stdout
    assert f"CIK{NO_TICKER_CIK:010d} | depreciation_amortization" in first.stdout
    return workdir, env, first, fake_sec.statuses[already:]


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


FACTS_OF_THE_SEVEN = "SELECT * FROM staging.facts WHERE cik IN ({}) ORDER BY ALL".format(
    ", ".join(map(str, SEVEN))
)


def test_universe_facts_equal_the_per_company_path(universe_run, built_warehouse):
    workdir, _env, _run, _statuses = universe_run
    warehouse = workdir / "warehouse" / "capex.duckdb"
    assert _rows(warehouse, FACTS_OF_THE_SEVEN) == _rows(built_warehouse, FACTS_OF_THE_SEVEN)
    for table in ("staging.filings", "staging.companies"):
        query = f"SELECT * FROM {table} WHERE cik IN ({', '.join(map(str, SEVEN))}) ORDER BY ALL"
        assert _rows(warehouse, query) == _rows(built_warehouse, query), table


def test_a_filer_without_ticker_keeps_its_cik(universe_run):
    workdir, _env, _run, _statuses = universe_run
    warehouse = workdir / "warehouse" / "capex.duckdb"
    # Meta's Q1 2022 10-Q: revenue $27,908 million (landed here under CIK 1750)
    assert _rows(
        warehouse,
        "SELECT DISTINCT ticker, value FROM staging.facts WHERE cik = 1750 "
        "AND concept = 'RevenueFromContractWithCustomerExcludingAssessedTax' "
        "AND period_start = DATE '2022-01-01' "
        "AND period_end = DATE '2022-03-31'",
    ) == [(None, 27_908_000_000)]
    assert _rows(warehouse, "SELECT ticker, name FROM staging.companies WHERE cik = 1750") == [
        (None, "No Ticker Filer")
    ]


def test_a_malformed_member_is_named_and_skipped(universe_run):
    workdir, _env, run, _statuses = universe_run
    assert f"{MALFORMED}: malformed JSON" in run.stdout
    warehouse = workdir / "warehouse" / "capex.duckdb"
    assert _rows(warehouse, "SELECT count(*) FROM staging.facts WHERE cik = 20") == [(0,)]


def test_no_per_company_companyfacts_or_submissions_requests(universe_run):
    # the seven are in the archives: only their filing folders are asked for one by one
    asked = {path for path, _status in universe_run[3]}
    assert not [p for p in asked if p.startswith(("/submissions/", "/api/xbrl/companyfacts/"))]
    assert any(p.startswith("/Archives/edgar/data/") for p in asked)


def _table_rows(warehouse: Path) -> dict[str, list[tuple]]:
    return {
        table: _rows(warehouse, f"SELECT * FROM {table} ORDER BY ALL")
        for table in ("staging.facts", "staging.filings", "staging.companies")
    }


def test_a_refresh_with_nothing_changed_downloads_no_body(universe_run, fake_sec):
    """Every conditional GET answers 304: no archive or document is downloaded again and the
    tables stay as they were."""
    workdir, env, _run, _statuses = universe_run
    warehouse = workdir / "warehouse" / "capex.duckdb"
    before = _table_rows(warehouse)
    already = len(fake_sec.statuses)
    again = run_capex(env, "run", "--universe", "all")
    assert again.returncode == 3, again.stdout + again.stderr  # the same ERROR check
    statuses = fake_sec.statuses[already:]
    assert (COMPANYFACTS_ZIP, 304) in statuses and (SUBMISSIONS_ZIP, 304) in statuses
    assert [s for s in statuses if s[1] != 304] == []
    assert _table_rows(warehouse) == before
    for archive in ("xbrl/companyfacts.zip", "bulkdata/submissions.zip"):
        folder = workdir / "raw" / "sec-www" / "Archives/edgar/daily-index" / archive
        assert len(list(folder.glob("*.body"))) == 1, "a 304 must not store a new version"


def test_offline_rebuild_gives_the_same_rows(universe_run, fake_sec):
    workdir, _env, _run, _statuses = universe_run
    offline = capex_environment(
        fake_sec,
        workdir,
        CAPEX_OFFLINE="1",
        SEC_USER_AGENT=None,
        CAPEX_WAREHOUSE=str(workdir / "offline" / "capex.duckdb"),
    )
    already = len(fake_sec.hits)
    result = run_capex(offline, "run", "--universe", "all")
    assert result.returncode == 3, result.stdout + result.stderr  # the same ERROR check
    assert len(fake_sec.hits) == already, "offline mode must not touch the network"
    rebuilt = _table_rows(workdir / "offline" / "capex.duckdb")
    assert rebuilt == _table_rows(workdir / "warehouse" / "capex.duckdb")


def test_a_truncated_archive_fails_the_fetch_and_keeps_the_rows(universe_run, fake_sec):
    """A download cut short is refused before it is stored: the step fails naming the URL and
    the tables keep the rows landed from the previous archive."""
    workdir, env, _run, _statuses = universe_run
    warehouse = workdir / "warehouse" / "capex.duckdb"
    before = _table_rows(warehouse)
    good = fake_sec.extra[COMPANYFACTS_ZIP]
    fake_sec.extra[COMPANYFACTS_ZIP] = good[: len(good) // 3]
    try:
        result = run_capex(env, "run", "--universe", "all")
    finally:
        fake_sec.extra[COMPANYFACTS_ZIP] = good
    assert result.returncode == 1
    assert "sec_archives_refresh" in result.stdout and "FAILED" in result.stdout
    assert f"{fake_sec.base_url}{COMPANYFACTS_ZIP}: " in result.stdout
    assert "not a readable zip archive" in result.stdout
    assert _table_rows(warehouse) == before
    folder = workdir / "raw" / "sec-www" / "Archives/edgar/daily-index/xbrl/companyfacts.zip"
    assert len(list(folder.glob("*.body"))) == 1
