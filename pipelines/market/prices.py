"""Daily prices: the price universe, Stooq over HTTP, and a local folder of CSV files.

* **Stooq**: ``{CAPEX_PRICES_URL}/q/d/l/?s={symbol}&i=d`` (default ``https://stooq.com``),
  fetched through :class:`pipelines.core.http.Fetcher` under the source name ``prices``: raw/,
  retries, timeouts, conditional GET and offline rebuild (``CAPEX_OFFLINE=1``) come from there.
  Stooq answers an unknown symbol with HTTP 200 and a body such as ``No data``; that is an
  error naming the symbol, and nothing is stored.
* **Local folder** (``CAPEX_PRICES_DIR``): one ``TICKER.csv`` per ticker, in the Stooq layout or
  a Yahoo-style export. When the folder is set it replaces Stooq.

The universe is the selected companies plus the benchmarks ``SPX`` (S&P 500, Stooq ``^spx``)
and ``NDX`` (Nasdaq-100, ``^ndx``); ``pipelines/seeds/price_symbols.csv`` maps each ticker to
its Stooq symbol and to an alternative local file name (``GSPC.csv`` for ``SPX``, as Yahoo
names the S&P 500).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlencode

import polars as pl

from pipelines.core.config import Settings
from pipelines.core.http import Fetched, Fetcher, FetchError
from pipelines.core.rawstore import RawStore
from pipelines.market.price_csv import PriceFormatError, detect_layout_of, parse_price_csv

SOURCE = "prices"
USER_AGENT = "capex-watch/0.1 (daily price download)"
BENCHMARKS = ("SPX", "NDX")


class PriceSourceError(RuntimeError):
    """Prices for a ticker could not be had; the message names the ticker, where and why."""


@dataclass(frozen=True)
class PriceSymbol:
    """One price series: our ticker, Stooq's symbol and the local file names to look for."""

    ticker: str
    stooq_symbol: str
    local_files: tuple[str, ...]
    kind: str  # 'company' or 'benchmark'
    name: str = ""


def seed_price_symbols() -> dict[str, PriceSymbol]:
    """The rows of pipelines/seeds/price_symbols.csv, by ticker."""
    text = resources.files("pipelines.seeds").joinpath("price_symbols.csv").read_text()
    symbols = {}
    for row in csv.DictReader(text.splitlines()):
        ticker = row["ticker"].strip().upper()
        files = dict.fromkeys([f"{ticker}.csv", row["local_file"].strip()])
        symbols[ticker] = PriceSymbol(
            ticker,
            row["stooq_symbol"].strip(),
            tuple(f for f in files if f),
            row["kind"].strip(),
            row["name"].strip(),
        )
    return symbols


def default_symbol(ticker: str) -> PriceSymbol:
    """Stooq's spelling for a US listing not in the seed file: ``brk-b.us`` for ``BRK.B``."""
    ticker = ticker.upper()
    stooq = ticker.lower().replace(".", "-") + ".us"
    return PriceSymbol(ticker, stooq, (f"{ticker}.csv",), "company")


def price_universe(company_tickers: Iterable[str]) -> list[PriceSymbol]:
    """The price series to load: ``company_tickers`` in order, then the benchmarks."""
    seeds = seed_price_symbols()
    tickers = dict.fromkeys([t.upper() for t in company_tickers] + list(BENCHMARKS))
    return [seeds.get(t) or default_symbol(t) for t in tickers]


def stooq_path(symbol: str) -> str:
    """The path and query of Stooq's daily CSV download for ``symbol``."""
    return "q/d/l/?" + urlencode({"s": symbol, "i": "d"}, safe="^")


def stooq_validator(symbol: PriceSymbol) -> Callable[[bytes, str | None], pl.DataFrame]:
    """A :class:`Fetcher` validator that parses Stooq's answer for ``symbol`` into rows."""

    def validate(body: bytes, content_type: str | None) -> pl.DataFrame:
        text = body.decode("utf-8-sig", errors="replace").strip()
        if text.lower().startswith("no data") or not text:
            raise PriceSourceError(
                f"Stooq has no data for symbol {symbol.stooq_symbol!r} (ticker "
                f"{symbol.ticker}; answer {text[:40]!r}); check the symbol in "
                "pipelines/seeds/price_symbols.csv"
            )
        if text[:200].lower().startswith(("<!doctype", "<html")):
            raise PriceSourceError(
                f"Stooq answered symbol {symbol.stooq_symbol!r} with an HTML page, not a CSV "
                f"(Content-Type {content_type}); the service may be refusing downloads"
            )
        try:
            return parse_price_csv(
                body, symbol.ticker, "stooq", origin=f"Stooq's CSV for {symbol.stooq_symbol!r}"
            )
        except PriceFormatError as exc:
            raise PriceSourceError(str(exc)) from exc

    return validate


def prices_fetcher(
    settings: Settings,
    store: RawStore,
    *,
    log: Callable[[str], None] | None = None,
) -> Fetcher:
    """The :class:`Fetcher` for Stooq, configured from ``settings`` (CAPEX_PRICES_RATE: Stooq
    publishes no limit; the default of one request a second is polite)."""
    return Fetcher(
        SOURCE,
        settings.prices_url,
        store,
        user_agent=USER_AGENT,
        requests_per_second=settings.prices_requests_per_second,
        offline=settings.offline,
        timeout=settings.http_timeout,
        max_attempts=settings.http_max_attempts,
        max_retry_seconds=settings.http_max_retry_seconds,
        log=log,
        max_body_bytes=settings.max_body_bytes,
        status_hints={
            403: "Stooq refuses the download (too many requests?); set CAPEX_PRICES_DIR to "
            "read CSV files instead",
            404: "is the symbol right? see pipelines/seeds/price_symbols.csv and CAPEX_PRICES_URL",
        },
    )


def fetch_stooq(fetcher: Fetcher, symbol: PriceSymbol) -> tuple[pl.DataFrame, Fetched]:
    """Daily prices of ``symbol`` from Stooq (or from raw/ when the fetcher is offline).

    Raises :class:`pipelines.core.http.FetchError` naming the URL (and so the symbol) on any
    failure, including Stooq's ``No data`` answer.
    """
    fetched = fetcher.get(stooq_path(symbol.stooq_symbol), stooq_validator(symbol))
    return fetched.parsed, fetched


def find_local_file(folder: Path, symbol: PriceSymbol) -> Path:
    """The CSV of ``symbol`` in ``folder`` (``TICKER.csv``, else the seed's file name)."""
    for name in symbol.local_files:
        path = folder / name
        if path.is_file():
            return path
    names = " or ".join(symbol.local_files)
    raise PriceSourceError(
        f"no price file for {symbol.ticker} in CAPEX_PRICES_DIR={folder}: expected {names}"
    )


def read_local_prices(folder: Path, symbol: PriceSymbol) -> tuple[pl.DataFrame, Path]:
    """Daily prices of ``symbol`` from its CSV in ``folder``; ``source`` is ``file:<layout>``."""
    if not folder.is_dir():
        raise PriceSourceError(
            f"CAPEX_PRICES_DIR={folder} is not a folder; point it at a folder of TICKER.csv "
            "files or unset it to download from Stooq"
        )
    path = find_local_file(folder, symbol)
    body = path.read_bytes()
    try:
        frame = parse_price_csv(body, symbol.ticker, "file", origin=str(path))
    except PriceFormatError as exc:
        raise PriceSourceError(str(exc)) from exc
    # The header is known good now; record which layout the file had.
    return frame.with_columns(source=pl.lit(f"file:{detect_layout_of(body)}")), path


@dataclass(frozen=True)
class PriceLoad:
    """The outcome for one ticker: rows, or an error saying why there are none."""

    symbol: PriceSymbol
    frame: pl.DataFrame | None
    origin: str  # the URL or file the rows came from (or should have)
    error: str | None = None
    raw_key: str | None = None  # the raw/ document, for Stooq
    downloaded: bool = False


def load_prices(
    settings: Settings,
    store: RawStore,
    symbols: Iterable[PriceSymbol],
    *,
    log: Callable[[str], None] | None = None,
) -> list[PriceLoad]:
    """Daily prices for every symbol: from ``CAPEX_PRICES_DIR`` when set, else from Stooq.

    A symbol that fails does not stop the others; its :class:`PriceLoad` carries the error.
    """
    log = log or (lambda _message: None)
    loads = []
    fetcher = None
    for symbol in symbols:
        if settings.prices_dir is not None:
            try:
                frame, path = read_local_prices(settings.prices_dir, symbol)
            except PriceSourceError as exc:
                loads.append(PriceLoad(symbol, None, str(settings.prices_dir), str(exc)))
                continue
            loads.append(PriceLoad(symbol, frame, str(path)))
            continue
        if fetcher is None:
            fetcher = prices_fetcher(settings, store, log=log)
        url = fetcher.url(stooq_path(symbol.stooq_symbol))
        try:
            frame, fetched = fetch_stooq(fetcher, symbol)
        except FetchError as exc:
            loads.append(PriceLoad(symbol, None, url, f"{symbol.ticker}: {exc}"))
            continue
        log(f"{symbol.ticker}: {frame.height} days from {url}")
        loads.append(PriceLoad(symbol, frame, url, None, fetched.document.key, fetched.downloaded))
    return loads
