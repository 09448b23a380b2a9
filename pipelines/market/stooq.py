"""Stooq's daily CSV download, with the API key it has demanded since early 2026.

``{CAPEX_PRICES_URL}/q/d/l/?s={symbol}&i=d&apikey={CAPEX_STOOQ_APIKEY}`` (default
``https://stooq.com``), fetched through :class:`pipelines.core.http.Fetcher` under the source
name ``prices``: raw/, retries, timeouts, conditional GET and offline rebuild
(``CAPEX_OFFLINE=1``) come from there. The key is sent on the wire only: it is not part of
the document's URL in raw/ (file names or sidecars), logs or error messages.

Stooq answers most refusals with **HTTP 200** and a body that is not a CSV; each is an error
naming its cause, and nothing is stored: ``No data`` (unknown symbol), a message about the key
(missing or wrong), ``Exceeded the daily hits limit`` (the key's daily quota) and an HTML page
(its browser check, a proof-of-work page for non-browser clients).

Stooq's ``Close`` is adjusted for splits and dividends (``close_adjustment`` =
``'split+dividend'``).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import polars as pl

from pipelines.core.config import Settings
from pipelines.core.http import Fetcher
from pipelines.core.rawstore import RawStore
from pipelines.market.price_csv import PriceFormatError, parse_price_csv
from pipelines.market.providers import (
    PriceSourceError,
    PriceSymbol,
    ProviderAnswer,
    ProviderSkipped,
)

SOURCE = "prices"  # the raw/ folder (kept from before there were several providers)
NAME = "stooq"
USER_AGENT = "capex-watch/0.1 (daily price download)"
KEY_HINT = (
    "Stooq skipped: set CAPEX_STOOQ_APIKEY to a Stooq API key (Stooq issues free keys through "
    "a CAPTCHA form on its site; see README, 'Prices')"
)


def stooq_path(symbol: str) -> str:
    """The path and query of Stooq's daily CSV download for ``symbol`` (without the key)."""
    return "q/d/l/?" + urlencode({"s": symbol, "i": "d"}, safe="^")


def refusal(text: str, content_type: str | None) -> str | None:
    """Why a 200 answer that is not a CSV was given, or None when it may be a CSV."""
    head = text[:2000].lower()
    if "exceeded the daily hits limit" in head:
        return (
            "Stooq says 'Exceeded the daily hits limit': the API key's daily quota is used up; "
            "try again tomorrow (the chain moves on to the next provider)"
        )
    if head.lstrip().startswith(("<!doctype", "<html")) or "<html" in head:
        return (
            f"Stooq answered with an HTML page, not a CSV (Content-Type {content_type}): its "
            "browser check, which refuses non-browser clients; try again later or use Yahoo"
        )
    if "apikey" in head or "api key" in head:
        return (
            f"Stooq refused the API key (answer {text.strip()[:80]!r}): CAPEX_STOOQ_APIKEY is "
            "missing or wrong; get a key from Stooq (README, 'Prices')"
        )
    if head.startswith("no data") or not head.strip():
        return "Stooq has no data"
    return None


def stooq_validator(symbol: PriceSymbol) -> Callable[[bytes, str | None], pl.DataFrame]:
    """A :class:`Fetcher` validator that parses Stooq's answer for ``symbol`` into rows."""

    def validate(body: bytes, content_type: str | None) -> pl.DataFrame:
        text = body.decode("utf-8-sig", errors="replace").strip()
        cause = refusal(text, content_type)
        if cause == "Stooq has no data":
            raise PriceSourceError(
                f"Stooq has no data for symbol {symbol.stooq_symbol!r} (ticker "
                f"{symbol.ticker}; answer {text[:40]!r}); check the symbol in "
                "pipelines/seeds/price_symbols.csv"
            )
        if cause:
            raise PriceSourceError(f"{symbol.ticker}: {cause}")
        try:
            return parse_price_csv(
                body, symbol.ticker, NAME, origin=f"Stooq's CSV for {symbol.stooq_symbol!r}"
            )
        except PriceFormatError as exc:
            raise PriceSourceError(f"{symbol.ticker} from {NAME}: {exc}") from exc

    return validate


def prices_fetcher(
    settings: Settings,
    store: RawStore,
    *,
    log: Callable[[str], None] | None = None,
) -> Fetcher:
    """The :class:`Fetcher` for Stooq, configured from ``settings`` (CAPEX_PRICES_RATE: Stooq
    publishes no limit; the default of one request a second is polite)."""
    return Fetcher.from_settings(
        settings,
        SOURCE,
        settings.prices_url,
        store,
        user_agent=USER_AGENT,
        requests_per_second=settings.prices_requests_per_second,
        log=log,
        secret_params={"apikey": settings.stooq_apikey} if settings.stooq_apikey else None,
        status_hints={
            401: "Stooq wants an API key: check CAPEX_STOOQ_APIKEY",
            403: "Stooq refuses the download (a wrong CAPEX_STOOQ_APIKEY, or too many "
            "requests); CAPEX_PRICES_DIR reads CSV files instead",
            404: "is the symbol right? see pipelines/seeds/price_symbols.csv and CAPEX_PRICES_URL",
        },
    )


class StooqProvider:
    """Daily prices from Stooq; skipped (with a hint) without ``CAPEX_STOOQ_APIKEY`` unless
    offline, where what raw/ holds is used."""

    name = NAME

    def __init__(self, settings: Settings, store: RawStore, log: Callable[[str], None]):
        self.settings = settings
        self.fetcher = prices_fetcher(settings, store, log=log)

    def load(self, symbol: PriceSymbol) -> ProviderAnswer:
        if not self.settings.stooq_apikey and not self.settings.offline:
            raise ProviderSkipped(KEY_HINT)
        path = stooq_path(symbol.stooq_symbol)
        fetched = self.fetcher.get(path, stooq_validator(symbol))
        return ProviderAnswer(
            fetched.parsed,
            self.fetcher.url(path),
            (fetched.document.key,),
            int(fetched.downloaded),
        )
