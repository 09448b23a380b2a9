"""Settings read from the environment: the one place that knows every CAPEX_* variable.

Every other module takes a :class:`Settings` (or reads :func:`load_settings`) instead of
calling ``os.environ`` itself, so the README's table of variables can be checked against
this file alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

DEFAULT_SEC_DATA_URL = "https://data.sec.gov"
DEFAULT_SEC_WWW_URL = "https://www.sec.gov"
DEFAULT_PRICES_URL = "https://stooq.com"
DEFAULT_YAHOO_URL = "https://query1.finance.yahoo.com"
#: Online price providers, in the order they are tried (CAPEX_PRICES_DIR, when set, goes first).
PRICE_PROVIDERS = ("yahoo", "stooq")
DEFAULT_SINCE = "2019-01-01"
DEFAULT_NEWS_USER_AGENT = "capex-watch/0.1 (news claim checker; python-requests)"
DEFAULT_FX_URL = "https://www.ecb.europa.eu/stats/eurofxref"
# The largest response body any source may send (SEC's biggest filings are tens of MB).
DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
# Schedules, in CAPEX_SCHEDULE_TIMEZONE: prices after the US close on weekdays, filings once
# a day, news four times a day.
DEFAULT_PRICES_CRON = "30 17 * * 1-5"
DEFAULT_FILINGS_CRON = "0 6 * * *"
DEFAULT_NEWS_CRON = "0 7,12,17,22 * * *"
DEFAULT_SCHEDULE_TIMEZONE = "America/New_York"
# 'seed': the companies of pipelines/seeds/companies.csv (or CAPEX_TICKERS), one request each;
# 'all': every filer in SEC's nightly bulk archives.
UNIVERSES = ("seed", "all")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Resolved configuration for one process (see README, 'Environment variables')."""

    sec_data_url: str = DEFAULT_SEC_DATA_URL
    sec_www_url: str = DEFAULT_SEC_WWW_URL
    sec_user_agent: str | None = None
    prices_url: str = DEFAULT_PRICES_URL
    prices_dir: Path | None = None
    prices_requests_per_second: float = 1.0
    price_sources: tuple[str, ...] = PRICE_PROVIDERS
    yahoo_url: str = DEFAULT_YAHOO_URL
    stooq_apikey: str | None = field(default=None, repr=False)
    tickers: tuple[str, ...] = ()
    universe: str = "seed"
    since: date = date.fromisoformat(DEFAULT_SINCE)
    raw_dir: Path = Path("raw")
    warehouse: Path = Path("warehouse/capex.duckdb")
    offline: bool = False
    sec_requests_per_second: float = 8.0
    http_timeout: float = 30.0
    http_max_attempts: int = 6
    http_max_retry_seconds: float = 120.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    news_sources: tuple[str, ...] = ()
    news_config: Path | None = None
    news_user_agent: str = DEFAULT_NEWS_USER_AGENT
    news_requests_per_second: float = 0.5
    fx_url: str = DEFAULT_FX_URL
    prices_cron: str = DEFAULT_PRICES_CRON
    filings_cron: str = DEFAULT_FILINGS_CRON
    news_cron: str = DEFAULT_NEWS_CRON
    schedule_timezone: str = DEFAULT_SCHEDULE_TIMEZONE
    filing_sensor_seconds: int = 600
    autostart: bool = False
    catalog: str | None = None
    data_path: str | None = None
    threads: int | None = None  # DuckDB's threads per process (None: one per core)

    @property
    def build_warehouse(self) -> Path:
        """The private file that pipeline steps write; users read :attr:`warehouse`."""
        return self.warehouse.parent / ".build" / self.warehouse.name

    @property
    def reports_dir(self) -> Path:
        return self.warehouse.parent / "reports"


def _rate(env, name: str, default: str, maximum: float | None = None) -> float:
    """A requests-per-second setting: a positive number, at most ``maximum`` when given."""
    text = env.get(name, default)
    try:
        rate = float(text)
    except ValueError as exc:
        raise ConfigError(f"{name}={text!r} must be a number of requests per second") from exc
    if rate <= 0 or (maximum is not None and rate > maximum):
        limit = f"in (0, {maximum:g}]" if maximum is not None else "positive"
        reason = " (SEC's limit is 10 per second)" if name == "CAPEX_SEC_RATE" else ""
        raise ConfigError(
            f"{name}={rate:g} is out of range: use a value {limit}{reason}, e.g. {default}"
        )
    return rate


def _threads(env) -> int | None:
    """CAPEX_THREADS: DuckDB's threads in each process, a positive whole number, or unset."""
    text = (env.get("CAPEX_THREADS") or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(
            f"CAPEX_THREADS={text!r} must be a whole number of threads of at least 1 (unset: "
            "one per core); with several processes at once, use cores ÷ processes"
        )
    return int(text)


def _lakehouse(env) -> tuple[str | None, str | None]:
    """CAPEX_CATALOG and CAPEX_DATA_PATH: both set (the DuckLake backend) or neither."""
    catalog = (env.get("CAPEX_CATALOG") or "").strip() or None
    data_path = (env.get("CAPEX_DATA_PATH") or "").strip() or None
    if catalog and not data_path:
        raise ConfigError(
            f"CAPEX_CATALOG={catalog!r} needs CAPEX_DATA_PATH: the folder (or s3://bucket/prefix) "
            "where DuckLake writes the tables' Parquet files, e.g. CAPEX_DATA_PATH=lake/"
        )
    if data_path and not catalog:
        raise ConfigError(
            f"CAPEX_DATA_PATH={data_path!r} is only used with CAPEX_CATALOG, the DuckLake "
            "catalog (e.g. CAPEX_CATALOG='postgres:dbname=capex host=127.0.0.1'); set both, "
            "or neither for the embedded DuckDB file (CAPEX_WAREHOUSE)"
        )
    return catalog, data_path


def _price_sources(value: str | None) -> tuple[str, ...]:
    """CAPEX_PRICE_SOURCES: an ordered, comma-separated subset of :data:`PRICE_PROVIDERS`."""
    if value is None or not value.strip():
        return PRICE_PROVIDERS
    sources = tuple(dict.fromkeys(s.lower() for s in _split(value)))
    unknown = [s for s in sources if s not in PRICE_PROVIDERS]
    if unknown:
        raise ConfigError(
            f"CAPEX_PRICE_SOURCES={value!r} names unknown provider(s) {', '.join(unknown)}; "
            f"use an ordered list of {', '.join(PRICE_PROVIDERS)}, e.g. yahoo,stooq"
        )
    return sources


def _since(text: str, source: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(
            f"{source}={text!r} is not a date; use YYYY-MM-DD, e.g. 2019-01-01"
        ) from exc


def _universe(text: str, source: str) -> str:
    universe = text.strip().lower() or "seed"
    if universe not in UNIVERSES:
        raise ConfigError(
            f"{source}={text!r} is not one of {', '.join(UNIVERSES)}: 'seed' loads the "
            "companies of pipelines/seeds/companies.csv (or CAPEX_TICKERS), 'all' every SEC filer "
            "in SEC's bulk archives"
        )
    return universe


def with_overrides(
    settings: Settings,
    *,
    tickers: str | None = None,
    since: str | None = None,
    offline: bool | None = None,
    universe: str | None = None,
) -> Settings:
    """``settings`` with the command line's overrides (None keeps the setting)."""
    changes: dict = {}
    if universe:
        changes["universe"] = _universe(universe, "--universe")
    if tickers:
        changes["tickers"] = tuple(t.upper() for t in _split(tickers))
    if since:
        changes["since"] = _since(since, "--since")
    if offline is not None:
        changes["offline"] = offline
    return replace(settings, **changes)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read :class:`Settings` from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    since = _since(env.get("CAPEX_SINCE", DEFAULT_SINCE), "CAPEX_SINCE")
    rate = _rate(env, "CAPEX_SEC_RATE", "8", maximum=10.0)
    prices_rate = _rate(env, "CAPEX_PRICES_RATE", "1")
    news_rate = _rate(env, "CAPEX_NEWS_RATE", "0.5")
    prices_dir = env.get("CAPEX_PRICES_DIR")
    price_sources = _price_sources(env.get("CAPEX_PRICE_SOURCES"))
    news_config = env.get("CAPEX_NEWS_CONFIG")
    universe = _universe(env.get("CAPEX_UNIVERSE", "seed"), "CAPEX_UNIVERSE")
    max_body = env.get("CAPEX_MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES)).strip()
    if not max_body.isdigit() or int(max_body) < 1024:
        raise ConfigError(
            f"CAPEX_MAX_BODY_BYTES={max_body!r} must be a whole number of bytes of at least "
            f"1024, e.g. {DEFAULT_MAX_BODY_BYTES}"
        )
    sensor_seconds = env.get("CAPEX_FILING_SENSOR_SECONDS", "600")
    if not sensor_seconds.isdigit() or int(sensor_seconds) < 30:
        raise ConfigError(
            f"CAPEX_FILING_SENSOR_SECONDS={sensor_seconds!r} must be a whole number of seconds "
            "of at least 30, e.g. 600"
        )
    catalog, data_path = _lakehouse(env)
    return Settings(
        sec_data_url=env.get("CAPEX_SEC_DATA_URL", DEFAULT_SEC_DATA_URL).rstrip("/"),
        sec_www_url=env.get("CAPEX_SEC_WWW_URL", DEFAULT_SEC_WWW_URL).rstrip("/"),
        sec_user_agent=(env.get("SEC_USER_AGENT") or "").strip() or None,
        prices_url=env.get("CAPEX_PRICES_URL", DEFAULT_PRICES_URL).rstrip("/"),
        prices_dir=Path(prices_dir) if prices_dir else None,
        prices_requests_per_second=prices_rate,
        price_sources=price_sources,
        yahoo_url=env.get("CAPEX_YAHOO_URL", DEFAULT_YAHOO_URL).rstrip("/"),
        stooq_apikey=(env.get("CAPEX_STOOQ_APIKEY") or "").strip() or None,
        tickers=tuple(t.upper() for t in _split(env.get("CAPEX_TICKERS"))),
        universe=universe,
        since=since,
        raw_dir=Path(env.get("CAPEX_RAW_DIR", "raw")),
        warehouse=Path(env.get("CAPEX_WAREHOUSE", "warehouse/capex.duckdb")),
        offline=_flag(env.get("CAPEX_OFFLINE")),
        sec_requests_per_second=rate,
        http_timeout=float(env.get("CAPEX_HTTP_TIMEOUT", "30")),
        http_max_attempts=int(env.get("CAPEX_HTTP_MAX_ATTEMPTS", "6")),
        http_max_retry_seconds=float(env.get("CAPEX_HTTP_MAX_RETRY_SECONDS", "120")),
        max_body_bytes=int(max_body),
        news_sources=_split(env.get("CAPEX_NEWS_SOURCES")),
        news_config=Path(news_config) if news_config else None,
        news_user_agent=(env.get("CAPEX_NEWS_USER_AGENT") or "").strip() or DEFAULT_NEWS_USER_AGENT,
        news_requests_per_second=news_rate,
        fx_url=env.get("CAPEX_FX_URL", DEFAULT_FX_URL).rstrip("/"),
        prices_cron=env.get("CAPEX_PRICES_CRON", DEFAULT_PRICES_CRON).strip(),
        filings_cron=env.get("CAPEX_FILINGS_CRON", DEFAULT_FILINGS_CRON).strip(),
        news_cron=env.get("CAPEX_NEWS_CRON", DEFAULT_NEWS_CRON).strip(),
        schedule_timezone=env.get("CAPEX_SCHEDULE_TIMEZONE", DEFAULT_SCHEDULE_TIMEZONE).strip(),
        filing_sensor_seconds=int(sensor_seconds),
        autostart=_flag(env.get("CAPEX_AUTOSTART")),
        catalog=catalog,
        data_path=data_path,
        threads=_threads(env),
    )
