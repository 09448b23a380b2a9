"""Yahoo Finance's chart API: keyless daily bars with split and dividend events.

``{CAPEX_YAHOO_URL}/v8/finance/chart/{SYMBOL}?period1=…&period2=…&interval=1d&events=div,splits``
(default ``https://query1.finance.yahoo.com``), fetched through
:class:`pipelines.core.http.Fetcher` under the source name ``yahoo``: every answer is kept in
raw/ as received, requests are paced (CAPEX_PRICES_RATE) and 429/5xx answers back off.

Each run asks only for the days after the last stored day (``period1``) up to tomorrow
(``period2``, so a second run on the same day asks for nothing). The stored series is the
fold of every chart chunk in raw/ (:func:`pipelines.market.yahoo_chart.fold_chunks`), which
is also how ``CAPEX_OFFLINE=1`` rebuilds it, without a request. See README, 'Prices', for why
this calls the chart endpoint itself rather than through ``yfinance``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote, urlencode

from pipelines.core.config import Settings
from pipelines.core.http import Fetcher, FetchError
from pipelines.core.rawstore import RawDocument, RawStore, document_key
from pipelines.market.providers import PriceSourceError, PriceSymbol, ProviderAnswer
from pipelines.market.yahoo_chart import Chart, ChartError, fold_chunks, parse_chart

SOURCE = "yahoo"
# Yahoo's answer (HTTP 400, chart.error) for a range without a trading day.
NO_DAYS_IN_RANGE = "Data doesn't exist for startDate"
# Yahoo answers some non-browser User-Agents with 429; this one names us and looks like one.
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) capex-watch/0.1 (daily prices)"


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())


def chart_folder(symbol: str) -> str:
    """The path of ``symbol``'s chart endpoint (without a query)."""
    return f"v8/finance/chart/{quote(symbol, safe='')}"


def chart_path(symbol: str, first: date, end: date) -> str:
    """The chart request for the days ``first`` ≤ day < ``end``, with split and dividend
    events (the parameters yfinance sends for ``history()``)."""
    query = urlencode(
        {
            "period1": _epoch(first),
            "period2": _epoch(end),
            "interval": "1d",
            "events": "div,splits",
            "includePrePost": "false",
        }
    )
    return f"{chart_folder(symbol)}?{query}"


def first_day(settings: Settings) -> date:
    """The first day asked for: December before CAPEX_SINCE's year (returns need the close
    of the year before)."""
    return date(settings.since.year - 1, 12, 1)


def yahoo_fetcher(settings: Settings, store: RawStore, log: Callable[[str], None]) -> Fetcher:
    """The :class:`Fetcher` for Yahoo's chart API, from ``settings``."""
    return Fetcher.from_settings(
        settings,
        SOURCE,
        settings.yahoo_url,
        store,
        user_agent=USER_AGENT,
        requests_per_second=settings.prices_requests_per_second,
        log=log,
        status_hints={
            403: "Yahoo refuses the request (too many, or from this network); "
            "CAPEX_PRICE_SOURCES can put another provider first",
            404: "is the symbol right? see pipelines/seeds/price_symbols.csv and CAPEX_YAHOO_URL",
        },
    )


def _fetched_at(document: RawDocument) -> datetime:
    return datetime.strptime(document.fetched_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class YahooProvider:
    """Daily prices from Yahoo, refreshed incrementally and folded from raw/."""

    name = SOURCE

    def __init__(self, settings: Settings, store: RawStore, log: Callable[[str], None]):
        self.settings = settings
        self.store = store
        self.fetcher = yahoo_fetcher(settings, store, log)
        self.today = lambda: datetime.now(UTC).date()

    def stored_chunks(self, symbol: PriceSymbol) -> list[tuple[RawDocument, Chart]]:
        """Every chart chunk of ``symbol`` in raw/ (latest version of each), oldest first."""
        prefix = document_key(SOURCE, self.fetcher.url(chart_folder(symbol.yahoo_symbol)))
        documents = [self.store.latest(key) for key in self.store.keys_under(prefix)]
        chunks = []
        for document in sorted(filter(None, documents), key=lambda d: d.fetched_at):
            try:
                chart = parse_chart(
                    document.read(),
                    symbol.ticker,
                    origin=f"raw/{document.key}",
                    fetched_at=_fetched_at(document),
                )
            except ChartError as exc:
                raise PriceSourceError(f"{self._who(symbol)}: {exc}") from exc
            chunks.append((document, chart))
        return chunks

    def load(self, symbol: PriceSymbol) -> ProviderAnswer:
        chunks = self.stored_chunks(symbol)
        last = fold_chunks([chart for _, chart in chunks]).prices["date"].max()
        downloaded, note = 0, "offline: from raw/"
        if not self.settings.offline:
            downloaded, note = self._refresh(symbol, chunks, last)
        series = fold_chunks([chart for _, chart in chunks])
        if series.prices.height == 0:
            where = "in raw/ (run once without CAPEX_OFFLINE=1)" if self.settings.offline else ""
            raise PriceSourceError(
                f"{symbol.ticker}: Yahoo has no days for {symbol.yahoo_symbol!r} {where}".strip()
            )
        if series.days_without_close:
            note += f"; {series.days_without_close} day(s) without a close left out"
        return ProviderAnswer(
            series.prices,
            self.fetcher.url(chart_folder(symbol.yahoo_symbol)),
            tuple(dict.fromkeys(document.key for document, _ in chunks)),
            downloaded,
            series.splits,
            note,
        )

    def _refresh(
        self, symbol: PriceSymbol, chunks: list[tuple[RawDocument, Chart]], last: date | None
    ) -> tuple[int, str]:
        """Ask for the days after ``last`` (from CAPEX_SINCE's December before when nothing is
        stored), appending the answer to ``chunks``. Returns (documents downloaded, note)."""
        first = last + timedelta(days=1) if last else first_day(self.settings)
        end = self.today() + timedelta(days=1)
        if first >= end:
            return 0, f"up to date (last day {last}): nothing asked"
        try:
            fetched = self.fetcher.get(
                chart_path(symbol.yahoo_symbol, first, end), self._validator(symbol)
            )
        except FetchError as exc:
            if NO_DAYS_IN_RANGE not in str(exc) or last is None:
                raise PriceSourceError(f"{self._who(symbol)}: {exc}") from exc
            # A weekend or a holiday: no new day yet, the stored ones stand.
            return 0, f"no new day after {last} (Yahoo: {NO_DAYS_IN_RANGE} …)"
        chunks.append((fetched.document, fetched.parsed))
        new_days = fetched.parsed.prices.height
        asked = f"{first} .. {end - timedelta(days=1)}"
        return int(fetched.downloaded), f"asked for {asked}: {new_days} new days"

    @staticmethod
    def _who(symbol: PriceSymbol) -> str:
        return f"{symbol.ticker} from yahoo ({symbol.yahoo_symbol!r})"

    @staticmethod
    def _validator(symbol: PriceSymbol):
        def validate(body: bytes, _content_type: str | None) -> Chart:
            return parse_chart(body, symbol.ticker, fetched_at=datetime.now(UTC))

        return validate
