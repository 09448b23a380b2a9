"""Daily prices: CSV layouts, Stooq over real HTTP, the local folder, raw/ and offline rebuild.

The recorded files in ../shared/fixtures/prices come in two layouts (SOURCES.md): the folder's
own files are yfinance exports (``Date,Close,High,Low,Open,Volume``), ``prices/stooq/`` holds
Stooq-layout files (``Date,Open,High,Low,Close,Volume``) adjusted differently. No assertion
below mixes the two.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.core.config import load_settings
from pipelines.core.http import FetchError
from pipelines.core.rawstore import RawStore
from pipelines.market.price_csv import PriceFormatError, detect_layout, parse_price_csv
from pipelines.market.prices import (
    load_prices,
    price_universe,
    read_local_prices,
    seed_price_symbols,
)
from pipelines.market.providers import PriceSourceError
from pipelines.market.stooq import StooqProvider

STOOQ_HEADER = "Date,Open,High,Low,Close,Volume"


def close_on(frame: pl.DataFrame, day: str) -> float:
    return frame.filter(pl.col("date") == date.fromisoformat(day))["close"].item()


# --- parsing ------------------------------------------------------------------------------


def test_yfinance_export_parses_with_published_closes(shared_fixtures: Path):
    """SOURCES.md: TSLA closed at 123.18 on 2022-12-30 and 232.07 on 2024-07-31."""
    body = (shared_fixtures / "prices" / "TSLA.csv").read_bytes()
    assert detect_layout(body.decode().splitlines()[0].split(",")) == "yahoo"
    frame = parse_price_csv(body, "TSLA", "file:yahoo")
    assert close_on(frame, "2022-12-30") == pytest.approx(123.18, abs=0.005)
    assert close_on(frame, "2024-07-31") == pytest.approx(232.07, abs=0.005)
    window = frame.filter(pl.col("date").is_between(date(2022, 12, 30), date(2024, 7, 31)))
    assert window.height == 397  # SOURCES.md: 397 trading days in that window
    assert frame["date"].is_sorted() and frame["date"].n_unique() == frame.height
    assert frame.columns == [
        "ticker",
        "date",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "source",
        "adj_close",
        "close_adjustment",
    ]
    # yfinance's auto-adjusted export (no Adj Close column): close is dividend-adjusted too.
    assert set(frame["close_adjustment"]) == {"split+dividend"}
    assert frame["adj_close"].equals(frame["close"], check_names=False)


def test_stooq_layout_parses_with_recorded_closes(shared_fixtures: Path):
    """SOURCES.md: stooq AAPL close 128.437 on 2022-12-30; MSFT 416.763 on 2024-07-31."""
    aapl = parse_price_csv((shared_fixtures / "prices/stooq/AAPL.csv").read_bytes(), "AAPL", "s")
    msft = parse_price_csv((shared_fixtures / "prices/stooq/MSFT.csv").read_bytes(), "MSFT", "s")
    assert close_on(aapl, "2022-12-30") == pytest.approx(128.437, abs=0.0005)
    assert close_on(msft, "2024-07-31") == pytest.approx(416.763, abs=0.0005)
    assert aapl["date"].min() == date(1984, 9, 7)
    # Open and Close are not swapped: the stooq file's columns are in a different order.
    row = aapl.filter(pl.col("date") == date(2022, 12, 30)).row(0, named=True)
    assert row["low"] <= row["open"] <= row["high"] and row["low"] <= row["close"] <= row["high"]


def test_yahoo_columns_in_any_order_with_adj_close():
    body = (
        "Adj Close,Volume,Date,Close,Open,Low,High\n"
        "9.5,1200,2024-06-10 00:00:00-04:00,10.0,9.0,8.5,10.5\n"
        "null,null,2024-06-11,null,null,null,null\n"  # Yahoo's row for a day without a quote
        "10.5,1300.0,2024-06-12,11.0,10.0,9.5,11.5\n"
    )
    frame = parse_price_csv(body, "X", "file:yahoo")
    assert frame.select("date", "open", "high", "low", "close", "adj_close", "volume").rows() == [
        (date(2024, 6, 10), 9.0, 10.5, 8.5, 10.0, 9.5, 1200),
        (date(2024, 6, 12), 10.0, 11.5, 9.5, 11.0, 10.5, 1300),
    ]
    # With an Adj Close column, Close is adjusted for splits only.
    assert set(frame["close_adjustment"]) == {"split"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", r"is empty"),
        ("\n\n", r"is empty"),
        (STOOQ_HEADER + "\n", r"has a header but no rows"),
        ("No data", r"is not a CSV \(first line 'No data'\)"),
        ("Date,Price\n2024-01-02,3\n", r"unrecognised price CSV header 'Date,Price'"),
        ("Date,Open,High,Low,Close,Volume,Close\n", r"unrecognised price CSV header"),
        (STOOQ_HEADER + "\n2024-01-02,1,2,0.5,abc,100\n", r"line 2: close 'abc' is not a number"),
        (
            STOOQ_HEADER + "\n2024-01-02,1,2,0.5,1.5,100\n2024-01-03,1,2",
            r"line 3: close is missing",
        ),
        (STOOQ_HEADER + "\n2024-01-02,1,2,0.5,1.5,100,7\n", r"not a well-formed CSV"),
        (
            STOOQ_HEADER + "\n02/01/2024,1,2,0.5,1.5,100\n",
            r"line 2: date '02/01/2024' is not a date",
        ),
        (STOOQ_HEADER + "\n2024-01-02,1,2,0.5,1.5,x\n", r"line 2: volume 'x' is not a number"),
        (STOOQ_HEADER + "\n2024-01-02,1,2,0.5,0,100\n", r"close '0' on 2024-01-02 is not positive"),
        (
            STOOQ_HEADER + "\n2024-01-02,1,2,0.5,1.5,100\n2024-01-02,1,2,0.5,1.6,100\n",
            r"date 2024-01-02 appears more than once",
        ),
        (
            STOOQ_HEADER
            + "\n2024-01-02,1,2,0.5,1.5,100\n2024-01-04,1,2,0.5,1.6,100\n"
            + "2024-01-03,1,2,0.5,1.6,100\n",
            r"line 4: date 2024-01-03 comes after 2024-01-04; dates out of order",
        ),
    ],
)
def test_bad_csv_gives_a_clear_error(body: str, message: str):
    with pytest.raises(PriceFormatError, match=message) as raised:
        parse_price_csv(body, "NVDA", "stooq", origin="nvda.csv")
    assert "nvda.csv" in str(raised.value) or "header" in str(raised.value)


# --- universe -----------------------------------------------------------------------------


def test_universe_has_the_companies_then_the_benchmarks():
    symbols = price_universe(["NVDA", "GOOGL", "BRK.B"])
    assert [(s.ticker, s.yahoo_symbol, s.stooq_symbol) for s in symbols] == [
        ("NVDA", "NVDA", "nvda.us"),
        ("GOOGL", "GOOGL", "googl.us"),
        ("BRK.B", "BRK-B", "brk-b.us"),
        ("SPX", "^GSPC", "^spx"),
        ("NDX", "^NDX", "^ndx"),
    ]
    assert seed_price_symbols()["SPX"].local_files == ("SPX.csv", "GSPC.csv")


# --- the local folder ---------------------------------------------------------------------


def test_local_folder_reads_yahoo_files_and_the_gspc_alias(shared_fixtures: Path):
    folder = shared_fixtures / "prices"
    spx = seed_price_symbols()["SPX"]
    frame, path = read_local_prices(folder, spx)
    assert path.name == "GSPC.csv"
    assert set(frame["source"]) == {"file:yahoo"} and set(frame["ticker"]) == {"SPX"}
    # SOURCES.md: ^GSPC closed at 3839.5 on 2022-12-30 and 5522.30 on 2024-07-31.
    assert close_on(frame, "2022-12-30") == pytest.approx(3839.50, abs=0.005)
    assert close_on(frame, "2024-07-31") == pytest.approx(5522.30, abs=0.005)


def test_local_folder_in_stooq_layout_and_a_missing_file(shared_fixtures: Path):
    folder = shared_fixtures / "prices" / "stooq"
    symbols = seed_price_symbols()
    frame, _ = read_local_prices(folder, symbols["AAPL"])
    assert set(frame["source"]) == {"file:stooq"}
    assert close_on(frame, "2022-12-30") == pytest.approx(128.437, abs=0.0005)
    with pytest.raises(
        PriceSourceError, match=r"no price file for TSLA in CAPEX_PRICES_DIR=.*TSLA"
    ):
        read_local_prices(folder, symbols["TSLA"])


def test_local_folder_rejects_a_bad_file_naming_it(tmp_path: Path):
    (tmp_path / "NVDA.csv").write_text("Date,Price\n2024-01-02,3\n")
    (tmp_path / "AAPL.csv").write_text("")
    symbols = seed_price_symbols()
    with pytest.raises(PriceSourceError, match=r"NVDA.csv.*unrecognised price CSV header"):
        read_local_prices(tmp_path, symbols["NVDA"])
    with pytest.raises(PriceSourceError, match=r"AAPL.csv is empty"):
        read_local_prices(tmp_path, symbols["AAPL"])
    with pytest.raises(PriceSourceError, match="is not a folder"):
        read_local_prices(tmp_path / "nowhere", symbols["AAPL"])


# --- Stooq over HTTP ----------------------------------------------------------------------


def stooq_settings(fake_stooq, tmp_path: Path, **env: str):
    return load_settings(
        {
            "CAPEX_PRICES_URL": fake_stooq.url,
            "CAPEX_STOOQ_APIKEY": fake_stooq.key,
            "CAPEX_PRICE_SOURCES": "stooq",
            "CAPEX_RAW_DIR": str(tmp_path / "raw"),
            "CAPEX_WAREHOUSE": str(tmp_path / "warehouse" / "capex.duckdb"),
            "CAPEX_PRICES_RATE": "50",
            **env,
        }
    )


def stooq(settings) -> StooqProvider:
    return StooqProvider(settings, RawStore(settings.raw_dir), lambda _message: None)


def test_stooq_download_lands_in_raw_and_parses(fake_stooq, shared_fixtures, tmp_path):
    answer = stooq(stooq_settings(fake_stooq, tmp_path)).load(seed_price_symbols()["NVDA"])
    assert fake_stooq.requests == [("nvda.us", fake_stooq.key)], "the key is sent as apikey"
    assert answer.downloaded and answer.raw_keys == ("prices/q/d/l/q_s=nvda.us_i=d",)
    [document] = RawStore(tmp_path / "raw").versions(answer.raw_keys[0])
    recorded = (shared_fixtures / "prices/stooq/NVDA.csv").read_bytes()
    assert document.read() == recorded, "raw/ keeps the body exactly as received"
    assert answer.frame.equals(parse_price_csv(recorded, "NVDA", "stooq"))
    assert set(answer.frame["source"]) == {"stooq"}
    assert set(answer.frame["close_adjustment"]) == {"split+dividend"}


def test_unknown_symbol_is_an_error_naming_it(fake_stooq, tmp_path):
    unknown = replace(seed_price_symbols()["NVDA"], ticker="NOPE", stooq_symbol="nope.us")
    with pytest.raises(FetchError, match=r"Stooq has no data for symbol 'nope.us' \(ticker NOPE"):
        stooq(stooq_settings(fake_stooq, tmp_path)).load(unknown)
    assert not (tmp_path / "raw" / "prices").exists(), "an error answer must not land in raw/"


def test_offline_rebuild_from_raw_equals_the_online_rows(fake_stooq, tmp_path):
    symbols = [seed_price_symbols()[t] for t in ("NVDA", "AAPL", "GOOGL")]
    settings = stooq_settings(fake_stooq, tmp_path)
    online = load_prices(settings, RawStore(settings.raw_dir), symbols)
    assert [load.error for load in online] == [None, None, None]
    asked = len(fake_stooq.requests)
    offline_settings = stooq_settings(fake_stooq, tmp_path, CAPEX_OFFLINE="1")
    offline = load_prices(offline_settings, RawStore(offline_settings.raw_dir), symbols)
    assert len(fake_stooq.requests) == asked, "offline mode must not send a request"
    for before, after in zip(online, offline, strict=True):
        assert after.error is None and after.frame.equals(before.frame)
        assert after.frame.height > 5000


def test_offline_without_raw_documents_says_how_to_fix(fake_stooq, tmp_path):
    settings = stooq_settings(fake_stooq, tmp_path, CAPEX_OFFLINE="1")
    [load] = load_prices(settings, RawStore(settings.raw_dir), [seed_price_symbols()["NVDA"]])
    assert load.frame is None
    assert "run once without CAPEX_OFFLINE=1" in load.error and "nvda.us" in load.error
    assert fake_stooq.requests == []


# --- the Dagster asset --------------------------------------------------------------------


def materialize_prices(monkeypatch, tmp_path: Path, **env: str):
    from pipelines.core.resources import CapexResource
    from pipelines.market.assets import staging_prices

    monkeypatch.setenv("CAPEX_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("CAPEX_WAREHOUSE", str(tmp_path / "warehouse" / "capex.duckdb"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return dg.materialize(
        [staging_prices], resources={"capex": CapexResource()}, raise_on_error=False
    )


def build_rows(tmp_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(tmp_path / "warehouse" / ".build" / "capex.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def check_results(result) -> dict[str, tuple[bool, dict]]:
    return {
        c.check_name: (c.passed, {k: v.value for k, v in c.metadata.items()})
        for c in result.get_asset_check_evaluations()
    }


@pytest.fixture
def default_universe():
    """The asset prices the selected universe: these tests need the default seven."""
    from pipelines.sec.partitions import universe

    selected = sorted(universe(load_settings()))
    if selected != sorted(seed_price_symbols().keys() - {"SPX", "NDX"}):
        pytest.skip(f"CAPEX_TICKERS selects {selected}; these tests assume the seven")


def test_asset_loads_every_ticker_from_the_local_folder(
    monkeypatch, tmp_path, shared_fixtures, default_universe
):
    folder = str(shared_fixtures / "prices")
    result = materialize_prices(monkeypatch, tmp_path, CAPEX_PRICES_DIR=folder)
    assert result.success
    checks = check_results(result)
    assert {name: passed for name, (passed, _) in checks.items()} == {
        "every_ticker_loaded": True,
        "one_row_per_day": True,
        "sane_prices": True,
        "providers_agree": True,
        "splits_agree_with_filings": True,
    }
    rows = dict(build_rows(tmp_path, "SELECT ticker, count(*) FROM staging.prices GROUP BY 1"))
    # 2011-03-17 .. 2026-03-16 in every yfinance file; META listed on 2012-05-18.
    assert rows == {
        **{t: 3771 for t in ("AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "SPX", "NDX")},
        "META": 3475,
    }
    closes = build_rows(
        tmp_path,
        "SELECT ticker, close, source FROM staging.prices WHERE date = '2024-07-31' "
        "AND ticker IN ('SPX', 'TSLA') ORDER BY 1",
    )
    # SOURCES.md: ^GSPC 5522.30 and TSLA 232.07 on 2024-07-31.
    assert [(t, round(c, 2), s) for t, c, s in closes] == [
        ("SPX", 5522.30, "file:yahoo"),
        ("TSLA", 232.07, "file:yahoo"),
    ]
    # A re-run replaces rows instead of appending.
    assert materialize_prices(monkeypatch, tmp_path).success
    [(count,)] = build_rows(tmp_path, "SELECT count(*) FROM staging.prices")
    assert count == sum(rows.values())


def test_asset_over_http_names_unknown_symbols_and_lands_the_others(
    monkeypatch, tmp_path, fake_stooq, default_universe
):
    """The stooq recordings served here hold NVDA, AAPL and GOOGL; Stooq says 'No data' for
    the others (MSFT, AMZN, META, TSLA, ^spx, ^ndx)."""
    env = {
        "CAPEX_PRICES_URL": fake_stooq.url,
        "CAPEX_PRICES_RATE": "50",
        "CAPEX_PRICE_SOURCES": "stooq",
        "CAPEX_STOOQ_APIKEY": fake_stooq.key,
    }
    result = materialize_prices(monkeypatch, tmp_path, **env)
    assert result.success, "one bad symbol must not hold back the marts downstream"
    passed, metadata = check_results(result)["every_ticker_loaded"]
    assert not passed
    assert metadata["failed"] == "MSFT, AMZN, META, TSLA, SPX, NDX"
    for symbol in ("tsla.us", "^spx", "^ndx"):
        assert f"Stooq has no data for symbol '{symbol}'" in metadata["errors"]
    rows = build_rows(tmp_path, "SELECT DISTINCT ticker FROM staging.prices ORDER BY 1")
    assert rows == [("AAPL",), ("GOOGL",), ("NVDA",)]
    keys = build_rows(tmp_path, "SELECT key FROM raw.manifest WHERE key LIKE 'prices/%' ORDER BY 1")
    assert keys == [
        ("prices/q/d/l/q_s=aapl.us_i=d",),
        ("prices/q/d/l/q_s=googl.us_i=d",),
        ("prices/q/d/l/q_s=nvda.us_i=d",),
    ]
    [(nvda,)] = build_rows(tmp_path, "SELECT count(*) FROM staging.prices WHERE ticker = 'NVDA'")
    assert nvda == 6706  # 1999-01-22 .. 2025-09-19 in the stooq recording
    # Offline, from raw/ alone: the same rows, no request, and a re-run stores no second copy.
    before = build_rows(tmp_path, "SELECT * FROM staging.prices ORDER BY ticker, date")
    asked = len(fake_stooq.requests)
    offline = materialize_prices(monkeypatch, tmp_path, CAPEX_OFFLINE="1", **env)
    assert offline.success and len(fake_stooq.requests) == asked
    assert build_rows(tmp_path, "SELECT * FROM staging.prices ORDER BY ticker, date") == before
    assert len(RawStore(tmp_path / "raw").versions("prices/q/d/l/q_s=nvda.us_i=d")) == 1
