"""`capex run` end to end against the local SEC: known figures, re-runs, offline, failures.

Expected figures are the companies' published results (press releases and 10-K/10-Q filings),
cross-checked against ../shared/fixtures/SOURCES.md where it lists them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.conftest import capex_environment, run_capex

BILLION = 1_000_000_000


def test_alphabet_quarter_revenue_from_companyfacts(warehouse_sql):
    # Alphabet Q2 2024 press release: revenues $84,742 million.
    rows = warehouse_sql(
        "SELECT DISTINCT value FROM staging.facts WHERE ticker = 'GOOGL' AND concept = 'Revenues' "
        "AND period_start = DATE '2024-04-01' AND period_end = DATE '2024-06-30' "
        "AND dimensions IS NULL AND unit = 'USD'"
    )
    assert rows == [(84_742_000_000,)]


def test_nvidia_capex_tag_in_fiscal_2025(warehouse_sql):
    # NVIDIA FY2025 10-K cash-flow statement: purchases related to property and equipment and
    # intangible assets, $3,236 million, tagged PaymentsToAcquireProductiveAssets.
    rows = warehouse_sql(
        "SELECT DISTINCT concept, value FROM staging.facts WHERE ticker = 'NVDA' "
        "AND concept IN ('PaymentsToAcquireProductiveAssets', "
        "'PaymentsToAcquirePropertyPlantAndEquipment') "
        "AND period_start = DATE '2024-01-29' AND period_end = DATE '2025-01-26' "
        "AND dimensions IS NULL"
    )
    assert rows == [("PaymentsToAcquireProductiveAssets", 3_236_000_000)]


def test_tesla_facts_come_from_its_filing_documents(warehouse_sql):
    # Tesla 10-K 2024: total revenues $97,690 million; 10-Q Q2 2024: $25,500 million.
    sources = warehouse_sql("SELECT DISTINCT source FROM staging.facts WHERE ticker = 'TSLA'")
    assert sources == [("filing",)]
    revenue = dict(
        warehouse_sql(
            "SELECT period_start::VARCHAR || '/' || period_end::VARCHAR, max(value) "
            "FROM staging.facts WHERE ticker = 'TSLA' AND concept = 'Revenues' "
            "AND dimensions IS NULL AND unit = 'USD' GROUP BY 1"
        )
    )
    assert revenue["2024-01-01/2024-12-31"] == 97_690_000_000
    assert revenue["2024-04-01/2024-06-30"] == 25_500_000_000


def test_segment_revenue_is_kept_as_dimensional_facts(warehouse_sql):
    # Amazon 10-K 2024, segment information: AWS net sales $107,556 million in 2024.
    rows = warehouse_sql(
        "SELECT DISTINCT value FROM staging.facts WHERE ticker = 'AMZN' "
        "AND concept = 'RevenueFromContractWithCustomerExcludingAssessedTax' "
        "AND period_start = DATE '2024-01-01' AND period_end = DATE '2024-12-31' "
        "AND dimensions = MAP {'us-gaap:StatementBusinessSegmentsAxis': "
        "'amzn:AmazonWebServicesSegmentMember'}"
    )
    assert rows == [(107_556_000_000,)]


def test_alphabet_shares_outstanding_per_class(warehouse_sql):
    # Alphabet 10-K 2024 cover page (as of 2025-01-28): 5,833 million Class A, 860 million
    # Class B and 5,497 million Class C shares; Alphabet reports no total.
    rows = warehouse_sql(
        "SELECT dimensions['us-gaap:StatementClassOfStockAxis'], value "
        "FROM staging.facts WHERE ticker = 'GOOGL' "
        "AND concept = 'EntityCommonStockSharesOutstanding' "
        "AND accession = '0001652044-25-000014' ORDER BY 1"
    )
    by_class = {member: int(value) for member, value in rows}
    assert by_class == {
        "us-gaap:CommonClassAMember": 5_833_000_000,
        "goog:CapitalClassCMember": 5_497_000_000,
        "us-gaap:CommonClassBMember": 860_000_000,
    }


def test_the_same_fact_from_both_sources_appears_once(warehouse_sql):
    # NVIDIA's FY2025 revenue $130,497 million is in companyfacts and in the 10-K document.
    rows = warehouse_sql(
        "SELECT source, value FROM staging.facts WHERE ticker = 'NVDA' AND concept = 'Revenues' "
        "AND period_start = DATE '2024-01-29' AND period_end = DATE '2025-01-26' "
        "AND accession = '0001045810-25-000023' AND dimensions IS NULL"
    )
    assert rows == [("companyfacts", 130_497_000_000)]
    duplicates = warehouse_sql(
        "SELECT count(*) FROM (SELECT ticker, taxonomy, concept, unit, period_start, period_end, "
        "dimensions::VARCHAR, accession FROM staging.facts GROUP BY ALL HAVING count(*) > 1)"
    )
    assert duplicates == [(0,)]


def test_filings_and_companies_from_submissions(warehouse_sql):
    rows = warehouse_sql(
        "SELECT form, filed::VARCHAR, report_date::VARCHAR, primary_document, url "
        "FROM staging.filings WHERE accession = '0001045810-25-000023'"
    )
    assert rows == [
        (
            "10-K",
            "2025-02-26",
            "2025-01-26",
            "nvda-20250126.htm",
            "https://www.sec.gov/Archives/edgar/data/1045810/000104581025000023/nvda-20250126.htm",
        )
    ]
    assert warehouse_sql(
        "SELECT ticker, fiscal_year_end FROM staging.companies WHERE ticker IN ('AAPL', 'MSFT') "
        "ORDER BY 1"
    ) == [("AAPL", "0926"), ("MSFT", "0630")]


def test_manifest_lists_every_raw_document(warehouse_sql, built_warehouse: Path):
    raw_dir = built_warehouse.parent.parent / "raw"
    rows = warehouse_sql("SELECT path, bytes, sha256, status FROM raw.manifest")
    assert len(rows) >= 7 * 2 + 12 * 2  # submissions + companyfacts, index + document per filing
    import hashlib

    for path, size, digest, status in rows:
        body = (raw_dir / path).read_bytes()
        assert len(body) == size and hashlib.sha256(body).hexdigest() == digest
        assert status == 200


def test_a_company_without_facts_is_a_warning_not_a_failure(built_warehouse: Path):
    # The local SEC serves Microsoft's submissions but no companyfacts facts and no filing
    # documents (none were recorded): the run succeeds and the has_facts check warns.
    log = (built_warehouse.parent.parent / "run.log").read_text()
    assert "company_refresh[MSFT] ... ok" in log
    assert "company_refresh[MSFT]: check staging/facts:has_facts did not pass (WARN; rows=0)" in log


def _table_rows(warehouse: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = "* EXCLUDE (fetched_at)" if table == "raw.manifest" else "*"
        return con.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()
    finally:
        con.close()


TABLES = ("staging.facts", "staging.filings", "staging.companies", "raw.manifest")


def test_rerun_and_offline_rebuild_give_the_same_rows(fake_sec, tmp_path):
    env = capex_environment(fake_sec, tmp_path, CAPEX_TICKERS="TSLA,NVDA")
    warehouse = tmp_path / "warehouse" / "capex.duckdb"
    first = run_capex(env, "run")
    assert first.returncode == 0, first.stdout + first.stderr
    before = {table: _table_rows(warehouse, table) for table in TABLES}
    assert len(before["staging.facts"]) > 10_000

    hits_before = len(fake_sec.hits)
    again = run_capex(env, "run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert {table: _table_rows(warehouse, table) for table in TABLES} == before
    assert len(fake_sec.hits) > hits_before  # it did ask SEC again (conditional GETs)

    # offline, into a new warehouse, from the same raw/
    offline_env = capex_environment(
        fake_sec,
        tmp_path,
        CAPEX_TICKERS="TSLA,NVDA",
        CAPEX_OFFLINE="1",
        SEC_USER_AGENT=None,
        CAPEX_WAREHOUSE=str(tmp_path / "offline" / "capex.duckdb"),
    )
    hits_before = len(fake_sec.hits)
    offline = run_capex(offline_env, "run")
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert len(fake_sec.hits) == hits_before, "offline mode must not touch the network"
    rebuilt = {t: _table_rows(tmp_path / "offline" / "capex.duckdb", t) for t in TABLES}
    assert rebuilt == before


def test_overflow_pages_are_followed_when_since_reaches_back(fake_sec, tmp_path):
    # Tesla's submissions list 2018-02-13 onwards in `recent`; older filings sit in the overflow
    # page CIK0001318605-submissions-001.json (2005-02-17 to 2018-02-11).
    page = "/submissions/CIK0001318605-submissions-001.json"
    default = run_capex(capex_environment(fake_sec, tmp_path / "a", CAPEX_TICKERS="TSLA"), "run")
    assert default.returncode == 0, default.stdout + default.stderr
    hits = fake_sec.hits.count(page)
    assert hits == 0, "CAPEX_SINCE=2019-01-01 does not reach the overflow page"

    env = capex_environment(
        fake_sec, tmp_path / "b", CAPEX_TICKERS="TSLA", CAPEX_SINCE="2017-06-01"
    )
    result = run_capex(env, "run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake_sec.hits.count(page) == 1
    con = duckdb.connect(str(tmp_path / "b" / "warehouse" / "capex.duckdb"), read_only=True)
    try:
        first, count = con.execute(
            "SELECT min(filed)::VARCHAR, count(*) FROM staging.filings WHERE ticker = 'TSLA'"
        ).fetchone()
    finally:
        con.close()
    assert first == "2005-02-17"  # the overflow page's first filing, now listed too
    assert count > 1000


def test_unknown_ticker_fails_at_once_naming_it(fake_sec, tmp_path):
    env = capex_environment(fake_sec, tmp_path, CAPEX_TICKERS="NVDA,ZZZZQ")
    result = run_capex(env, "run")
    assert result.returncode == 2
    assert "unknown ticker(s) ZZZZQ" in result.stderr


def test_ticker_outside_the_seed_file_resolves_through_sec(fake_sec, tmp_path):
    env = capex_environment(fake_sec, tmp_path)
    result = run_capex(env, "companies", "--tickers", "NVDA,AVGO")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "NVDA",
        "1045810",
        "NVIDIA",
        "Corporation",
        "AVGO",
        "1730168",
        "Broadcom",
        "Inc.",
    ]


def test_missing_user_agent_fails_before_any_request(fake_sec, tmp_path):
    env = capex_environment(fake_sec, tmp_path, SEC_USER_AGENT=None, CAPEX_TICKERS="NVDA")
    hits_before = len(fake_sec.hits)
    result = run_capex(env, "run")
    assert result.returncode == 2
    assert (
        "SEC_USER_AGENT is not set" in result.stderr and "export SEC_USER_AGENT=" in result.stderr
    )
    assert len(fake_sec.hits) == hits_before


def test_bad_documents_fail_their_company_only(fake_sec, tmp_path):
    """A 404 CIK, malformed JSON and an HTML error page each fail one company, naming the URL;
    the other companies complete."""
    meta_subs = "/submissions/CIK0001326801.json"
    googl_facts = "/api/xbrl/companyfacts/CIK0001652044.json"
    fake_sec.extra[meta_subs] = b"<!DOCTYPE html><html><body>Request Rate Threshold Exceeded"
    fake_sec.extra[googl_facts] = b'{"cik": 1652044, "facts": {"us-gaap": {'
    try:
        env = capex_environment(fake_sec, tmp_path, CAPEX_TICKERS="META,GOOGL,AVGO,TSLA")
        result = run_capex(env, "run")
    finally:
        del fake_sec.extra[meta_subs], fake_sec.extra[googl_facts]
    assert result.returncode == 1
    assert f"{fake_sec.base_url}{meta_subs}: expected JSON but got an HTML page" in result.stdout
    assert f"{fake_sec.base_url}{googl_facts}: malformed JSON" in result.stdout
    assert f"{fake_sec.base_url}/submissions/CIK0001730168.json: HTTP 404" in result.stdout
    con = duckdb.connect(str(tmp_path / "warehouse" / "capex.duckdb"), read_only=True)
    try:
        landed = con.execute("SELECT DISTINCT ticker FROM staging.facts").fetchall()
    finally:
        con.close()
    assert landed == [("TSLA",)]


def test_unparseable_xbrl_keeps_the_previous_rows(fake_sec, tmp_path):
    env = capex_environment(fake_sec, tmp_path, CAPEX_TICKERS="TSLA")
    assert run_capex(env, "run").returncode == 0
    warehouse = tmp_path / "warehouse" / "capex.duckdb"
    before = _table_rows(warehouse, "staging.facts")

    path = "/Archives/edgar/data/1318605/000162828024032662/tsla-20240630_htm.xml"
    good = fake_sec.route(path)
    fake_sec.extra[path] = good[: len(good) // 2]  # an instance cut off mid-way
    try:
        result = run_capex(env, "run")
    finally:
        del fake_sec.extra[path]
    assert result.returncode == 1
    assert f"{fake_sec.base_url}{path}" in result.stdout
    assert _table_rows(warehouse, "staging.facts") == before


def test_capex_sql_prints_a_table_and_csv(fake_sec, built_warehouse: Path):
    env = capex_environment(fake_sec, built_warehouse.parent.parent)
    query = (
        "SELECT ticker, count(*) AS filings FROM staging.filings "
        "WHERE ticker IN ('NVDA', 'TSLA') AND form = '10-K' GROUP BY ticker ORDER BY ticker"
    )
    table = run_capex(env, "sql", query)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    # the trimmed submissions list NVIDIA's and Tesla's recorded 10-Ks: 2 and 2
    assert lines[0].split("|")[1:3] == [" ticker ", " filings "]
    assert [line.replace(" ", "") for line in lines[2:4]] == ["|NVDA|2|", "|TSLA|2|"]
    assert lines[-1] == "(2 rows)"
    csv = run_capex(env, "sql", "--csv", query)
    assert csv.stdout == "ticker,filings\nNVDA,2\nTSLA,2\n"
    bad = run_capex(env, "sql", "SELECT * FROM marts.no_such_table")
    assert bad.returncode == 1 and "no_such_table" in bad.stderr


def test_a_reader_holding_the_warehouse_open_does_not_break_a_refresh(fake_sec, tmp_path):
    env = capex_environment(fake_sec, tmp_path, CAPEX_TICKERS="TSLA")
    assert run_capex(env, "run").returncode == 0
    published = tmp_path / "warehouse" / "capex.duckdb"
    reader = duckdb.connect(str(published), read_only=True)
    try:
        before = reader.execute("SELECT count(*) FROM staging.facts").fetchone()
        again = run_capex(env, "run", "--tickers", "TSLA,NVDA")
        assert again.returncode == 0, again.stdout + again.stderr
        # the open connection keeps its snapshot: no half-written tables, no lock conflict
        assert reader.execute("SELECT count(*) FROM staging.facts").fetchone() == before
    finally:
        reader.close()
    fresh = duckdb.connect(str(published), read_only=True)
    try:
        tickers = fresh.execute("SELECT DISTINCT ticker FROM staging.facts ORDER BY 1").fetchall()
    finally:
        fresh.close()
    assert tickers == [("NVDA",), ("TSLA",)]


def test_run_summary_counts_each_companys_facts(built_warehouse: Path, warehouse_sql):
    log = (built_warehouse.parent.parent / "run.log").read_text()
    summary = {
        line.split()[0]: line.split()[1:]
        for line in log.splitlines()
        if line[:5].strip() in {"AAPL", "MSFT", "GOOGL", "AMZN", "META", "NVDA", "TSLA"}
    }
    assert sorted(summary) == ["AAPL", "AMZN", "GOOGL", "META", "MSFT", "NVDA", "TSLA"]
    counts = dict(warehouse_sql("SELECT ticker, count(*) FROM staging.facts GROUP BY ticker"))
    for ticker, columns in summary.items():
        assert int(columns[0].replace(",", "")) == counts.get(ticker, 0)
    assert summary["TSLA"][2] == "3"  # three recorded filing documents
    assert summary["MSFT"][:3] == ["0", "0", "0"]
