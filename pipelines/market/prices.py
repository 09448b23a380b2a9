"""Daily prices through a chain of providers: per ticker, the first that answers with valid data.

The chain is ``CAPEX_PRICE_SOURCES`` (default ``yahoo,stooq``), preceded by the local folder
``CAPEX_PRICES_DIR`` when it is set:

* **Local folder** (``CAPEX_PRICES_DIR``): one ``TICKER.csv`` per ticker, in the Stooq layout or
  a Yahoo-style export (:mod:`pipelines.market.price_csv`); ``source`` is ``file:<layout>``.
* **Yahoo** (:mod:`pipelines.market.yahoo`): the keyless chart API, refreshed incrementally.
* **Stooq** (:mod:`pipelines.market.stooq`): the CSV download, with ``CAPEX_STOOQ_APIKEY``.

Each :class:`PriceLoad` says which provider won (the ``source`` column of its rows) and why each
earlier one was passed over; a ticker that no provider could answer carries every reason and
lands nothing (its previous rows stay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from pipelines.core.config import Settings
from pipelines.core.http import FetchError
from pipelines.core.rawstore import RawStore
from pipelines.market.price_checks import compare_answers
from pipelines.market.price_csv import PriceFormatError, detect_layout_of, parse_price_csv
from pipelines.market.providers import (
    PriceProvider,
    PriceSourceError,
    PriceSymbol,
    ProviderAnswer,
    ProviderSkipped,
    price_universe,
    seed_price_symbols,
)
from pipelines.market.stooq import StooqProvider
from pipelines.market.yahoo import YahooProvider

__all__ = [
    "FolderProvider",
    "PriceLoad",
    "ProviderCheck",
    "check_providers",
    "load_prices",
    "offline_chain",
    "other_answers",
    "price_universe",
    "provider_chain",
    "read_local_prices",
    "seed_price_symbols",
]


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
            "files or unset it to use the online providers (CAPEX_PRICE_SOURCES)"
        )
    path = find_local_file(folder, symbol)
    body = path.read_bytes()
    try:
        frame = parse_price_csv(body, symbol.ticker, "file", origin=str(path))
    except PriceFormatError as exc:
        raise PriceSourceError(str(exc)) from exc
    # The header is known good now; record which layout the file had.
    return frame.with_columns(source=pl.lit(f"file:{detect_layout_of(body)}")), path


class FolderProvider:
    """``TICKER.csv`` files in ``CAPEX_PRICES_DIR``."""

    name = "file"

    def __init__(self, folder: Path):
        self.folder = folder

    def load(self, symbol: PriceSymbol) -> ProviderAnswer:
        frame, path = read_local_prices(self.folder, symbol)
        return ProviderAnswer(frame, str(path))


PROVIDERS: dict[str, type] = {"yahoo": YahooProvider, "stooq": StooqProvider}


def provider_chain(
    settings: Settings, store: RawStore, log: Callable[[str], None] | None = None
) -> list[PriceProvider]:
    """The providers in the order they are tried: the local folder (when set), then
    ``CAPEX_PRICE_SOURCES``."""
    log = log or (lambda _message: None)
    chain: list[PriceProvider] = []
    if settings.prices_dir is not None:
        chain.append(FolderProvider(settings.prices_dir))
    chain.extend(PROVIDERS[name](settings, store, log) for name in settings.price_sources)
    return chain


@dataclass(frozen=True)
class PriceLoad:
    """The outcome for one ticker: the winning provider's answer, or why there is none."""

    symbol: PriceSymbol
    answer: ProviderAnswer | None
    provider: str | None = None
    passed_over: tuple[tuple[str, str], ...] = field(default=())  # (provider, why)

    @property
    def frame(self) -> pl.DataFrame | None:
        return self.answer.frame if self.answer else None

    @property
    def error(self) -> str | None:
        """Every provider's reason, when none answered; None when one did."""
        if self.answer is not None:
            return None
        reasons = "; ".join(f"{name}: {why}" for name, why in self.passed_over)
        return f"{self.symbol.ticker}: no provider answered ({reasons or 'no provider set'})"


def answer_from(provider: PriceProvider, symbol: PriceSymbol) -> tuple[ProviderAnswer | None, str]:
    """``provider``'s answer for ``symbol``, or None and why not (one line)."""
    try:
        return provider.load(symbol), ""
    except (ProviderSkipped, PriceSourceError, FetchError) as exc:
        return None, str(exc)


def load_prices(
    settings: Settings,
    store: RawStore,
    symbols: Iterable[PriceSymbol],
    *,
    log: Callable[[str], None] | None = None,
    chain: list[PriceProvider] | None = None,
) -> list[PriceLoad]:
    """Daily prices for every symbol from the first provider of the chain that answers.

    A symbol that every provider fails does not stop the others; its :class:`PriceLoad`
    carries each provider's reason.
    """
    log = log or (lambda _message: None)
    chain = chain if chain is not None else provider_chain(settings, store, log)
    loads = []
    for symbol in symbols:
        passed_over: list[tuple[str, str]] = []
        for provider in chain:
            answer, why = answer_from(provider, symbol)
            if answer is None:
                passed_over.append((provider.name, why))
                continue
            days = answer.frame.height
            log(f"{symbol.ticker}: {days} days from {provider.name} ({answer.origin})")
            loads.append(PriceLoad(symbol, answer, provider.name, tuple(passed_over)))
            break
        else:
            loads.append(PriceLoad(symbol, None, None, tuple(passed_over)))
    return loads


def offline_chain(settings: Settings, store: RawStore) -> list[PriceProvider]:
    """The chain reading raw/ only (and the local folder): for cross-checks without requests."""
    return provider_chain(replace(settings, offline=True), store)


def other_answers(chain: list[PriceProvider], load: PriceLoad) -> dict[str, ProviderAnswer | None]:
    """The winner's answer for ``load``'s ticker beside every other provider's in ``chain``
    (the cross-check's input; use :func:`offline_chain` to send no request)."""
    answers: dict[str, ProviderAnswer | None] = {load.provider: load.answer}
    for provider in chain:
        if provider.name not in answers:
            answers[provider.name] = answer_from(provider, load.symbol)[0]
    return answers


@dataclass(frozen=True)
class ProviderCheck:
    """Every provider's answer for one ticker, and how the first one's closes compare."""

    symbol: PriceSymbol
    answers: dict[str, ProviderAnswer | None]
    reasons: dict[str, str]  # why a provider gave no answer
    comparisons: list[tuple[str, int, pl.DataFrame]]  # (other, common days, differing days)


def check_providers(
    settings: Settings,
    store: RawStore,
    symbols: Iterable[PriceSymbol],
    *,
    log: Callable[[str], None] | None = None,
) -> list[ProviderCheck]:
    """Ask every provider of the chain for each symbol (not only until one answers) and
    compare the first answer's closes with each other one (``capex prices check``)."""
    chain = provider_chain(settings, store, log)
    checks = []
    for symbol in symbols:
        answers, reasons = {}, {}
        for provider in chain:
            answers[provider.name], why = answer_from(provider, symbol)
            if why:
                reasons[provider.name] = why
        first = next((name for name, answer in answers.items() if answer is not None), None)
        comparisons = compare_answers(answers, first) if first else []
        checks.append(ProviderCheck(symbol, answers, reasons, comparisons))
    return checks
