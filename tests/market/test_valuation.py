"""Valuation marts: point-in-time multiples, price returns and their decomposition.

Two kinds of tests:

* the real thing: a warehouse built from the recorded companyfacts (NVIDIA, Apple, Alphabet),
  Alphabet's FY2024 10-K document and the yfinance-layout price files, through the project's
  own normalisers and every SQL model; asserted against published figures (NVIDIA's quarterly
  revenue and net income, its 2023 share-price gain, Alphabet's cover-page share classes,
  the S&P 500 and Nasdaq-100 2023 returns);
* hand-made tables for the rules (denominators ≤ 0, gaps, filing dates), which real data
  cannot pin down on demand.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.core import tables
from pipelines.core.config import load_settings
from pipelines.core.warehouse import Warehouse
from pipelines.market.price_csv import parse_price_csv
from pipelines.market.prices import read_local_prices, seed_price_symbols
from pipelines.market.shares import (
    RATIO_FACTS_SQL,
    SHARE_FACTS_SQL,
    shares_outstanding,
)
from pipelines.models.seed_tables import SEEDS, load_seeds
from pipelines.models.sqlmodels import build_models, discover_models
from pipelines.sec.companyfacts import normalize_companyfacts
from pipelines.sec.facts import FACTS_INSERT_SELECT, filing_facts, merge_facts
from pipelines.sec.xbrl import parse_xbrl

D = date.fromisoformat
MY_MODELS = (
    "staging.int_valuation_fundamentals_pit",
    "marts.valuation_daily",
    "marts.price_returns",
    "marts.return_decomposition",
)


def load_staging_shares(warehouse: Warehouse, con) -> None:
    shares, splits = shares_outstanding(
        con.execute(SHARE_FACTS_SQL).pl(), con.execute(RATIO_FACTS_SQL).pl()
    )
    warehouse.replace_rows(tables.SHARES_OUTSTANDING, shares, {}, con)
    warehouse.replace_rows(tables.STOCK_SPLITS, splits, {}, con)


# --- the real warehouse -------------------------------------------------------------------


def write_real_facts(warehouse: Warehouse, con, shared_fixtures: Path) -> None:
    """staging.facts of NVDA and AAPL (companyfacts) and GOOGL (companyfacts + FY2024 10-K)."""
    for ticker, cik in (("NVDA", 1045810), ("AAPL", 320193), ("GOOGL", 1652044)):
        document = (shared_fixtures / f"sec/companyfacts/CIK{cik:010d}.json").read_bytes()
        filings = []
        if ticker == "GOOGL":
            path = shared_fixtures / "sec/filings/GOOGL/10-K_2024-12-31/goog-20241231.htm"
            filings.append(
                filing_facts(
                    parse_xbrl(path.read_bytes(), url=path.name),
                    ticker="GOOGL",
                    cik=1652044,
                    accession="0001652044-25-000014",
                    form="10-K",
                    filed=D("2025-02-05"),
                )
            )
        frame = merge_facts(normalize_companyfacts(document, ticker, cik), filings)
        warehouse.replace_rows(tables.FACTS, frame, {"ticker": ticker}, con, FACTS_INSERT_SELECT)


@pytest.fixture(scope="module")
def real_warehouse(shared_fixtures: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("valuation")
    warehouse = Warehouse(folder / "capex.duckdb", folder / "published.duckdb")
    symbols = seed_price_symbols()
    with warehouse.connect() as con:
        write_real_facts(warehouse, con, shared_fixtures)
        seeds = load_seeds()
        for seed in SEEDS:
            warehouse.replace_rows(seed.contract, seeds[seed.name], {}, con)
        # yfinance layout only (SOURCES.md): never mixed with the stooq-layout files here.
        for ticker in ("NVDA", "AAPL", "GOOGL", "SPX", "NDX"):
            prices, _ = read_local_prices(shared_fixtures / "prices", symbols[ticker])
            warehouse.replace_rows(tables.PRICES, prices, {"ticker": ticker}, con)
        load_staging_shares(warehouse, con)
        build_models(con, discover_models())
    return folder / "capex.duckdb"


@pytest.fixture
def sql(real_warehouse: Path):
    con = duckdb.connect(str(real_warehouse), read_only=True)

    def query(text: str, params: list | None = None) -> list[tuple]:
        return con.execute(text, params or []).fetchall()

    yield query
    con.close()


def valuation_on(sql, ticker: str, day: str) -> dict:
    rows = sql(
        "SELECT * FROM marts.valuation_daily WHERE ticker = ? AND date = ?", [ticker, D(day)]
    )
    assert len(rows) == 1, f"one valuation row for {ticker} on {day}, got {rows}"
    columns = [r[0] for r in sql("DESCRIBE marts.valuation_daily")]
    return dict(zip(columns, rows[0], strict=True))


def test_valuation_daily_has_the_contract_columns(sql):
    assert [r[0] for r in sql("DESCRIBE marts.valuation_daily")] == [
        "ticker", "date", "close", "shares_outstanding", "market_cap", "revenue_ttm",
        "net_income_ttm", "ebitda_ttm", "net_debt", "enterprise_value", "pe", "ps",
        "ev_ebitda", "fcf_yield", "capex_to_revenue_ttm",
    ]  # fmt: skip
    assert [r[0] for r in sql("DESCRIBE marts.price_returns")] == [
        "ticker", "period", "start_date", "end_date", "start_close", "end_close", "price_return",
    ]  # fmt: skip
    assert [r[0] for r in sql("DESCRIBE marts.return_decomposition")] == [
        "ticker", "period", "price_return", "earnings_growth", "multiple_change",
    ]  # fmt: skip
    [(duplicates,)] = sql(
        "SELECT count(*) FROM (SELECT ticker, date FROM marts.valuation_daily "
        "GROUP BY ALL HAVING count(*) > 1)"
    )
    assert duplicates == 0


def test_nvidia_2023_price_return(sql):
    """NVIDIA closed 2022 at $146.14 and 2023 at $495.22 (pre-split): +238.9%."""
    [(start, end, price_return)] = sql(
        "SELECT start_date, end_date, price_return FROM marts.price_returns "
        "WHERE ticker = 'NVDA' AND period = '2023'"
    )
    assert (start, end) == (D("2022-12-30"), D("2023-12-29"))
    assert price_return == pytest.approx(495.22 / 146.14 - 1, abs=0.005)


def test_benchmark_2023_price_returns(sql):
    """S&P 500: 3,839.50 → 4,769.83 (+24.2%); Nasdaq-100: 10,939.76 → 16,825.93 (+53.8%)."""
    returns = dict(
        sql("SELECT ticker, price_return FROM marts.price_returns WHERE period = '2023'")
    )
    assert returns["SPX"] == pytest.approx(4769.83 / 3839.50 - 1, abs=0.0005)
    assert returns["NDX"] == pytest.approx(16825.93 / 10939.76 - 1, abs=0.0005)


def test_price_return_periods_end_at_the_latest_close(sql):
    rows = dict(
        (period, (start, end))
        for period, start, end in sql(
            "SELECT period, start_date, end_date FROM marts.price_returns WHERE ticker = 'NVDA'"
        )
    )
    # The yfinance NVDA file runs to 2026-03-16 (SOURCES.md).
    assert rows["YTD"] == (D("2025-12-31"), D("2026-03-16"))
    assert rows["1Y"] == (D("2025-03-14"), D("2026-03-16"))  # 2025-03-16 was a Sunday
    assert rows["3Y"] == (D("2023-03-16"), D("2026-03-16"))
    assert "2026" not in rows, "a calendar year is listed only once it is complete"
    assert "2011" not in rows, "the file starts in March 2011: no close to start 2011 from"
    assert "2012" in rows


def test_a_day_before_a_filing_uses_the_previous_quarters_ttm(sql):
    """NVIDIA filed its Q2 FY2025 10-Q on 2024-08-28. Published quarterly revenue ($M):
    Q2 FY24 13,507; Q3 FY24 18,120; Q4 FY24 22,103; Q1 FY25 26,044; Q2 FY25 30,040.
    Net income: 6,188; 9,243; 12,285; 14,881; 16,599."""
    before = valuation_on(sql, "NVDA", "2024-08-27")
    on = valuation_on(sql, "NVDA", "2024-08-28")
    assert before["revenue_ttm"] == (13_507 + 18_120 + 22_103 + 26_044) * 1e6
    assert on["revenue_ttm"] == (18_120 + 22_103 + 26_044 + 30_040) * 1e6
    assert before["net_income_ttm"] == (6_188 + 9_243 + 12_285 + 14_881) * 1e6
    assert on["net_income_ttm"] == (9_243 + 12_285 + 14_881 + 16_599) * 1e6
    assert before["pe"] == pytest.approx(before["market_cap"] / before["net_income_ttm"])
    assert before["ps"] == pytest.approx(before["market_cap"] / before["revenue_ttm"])


def test_nvidia_market_value_is_continuous_across_the_split(sql):
    """June 2024 10:1 split: last pre-split close $1,208.88 on 2024-06-07, 2.46 billion shares
    on the 10-Q cover (as of 2024-05-24): about $2.97 trillion; first split-adjusted close
    $121.79 on 2024-06-10."""
    friday = valuation_on(sql, "NVDA", "2024-06-07")
    monday = valuation_on(sql, "NVDA", "2024-06-10")
    assert friday["shares_outstanding"] == monday["shares_outstanding"] == 24_600e6
    # The files' closes are also dividend-adjusted (SOURCES.md): allow 0.5%.
    assert friday["market_cap"] == pytest.approx(1208.88 * 2.46e9, rel=0.005)
    assert monday["market_cap"] == pytest.approx(121.79 * 24.6e9, rel=0.005)
    # From May to September 2024 the count changes only when a filing brings a new one
    # (cover pages: 2.50 B on 2024-02-16, 2.46 B on 2024-05-24, 24.53 B on 2024-08-23 after
    # the split), never by 10x on the split itself.
    periods = sql(
        "SELECT shares_outstanding, min(date), max(date) FROM marts.valuation_daily "
        "WHERE ticker = 'NVDA' AND date BETWEEN '2024-05-01' AND '2024-09-30' "
        "GROUP BY 1 ORDER BY 2"
    )
    assert periods == [
        (25_000e6, D("2024-05-01"), D("2024-05-28")),
        (24_600e6, D("2024-05-29"), D("2024-08-27")),
        (24_530e6, D("2024-08-28"), D("2024-09-30")),
    ]


def test_alphabet_market_value_counts_all_three_classes(sql):
    """Alphabet's FY2024 10-K cover (filed 2025-02-05): 5,833 M class A, 860 M class B and
    5,497 M class C shares outstanding on 2025-01-28."""
    day = valuation_on(sql, "GOOGL", "2025-02-05")
    assert day["shares_outstanding"] == (5_833 + 860 + 5_497) * 1e6
    assert day["market_cap"] == pytest.approx(day["close"] * 12_190e6)
    # The same 10-K brings calendar 2024: revenue 350,018 M, capex 52,535 M (SOURCES.md).
    assert day["revenue_ttm"] == 350_018e6
    assert day["capex_to_revenue_ttm"] == pytest.approx(52_535 / 350_018)
    [(first,)] = sql("SELECT min(date) FROM marts.valuation_daily WHERE ticker = 'GOOGL'")
    assert first == D("2025-02-05"), "no share count is known before the 10-K was filed"


def test_multiples_are_never_negative_or_infinite(sql):
    [(bad,)] = sql(
        "SELECT count(*) FROM marts.valuation_daily WHERE pe <= 0 OR ps <= 0 OR ev_ebitda <= 0 "
        "OR isinf(pe) OR isinf(ps) OR isinf(ev_ebitda) OR isnan(pe)"
    )
    assert bad == 0


def test_return_decomposition_multiplies_back(sql):
    rows = sql(
        "SELECT ticker, period, price_return, earnings_growth, multiple_change "
        "FROM marts.return_decomposition WHERE earnings_growth IS NOT NULL"
    )
    assert rows, "companies with positive earnings at both ends have a decomposition"
    for _ticker, _period, price, growth, multiple in rows:
        assert (1 + growth) * (1 + multiple) == pytest.approx(1 + price, rel=1e-9)
    assert not sql("SELECT 1 FROM marts.return_decomposition WHERE ticker IN ('SPX', 'NDX')")


def test_nvidia_2024_rally_decomposition(sql):
    """Calendar 2024 for NVIDIA: EPS (TTM net income per split-adjusted share) as known at the
    end of 2023 (four quarters through Q3 FY2024) vs at the end of 2024 (through Q3 FY2025).
    Published quarterly net income ($M):
    Q4 FY23 1,414; Q1 FY24 2,043; Q2 FY24 6,188; Q3 FY24 9,243; Q4 FY24 12,285;
    Q1 FY25 14,881; Q2 FY25 16,599; Q3 FY25 19,309."""
    ni_start = (1_414 + 2_043 + 6_188 + 9_243) * 1e6
    ni_end = (12_285 + 14_881 + 16_599 + 19_309) * 1e6
    start = valuation_on(sql, "NVDA", "2023-12-29")
    end = valuation_on(sql, "NVDA", "2024-12-31")
    assert start["net_income_ttm"] == ni_start
    assert end["net_income_ttm"] == ni_end
    expected_growth = (ni_end / end["shares_outstanding"]) / (
        ni_start / start["shares_outstanding"]
    ) - 1
    [(price, growth, multiple)] = sql(
        "SELECT price_return, earnings_growth, multiple_change FROM marts.return_decomposition "
        "WHERE ticker = 'NVDA' AND period = '2024'"
    )
    assert growth == pytest.approx(expected_growth, rel=1e-9)
    assert growth > 2.0 and multiple < 0, "2024: earnings more than tripled, the P/E fell"


# --- hand-made tables: the rules ----------------------------------------------------------


def pit_rows(*rows) -> pl.DataFrame:
    """(metric, fiscal_year, fiscal_quarter, period_end, value, filed[, superseded])"""
    records = []
    for metric, fy, fq, end, value, filed, *superseded in rows:
        instant = metric in ("cash", "total_debt")
        records.append(
            {
                "ticker": "X",
                "metric": metric,
                "fiscal_year": fy,
                "fiscal_quarter": fq,
                "calendar_year": fy,
                "calendar_quarter": fq,
                "period_start": None if instant else D(end).replace(day=1),
                "period_end": D(end),
                "value": float(value),
                "concept": "c",
                "derivation": "reported",
                "accession": f"a-{filed}",
                "filed": D(filed),
                "superseded": D(superseded[0]) if superseded else None,
            }
        )
    return pl.DataFrame(records).cast({"superseded": pl.Date, "period_start": pl.Date})


def build_hand_made(tmp_path: Path, pit: pl.DataFrame, closes: dict[str, float], shares: float):
    con = duckdb.connect(str(tmp_path / "hand.duckdb"))
    for schema in ("staging", "marts"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.register("pit", pit.to_arrow())
    con.execute("CREATE TABLE marts.metric_quarterly_pit AS SELECT * FROM pit")
    prices = pl.DataFrame(
        {
            "ticker": "X",
            "date": [D(d) for d in closes],
            "open": None,
            "high": None,
            "low": None,
            "close": list(closes.values()),
            "volume": None,
            "source": "test",
        }
    )
    con.execute(tables.PRICES.ddl())
    con.register("prices", prices.to_arrow())
    con.execute("INSERT INTO staging.prices BY NAME SELECT * FROM prices")
    con.execute(tables.SHARES_OUTSTANDING.ddl())
    con.execute(
        "INSERT INTO staging.shares_outstanding VALUES "
        "('X', '2023-01-01', 's', '10-K', '2023-01-10', ?, 0, 1.0, ?)",
        [shares, shares],
    )
    models = discover_models()
    build_models(con, {name: models[name] for name in MY_MODELS})
    return con


def four_quarters(metric: str, values: list[float], filed: list[str]):
    ends = ["2023-03-31", "2023-06-30", "2023-09-30", "2023-12-31", "2024-03-31"]
    return [
        (metric, 2023 + i // 4, i % 4 + 1, ends[i], value, filed[i])
        for i, value in enumerate(values)
    ]


FILED = ["2023-04-20", "2023-07-20", "2023-10-20", "2024-01-25", "2024-04-25"]


def test_look_ahead_is_impossible_and_restatements_count_from_their_date(tmp_path):
    pit = pit_rows(
        *four_quarters("revenue", [100, 110, 120, 130, 140], FILED),
        *four_quarters("net_income", [10, 11, 12, 13, 14], FILED),
        # Q1 2023 net income restated to 8 in the filing of 2024-01-25
        ("net_income", 2023, 1, "2023-03-31", 8, "2024-01-25"),
    )
    pit = pit.with_columns(
        superseded=pl.when(
            (pl.col("metric") == "net_income") & (pl.col("fiscal_quarter") == 1)
            & (pl.col("fiscal_year") == 2023) & (pl.col("filed") == D("2023-04-20"))
        ).then(D("2024-01-25")).otherwise(pl.col("superseded"))
    )  # fmt: skip
    closes = {"2024-01-24": 10.0, "2024-01-25": 10.0, "2024-04-24": 11.0, "2024-04-25": 11.0}
    con = build_hand_made(tmp_path, pit, closes, shares=100.0)
    rows = {
        str(day): (revenue, income, pe)
        for day, revenue, income, pe in con.execute(
            "SELECT date, revenue_ttm, net_income_ttm, pe FROM marts.valuation_daily"
        ).fetchall()
    }
    # Before 2024-01-25 only three quarters were known: no TTM yet.
    assert rows["2024-01-24"] == (None, None, None)
    # From 2024-01-25: four quarters, with Q1's restated net income.
    assert rows["2024-01-25"] == (460.0, 8 + 11 + 12 + 13, 1000.0 / 44)
    assert rows["2024-04-24"][0] == 460.0, "the day before the next filing keeps the old TTM"
    assert rows["2024-04-25"] == (500.0, 50.0, 1100.0 / 50)


def test_denominators_missing_or_not_positive_give_null(tmp_path):
    pit = pit_rows(
        *four_quarters("revenue", [100, 100, 100, 100], FILED),
        *four_quarters("net_income", [-10, 5, 5, -5], FILED),  # TTM -5: a loss
        *four_quarters("operating_income", [1, 1, 1, 1], FILED),
        *four_quarters("depreciation_amortization", [-2, -2, -2, -2], FILED),  # EBITDA -4
        *four_quarters("operating_cash_flow", [20, 20, 20, 20], FILED),
        *four_quarters("capex", [30, 30, 30, 30], FILED),  # negative free cash flow
        ("cash", 2023, 4, "2023-12-31", 50, "2024-01-25"),
        ("total_debt", 2023, 4, "2023-12-31", 20, "2024-01-25"),
    )
    con = build_hand_made(tmp_path, pit, {"2024-02-01": 2.0}, shares=100.0)
    [row] = con.execute(
        "SELECT market_cap, net_income_ttm, pe, ps, ebitda_ttm, ev_ebitda, net_debt, "
        "enterprise_value, fcf_yield, capex_to_revenue_ttm FROM marts.valuation_daily"
    ).fetchall()
    assert row == (200.0, -5.0, None, 0.5, -4.0, None, -30.0, 170.0, -40 / 200, 0.3)


def test_a_gap_in_the_quarters_gives_no_ttm(tmp_path):
    pit = pit_rows(
        ("revenue", 2023, 1, "2023-03-31", 100, "2023-04-20"),
        ("revenue", 2023, 2, "2023-06-30", 100, "2023-07-20"),
        # Q3 2023 never reported
        ("revenue", 2023, 4, "2023-12-31", 100, "2024-01-25"),
        ("revenue", 2024, 1, "2024-03-31", 100, "2024-04-25"),
    )
    con = build_hand_made(tmp_path, pit, {"2024-05-01": 1.0}, shares=10.0)
    assert con.execute("SELECT revenue_ttm, ps FROM marts.valuation_daily").fetchall() == [
        (None, None)
    ]


def test_price_returns_from_the_stooq_layout(shared_fixtures: Path, tmp_path: Path):
    """The stooq-layout NVIDIA file on its own: the same +239% for 2023."""
    con = duckdb.connect(str(tmp_path / "stooq.duckdb"))
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE SCHEMA marts")
    frame = parse_price_csv(
        (shared_fixtures / "prices/stooq/NVDA.csv").read_bytes(), "NVDA", "stooq"
    )
    con.execute(tables.PRICES.ddl())
    con.register("f", frame.to_arrow())
    con.execute("INSERT INTO staging.prices BY NAME SELECT * FROM f")
    models = discover_models()
    build_models(con, [models["marts.price_returns"]])
    [(start, end, price_return)] = con.execute(
        "SELECT start_date, end_date, price_return FROM marts.price_returns "
        "WHERE ticker = 'NVDA' AND period = '2023'"
    ).fetchall()
    assert (start, end) == (D("2022-12-30"), D("2023-12-29"))
    assert price_return == pytest.approx(495.22 / 146.14 - 1, abs=0.005)


def test_a_figure_missing_for_the_latest_quarter_is_null_not_stale(tmp_path):
    pit = pit_rows(
        *four_quarters("revenue", [100, 100, 100, 100, 200], FILED),
        *four_quarters("capex", [10, 10, 10, 10], FILED),  # the fifth quarter's capex is unknown
    )
    con = build_hand_made(tmp_path, pit, {"2024-04-24": 1.0, "2024-04-25": 1.0}, shares=10.0)
    rows = con.execute(
        "SELECT date::VARCHAR, revenue_ttm, capex_to_revenue_ttm FROM marts.valuation_daily "
        "ORDER BY date"
    ).fetchall()
    assert rows == [("2024-04-24", 400.0, 0.1), ("2024-04-25", 500.0, None)]


def test_the_dagster_assets_build_the_same_marts(
    shared_fixtures: Path, real_warehouse: Path, tmp_path: Path, monkeypatch
):
    """Prices, shares and every SQL model materialised through Dagster, checks included."""
    from pipelines.core.resources import CapexResource
    from pipelines.market import assets as prices
    from pipelines.models import assets as sql_models
    from pipelines.sec.partitions import universe

    selected = sorted(universe(load_settings()))
    if not {"NVDA", "AAPL", "GOOGL"} <= set(selected):
        pytest.skip(f"CAPEX_TICKERS selects {selected}; this test needs NVDA, AAPL, GOOGL")
    warehouse = Warehouse(tmp_path / ".build" / "capex.duckdb", tmp_path / "capex.duckdb")
    with warehouse.connect() as con:
        write_real_facts(warehouse, con, shared_fixtures)
    monkeypatch.setenv("CAPEX_WAREHOUSE", str(tmp_path / "capex.duckdb"))
    monkeypatch.setenv("CAPEX_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("CAPEX_PRICES_DIR", str(shared_fixtures / "prices"))
    result = dg.materialize(
        [*prices.ASSETS, *sql_models.ASSETS, *sql_models.CHECKS],
        resources={"capex": CapexResource()},
    )
    assert result.success
    checks = {
        (c.asset_key.to_user_string(), c.check_name): c.passed
        for c in result.get_asset_check_evaluations()
    }
    assert checks[("staging/prices", "every_ticker_loaded")]
    assert checks[("marts/valuation_daily", "valuation_multiples_are_sane")]
    assert checks[("marts/return_decomposition", "return_decomposition_multiplies_back")]
    con = duckdb.connect(str(tmp_path / ".build" / "capex.duckdb"), read_only=True)
    try:
        con.execute(f"ATTACH '{real_warehouse}' AS reference (READ_ONLY)")
        for table in ("marts.valuation_daily", "marts.price_returns"):
            [(missing,)] = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM reference.{table} "
                f"EXCEPT SELECT * FROM {table})"
            ).fetchall()
            assert missing == 0, f"{table} differs from the direct build"
    finally:
        con.close()


# --- the whole pipeline: `capex run` against the local SEC and the recorded prices ---------


def test_capex_run_builds_the_valuation_marts(warehouse_sql):
    """The same published figures, through `capex run` (filing documents included)."""
    [(nvda_2023,)] = warehouse_sql(
        "SELECT price_return FROM marts.price_returns WHERE ticker = 'NVDA' AND period = '2023'"
    )
    assert nvda_2023 == pytest.approx(495.22 / 146.14 - 1, abs=0.005)
    [(cap, shares)] = warehouse_sql(
        "SELECT market_cap, shares_outstanding FROM marts.valuation_daily "
        "WHERE ticker = 'NVDA' AND date = '2024-06-07'"
    )
    assert shares == 24_600e6 and cap == pytest.approx(1208.88 * 2.46e9, rel=0.005)
    [(googl_shares,)] = warehouse_sql(
        "SELECT shares_outstanding FROM marts.valuation_daily "
        "WHERE ticker = 'GOOGL' AND date = '2025-02-05'"
    )
    assert googl_shares == (5_833 + 860 + 5_497) * 1e6
    revenue = dict(
        warehouse_sql(
            "SELECT date::VARCHAR, revenue_ttm FROM marts.valuation_daily "
            "WHERE ticker = 'NVDA' AND date IN ('2024-08-27', '2024-08-28')"
        )
    )
    assert revenue == {
        "2024-08-27": (13_507 + 18_120 + 22_103 + 26_044) * 1e6,
        "2024-08-28": (18_120 + 22_103 + 26_044 + 30_040) * 1e6,
    }
    benchmarks = warehouse_sql(
        "SELECT ticker FROM marts.price_returns WHERE period = '2023' "
        "AND ticker IN ('SPX', 'NDX') ORDER BY 1"
    )
    assert benchmarks == [("NDX",), ("SPX",)]
