"""The valuation marts do not depend on which provider the prices came from.

The same recorded days (the yfinance exports of NVIDIA, Apple, Alphabet, ^GSPC and ^NDX,
2022-12-01 .. 2024-07-31) are served once as Yahoo chart JSON (as traded, with the splits in
``events``) and once as Stooq CSV (split-adjusted, rounded to three decimals as Stooq does);
each warehouse is built from the recorded SEC facts through every SQL model. The marts agree
within Stooq's rounding, and an offline rebuild from raw/ gives the same marts exactly.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.core import tables
from pipelines.core.config import load_settings
from pipelines.core.rawstore import RawStore
from pipelines.core.warehouse import Warehouse
from pipelines.market.prices import load_prices, seed_price_symbols
from pipelines.models.seed_tables import SEEDS, load_seeds
from pipelines.models.sqlmodels import build_models, discover_models
from tests.market.price_servers import series_from_csv, stooq_csv
from tests.market.test_valuation import load_staging_shares, write_real_facts

D = date.fromisoformat
SPLITS = {
    "NVDA": [(D("2021-07-20"), 4.0), (D("2024-06-10"), 10.0)],
    "AAPL": [(D("2020-08-31"), 4.0)],
    "GOOGL": [(D("2022-07-18"), 20.0)],
}
FILES = {"NVDA": "NVDA", "AAPL": "AAPL", "GOOGL": "GOOGL", "SPX": "GSPC", "NDX": "NDX"}
VALUATION = (
    "SELECT ticker, date, close, market_cap, enterprise_value, pe, ps, ev_ebitda, fcf_yield "
    "FROM marts.valuation_daily ORDER BY ticker, date"
)
RETURNS = "SELECT ticker, period, start_date, end_date, price_return FROM marts.price_returns "
RETURNS += "ORDER BY ticker, period"


def build(shared_fixtures: Path, folder: Path, env: dict[str, str]) -> Path:
    """A warehouse of the five series from the providers in ``env``, over the recorded facts."""
    settings = load_settings(
        {"CAPEX_RAW_DIR": str(folder / "raw"), "CAPEX_PRICES_RATE": "50", **env}
    )
    symbols = seed_price_symbols()
    loads = load_prices(settings, RawStore(settings.raw_dir), [symbols[t] for t in FILES])
    assert [load.error for load in loads] == [None] * len(FILES)
    warehouse = Warehouse(folder / "build.duckdb", folder / "published.duckdb")
    with warehouse.connect() as con:
        write_real_facts(warehouse, con, shared_fixtures)
        seeds = load_seeds()
        for seed in SEEDS:
            warehouse.replace_rows(seed.contract, seeds[seed.name], {}, con)
        for load in loads:
            warehouse.replace_rows(tables.PRICES, load.frame, {"ticker": load.symbol.ticker}, con)
        load_staging_shares(warehouse, con)
        build_models(con, discover_models())
    return folder / "build.duckdb"


def query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_valuation_marts_are_the_same_from_yahoo_and_from_stooq(
    fake_yahoo, fake_stooq, shared_fixtures, tmp_path
):
    symbols = seed_price_symbols()
    fake_stooq.bodies = {}
    for ticker, name in FILES.items():
        series = series_from_csv(
            shared_fixtures / f"prices/{name}.csv",
            SPLITS.get(ticker, []),
            first=D("2022-12-01"),
            last=D("2024-07-31"),
        )
        fake_yahoo.series[symbols[ticker].yahoo_symbol] = series
        fake_stooq.bodies[symbols[ticker].stooq_symbol] = stooq_csv(series)
    yahoo_env = {"CAPEX_YAHOO_URL": fake_yahoo.url, "CAPEX_PRICE_SOURCES": "yahoo"}
    stooq_env = {
        "CAPEX_PRICES_URL": fake_stooq.url,
        "CAPEX_STOOQ_APIKEY": fake_stooq.key,
        "CAPEX_PRICE_SOURCES": "stooq",
    }
    from_yahoo = build(shared_fixtures, tmp_path / "yahoo", yahoo_env)
    from_stooq = build(shared_fixtures, tmp_path / "stooq", stooq_env)

    yahoo_rows, stooq_rows = query(from_yahoo, VALUATION), query(from_stooq, VALUATION)
    assert len(yahoo_rows) == len(stooq_rows) > 800
    for a, b in zip(yahoo_rows, stooq_rows, strict=True):
        assert a[:2] == b[:2]
        rounding = 0.0005 / b[2]  # Stooq's three decimals, relative to the close
        for x, y in zip(a[2:], b[2:], strict=True):
            assert (x is None) == (y is None), (a, b)
            if x is not None:
                assert x == pytest.approx(y, rel=rounding + 1e-12), (a, b)
    # NVIDIA 2023: $146.14 → $495.22 pre-split (+238.9%), from either provider.
    for path in (from_yahoo, from_stooq):
        [(nvda_2023,)] = query(
            path,
            "SELECT price_return FROM marts.price_returns "
            "WHERE ticker = 'NVDA' AND period = '2023'",
        )
        assert nvda_2023 == pytest.approx(495.22 / 146.14 - 1, abs=0.005)
    for a, b in zip(query(from_yahoo, RETURNS), query(from_stooq, RETURNS), strict=True):
        assert a[:4] == b[:4] and a[4] == pytest.approx(b[4], abs=1e-4)

    # Offline, from raw/ alone: the same marts, exactly, and no request.
    asked = len(fake_yahoo.requests), len(fake_stooq.requests)
    offline = {"CAPEX_OFFLINE": "1"}
    again_yahoo = build(shared_fixtures, tmp_path / "yahoo", {**yahoo_env, **offline})
    again_stooq = build(shared_fixtures, tmp_path / "stooq", {**stooq_env, **offline})
    assert (len(fake_yahoo.requests), len(fake_stooq.requests)) == asked
    assert query(again_yahoo, VALUATION) == yahoo_rows
    assert query(again_stooq, VALUATION) == stooq_rows
