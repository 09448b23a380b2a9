"""Yahoo's chart API: recorded chart JSON, bad answers, 429s, and refreshes across a split.

Recorded chart bodies (../shared/fixtures/prices/yahoo, SOURCES.md) are parsed as they are;
where a test needs a series Yahoo did not record, the local server builds the chart JSON from
the recorded yfinance CSVs (tests/market/price_servers.py).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.core.config import load_settings
from pipelines.core.rawstore import RawStore
from pipelines.market.prices import load_prices, seed_price_symbols
from pipelines.market.yahoo import YahooProvider
from pipelines.market.yahoo_chart import ChartError, parse_chart
from tests.market.price_servers import chart_body, series_from_csv

D = date.fromisoformat
NVDA_SPLITS = [(D("2021-07-20"), 4.0), (D("2024-06-10"), 10.0)]


def yahoo_settings(fake_yahoo, tmp_path: Path, **env: str):
    return load_settings(
        {
            "CAPEX_YAHOO_URL": fake_yahoo.url,
            "CAPEX_PRICE_SOURCES": "yahoo",
            "CAPEX_RAW_DIR": str(tmp_path / "raw"),
            "CAPEX_WAREHOUSE": str(tmp_path / "warehouse" / "capex.duckdb"),
            "CAPEX_PRICES_RATE": "50",
            "CAPEX_HTTP_MAX_RETRY_SECONDS": "30",
            **env,
        }
    )


def yahoo(settings) -> YahooProvider:
    return YahooProvider(settings, RawStore(settings.raw_dir), lambda _message: None)


def close_on(frame: pl.DataFrame, day: str) -> float:
    return frame.filter(pl.col("date") == D(day))["close"].item()


# --- parsing the recorded chart JSON --------------------------------------------------------


def test_recorded_nvda_chart_with_its_2021_split(shared_fixtures: Path):
    """SOURCES.md: 252 days 2021-02-01 → 2022-01-28, the 4:1 split of 2021-07-20 in events;
    recorded after the 2024 10:1 split too. NVIDIA closed at $529.48 on 2021-02-01, i.e.
    529.48 / 40 split-adjusted."""
    body = (shared_fixtures / "prices/yahoo/NVDA_chart_1d.json").read_bytes()
    chart = parse_chart(body, "NVDA")
    frame = chart.prices
    assert frame.height == 252
    assert (frame["date"].min(), frame["date"].max()) == (D("2021-02-01"), D("2022-01-28"))
    assert close_on(frame, "2021-02-01") == pytest.approx(529.48 / 40, rel=1e-4)
    assert chart.splits.select("split_date", "ratio").rows() == [(D("2021-07-20"), 4.0)]
    # close is split-adjusted only; adj_close (13.2035) also takes the dividends out.
    row = frame.filter(pl.col("date") == D("2021-02-01")).row(0, named=True)
    assert row["adj_close"] == pytest.approx(13.2035, abs=1e-4) and row["adj_close"] < row["close"]
    assert set(frame["close_adjustment"]) == {"split"} and set(frame["source"]) == {"yahoo"}


def test_recorded_aapl_and_meta_charts(shared_fixtures: Path):
    """SOURCES.md: AAPL 127 days 2025-04-30 → 2025-10-29; META 250 days 2024-10-17 → 2025-10-16."""
    aapl = parse_chart((shared_fixtures / "prices/yahoo/AAPL_chart_1d.json").read_bytes(), "AAPL")
    meta = parse_chart((shared_fixtures / "prices/yahoo/META_chart_1d.json").read_bytes(), "META")
    assert aapl.prices.height == 127 and meta.prices.height == 250
    assert aapl.prices["date"].max() == D("2025-10-29")
    assert (meta.prices["date"].min(), meta.prices["date"].max()) == (
        D("2024-10-17"),
        D("2025-10-16"),
    )
    assert aapl.splits.height == 0 and meta.splits.height == 0


def test_unknown_symbol_error_body_names_the_cause(shared_fixtures: Path):
    body = (shared_fixtures / "prices/yahoo/SIX_chart_1d_404_not_found.json").read_bytes()
    with pytest.raises(ChartError, match=r"Yahoo has no data \(Not Found: No data found"):
        parse_chart(body, "SIX")


def one_day(**override) -> dict:
    row = {"date": D("2024-06-03"), "open": 10.0, "high": 11.0, "low": 9.5, "close": 10.5}
    return {**row, "adj_close": row["close"], "volume": 1000, **override}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([one_day(), one_day(date=D("2024-05-31"))], r"days out of order \(2024-06-03 before"),
        ([one_day(), one_day()], r"day 2024-06-03 appears more than once"),
        ([one_day(close=0.0)], r"2024-06-03: a price is not positive"),
        ([one_day(low=-1.0)], r"2024-06-03: a price is not positive"),
        ([one_day(volume="1000")], r"volume of day 1 is '1000', not a number"),
    ],
)
def test_a_chart_that_disagrees_with_itself_is_an_error(rows, message):
    with pytest.raises(ChartError, match=message):
        parse_chart(chart_body("NVDA", rows), "NVDA")


def test_days_without_a_close_are_left_out_and_counted():
    """Yahoo sends nulls for a halted day; that day has no price, the others stand."""
    rows = [
        one_day(),
        one_day(date=D("2024-06-04"), open=None, high=None, low=None, close=None, volume=None),
        one_day(date=D("2024-06-05"), close=10.8),
    ]
    chart = parse_chart(chart_body("NVDA", rows), "NVDA")
    assert chart.prices.select("date", "close").rows() == [
        (D("2024-06-03"), 10.5),
        (D("2024-06-05"), 10.8),
    ]
    assert chart.days_without_close == 1


def test_outage_page_is_named():
    with pytest.raises(ChartError, match="outage page"):
        parse_chart(b"<html><body>Will be right back...</body></html>", "NVDA")


def test_a_closed_sessions_bar_stays_and_a_live_one_is_left_out(shared_fixtures: Path):
    """The AAPL recording ends with the bar of 2025-10-29 stamped 16:00:01 New York time
    (Yahoo stamps the day's bar with the last trade), at the session's close in
    currentTradingPeriod: final, kept. Stamped mid-session, it is a live bar: left out."""
    body = (shared_fixtures / "prices/yahoo/AAPL_chart_1d.json").read_bytes()
    assert parse_chart(body, "AAPL").prices["date"].max() == D("2025-10-29")
    document = json.loads(body)
    result = document["chart"]["result"][0]
    result["timestamp"][-1] = result["meta"]["currentTradingPeriod"]["regular"]["start"] + 3600
    live = parse_chart(json.dumps(document).encode(), "AAPL")
    assert live.prices["date"].max() == D("2025-10-28")


def test_a_live_bar_is_left_for_the_next_refresh():
    """Without currentTradingPeriod: a bar fetched within seven hours of its stamp (the open)
    is not final: left out."""
    rows = [one_day(), one_day(date=D("2024-06-04"))]
    fetched = datetime(2024, 6, 4, 15, 0, tzinfo=UTC)  # 11:00 in New York
    chart = parse_chart(chart_body("NVDA", rows), "NVDA", fetched_at=fetched)
    assert chart.prices["date"].to_list() == [D("2024-06-03")]


# --- over HTTP --------------------------------------------------------------------------------


def serve_nvda(fake_yahoo, shared_fixtures: Path) -> None:
    fake_yahoo.series["NVDA"] = series_from_csv(
        shared_fixtures / "prices/NVDA.csv", NVDA_SPLITS, first=D("2023-06-01")
    )


def test_refresh_across_nvidias_2024_split(fake_yahoo, shared_fixtures, tmp_path):
    """NVIDIA split 10-for-1 on 2024-06-10. Fetched before it, May 2024 closes are ~$1,100
    (NVIDIA closed at $1,096.33 on 2024-05-31); the refresh after it asks only for the new
    days, gets the split in events.splits, and the stored days are divided by ten, so the
    series equals the split-adjusted recording."""
    serve_nvda(fake_yahoo, shared_fixtures)
    settings = yahoo_settings(fake_yahoo, tmp_path)
    provider = yahoo(settings)
    nvda = seed_price_symbols()["NVDA"]
    fake_yahoo.today = D("2024-06-01")
    before = provider.load(nvda)
    assert close_on(before.frame, "2024-05-31") == pytest.approx(1096.33, rel=0.002)
    assert before.frame["date"].max() == D("2024-05-31")
    assert before.splits["split_date"].to_list() == [D("2021-07-20")]  # in the range asked

    fake_yahoo.today = D("2024-07-01")
    after = yahoo(settings).load(nvda)
    _, query = fake_yahoo.requests[-1]
    first_asked = datetime.fromtimestamp(int(query["period1"][0]), UTC).date()
    assert first_asked == D("2024-06-01"), "only the days after the last stored one"
    assert query["events"] == ["div,splits"] and query["interval"] == ["1d"]
    assert after.splits.select("split_date", "ratio").rows() == NVDA_SPLITS
    recorded = series_from_csv(shared_fixtures / "prices/NVDA.csv", [], first=D("2023-06-01"))
    expected = {row["date"]: row["close"] for row in recorded.rows}
    for day in ("2023-06-01", "2024-05-31", "2024-06-07", "2024-06-10", "2024-06-28"):
        assert close_on(after.frame, day) == pytest.approx(expected[D(day)], rel=1e-9), day
    assert close_on(after.frame, "2024-05-31") == pytest.approx(109.633, rel=0.002)
    assert len(after.raw_keys) == 2 and after.downloaded == 1

    # Offline, from the two chunks in raw/: the same series, no request.
    asked = len(fake_yahoo.requests)
    offline = yahoo(yahoo_settings(fake_yahoo, tmp_path, CAPEX_OFFLINE="1")).load(nvda)
    assert len(fake_yahoo.requests) == asked
    assert offline.frame.equals(after.frame) and offline.splits.equals(after.splits)

    # On the Sunday after, the weekend is asked for; Yahoo answers HTTP 400 "Data doesn't
    # exist for startDate": no new day, the stored ones stand.
    weekend = yahoo(settings)
    weekend.today = lambda: D("2024-06-30")
    sunday = weekend.load(nvda)
    assert sunday.frame.equals(after.frame) and sunday.note.startswith("no new day after")
    _, query = fake_yahoo.requests[-1]
    assert datetime.fromtimestamp(int(query["period1"][0]), UTC).date() == D("2024-06-29")
    asked = len(fake_yahoo.requests)

    # A run on the day of the last stored close has nothing to ask for.
    again = yahoo(settings)
    again.today = lambda: D("2024-06-28")
    assert again.load(nvda).frame.equals(after.frame)
    assert len(fake_yahoo.requests) == asked


def test_429_then_data(fake_yahoo, shared_fixtures, tmp_path):
    serve_nvda(fake_yahoo, shared_fixtures)
    fake_yahoo.faults["NVDA"] = [(429, {"Retry-After": "1"}, b"Too Many Requests")]
    logged: list[str] = []
    settings = yahoo_settings(fake_yahoo, tmp_path)
    provider = YahooProvider(settings, RawStore(settings.raw_dir), logged.append)
    answer = provider.load(seed_price_symbols()["NVDA"])
    assert len(fake_yahoo.requests) == 2
    assert any("HTTP 429" in line for line in logged)
    assert answer.frame["date"].max() == D("2026-03-16")


def test_unknown_symbol_over_http_names_ticker_provider_and_cause(fake_yahoo, tmp_path):
    settings = yahoo_settings(fake_yahoo, tmp_path)
    [load] = load_prices(settings, RawStore(settings.raw_dir), [seed_price_symbols()["NVDA"]])
    assert load.frame is None
    assert load.error.startswith("NVDA: no provider answered (yahoo: ")
    assert "HTTP 404" in load.error and "No data found, symbol may be delisted" in load.error
    assert not (tmp_path / "raw" / "yahoo").exists()


def test_bad_chunk_names_ticker_and_provider_and_stores_nothing(fake_yahoo, tmp_path):
    fake_yahoo.recorded["NVDA"] = chart_body("NVDA", [one_day(), one_day()])
    settings = yahoo_settings(fake_yahoo, tmp_path)
    [load] = load_prices(settings, RawStore(settings.raw_dir), [seed_price_symbols()["NVDA"]])
    assert "NVDA from yahoo ('NVDA')" in load.error and "appears more than once" in load.error
    assert not (tmp_path / "raw" / "yahoo").exists()


def test_benchmarks_are_asked_for_as_gspc_and_ndx(fake_yahoo, shared_fixtures, tmp_path):
    """SOURCES.md: ^GSPC closed at 5522.30 on 2024-07-31."""
    fake_yahoo.series["^GSPC"] = series_from_csv(
        shared_fixtures / "prices/GSPC.csv", first=D("2024-01-01")
    )
    settings = yahoo_settings(fake_yahoo, tmp_path)
    symbols = seed_price_symbols()
    [spx, ndx] = load_prices(settings, RawStore(settings.raw_dir), [symbols["SPX"], symbols["NDX"]])
    assert [symbol for symbol, _ in fake_yahoo.requests] == ["^GSPC", "^NDX"]
    assert close_on(spx.frame, "2024-07-31") == pytest.approx(5522.30, abs=0.005)
    assert set(spx.frame["ticker"]) == {"SPX"}
    assert spx.answer.raw_keys[0].startswith("yahoo/v8/finance/chart/_5EGSPC/q_period1=")
    assert ndx.frame is None and "NDX from yahoo ('^NDX')" in ndx.error


def test_raw_keeps_the_chart_json_as_received(fake_yahoo, shared_fixtures, tmp_path):
    body = (shared_fixtures / "prices/yahoo/NVDA_chart_1d.json").read_bytes()
    fake_yahoo.recorded["NVDA"] = body
    settings = yahoo_settings(fake_yahoo, tmp_path)
    answer = yahoo(settings).load(seed_price_symbols()["NVDA"])
    [document] = RawStore(settings.raw_dir).versions(answer.raw_keys[0])
    assert document.read() == body
    assert json.loads(document.read())["chart"]["result"][0]["meta"]["symbol"] == "NVDA"
