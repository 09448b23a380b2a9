"""What every price provider shares: the price universe, its symbols, and the provider interface.

The universe is the selected companies plus the benchmarks ``SPX`` (S&P 500) and ``NDX``
(Nasdaq-100); ``pipelines/seeds/price_symbols.csv`` maps each ticker to each provider's
symbol (Yahoo ``^GSPC``, Stooq ``^spx``) and to an alternative local file name (``GSPC.csv``).

A provider (:class:`PriceProvider`) answers one symbol with a :class:`ProviderAnswer`, or
raises :class:`PriceSourceError` / :class:`pipelines.core.http.FetchError` naming the ticker
and why, or :class:`ProviderSkipped` when it is not set up (Stooq without a key).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

import polars as pl

BENCHMARKS = ("SPX", "NDX")


class PriceSourceError(RuntimeError):
    """Prices for a ticker could not be had; the message names the ticker, where and why."""


class ProviderSkipped(RuntimeError):
    """A provider that is not set up (no API key): the message says how to set it up."""


@dataclass(frozen=True)
class PriceSymbol:
    """One price series: our ticker, each provider's symbol and the local file names."""

    ticker: str
    stooq_symbol: str
    local_files: tuple[str, ...]
    kind: str  # 'company' or 'benchmark'
    name: str = ""
    yahoo_symbol: str = ""


@dataclass(frozen=True)
class ProviderAnswer:
    """Valid daily rows of one symbol from one provider, and where they came from."""

    frame: pl.DataFrame  # price_csv.PRICES_SCHEMA
    origin: str  # the URL or file
    raw_keys: tuple[str, ...] = ()
    downloaded: int = 0  # documents downloaded (0 when answered from raw/ or a file)
    splits: pl.DataFrame | None = None  # yahoo_chart.PROVIDER_SPLITS_SCHEMA, when reported
    note: str = ""


class PriceProvider(Protocol):
    """One source of daily prices (``name`` is what the ``source`` column says)."""

    name: str

    def load(self, symbol: PriceSymbol) -> ProviderAnswer:
        """Every stored day of ``symbol``, fetching what is new; raises on failure."""
        ...


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
            row["yahoo_symbol"].strip(),
        )
    return symbols


def default_symbol(ticker: str) -> PriceSymbol:
    """The providers' spelling of a US listing not in the seed file (``BRK.B``: Stooq
    ``brk-b.us``, Yahoo ``BRK-B``)."""
    ticker = ticker.upper()
    dashed = ticker.replace(".", "-")
    return PriceSymbol(ticker, dashed.lower() + ".us", (f"{ticker}.csv",), "company", "", dashed)


def price_universe(company_tickers: Iterable[str]) -> list[PriceSymbol]:
    """The price series to load: ``company_tickers`` in order, then the benchmarks."""
    seeds = seed_price_symbols()
    tickers = dict.fromkeys([t.upper() for t in company_tickers] + list(BENCHMARKS))
    return [seeds.get(t) or default_symbol(t) for t in tickers]
