"""ECB euro foreign exchange reference rates: the dated FX table news claims convert with.

The ECB publishes its whole history as ``eurofxref-hist.zip`` (one CSV inside) under
``CAPEX_FX_URL`` (default https://www.ecb.europa.eu/stats/eurofxref): one row per TARGET
business day, one column per currency, each rate in units of that currency per euro, "N/A"
where a currency was not quoted, and a trailing comma on every line.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import polars as pl

from pipelines.core.config import DEFAULT_FX_URL, Settings
from pipelines.core.http import Fetched, Fetcher
from pipelines.core.rawstore import RawStore
from pipelines.core.tables import FX_RATES

FX_FILE = "eurofxref-hist.zip"
# The real eurofxref-hist.csv is ~1.5 MB; anything 30 times that is not it.
MAX_CSV_BYTES = 50 * 1024 * 1024
FX_SCHEMA = FX_RATES.columns


def _unzip_csv(body: bytes) -> bytes:
    """The CSV inside the ECB zip, read no further than :data:`MAX_CSV_BYTES` (zip bombs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
            if not names:
                raise ValueError("the ECB zip holds no CSV file")
            with archive.open(names[0]) as member:
                csv = member.read(MAX_CSV_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise ValueError(f"the ECB zip is damaged ({exc})") from exc
    if len(csv) > MAX_CSV_BYTES:
        raise ValueError(
            f"the CSV in the ECB zip unpacks to more than {MAX_CSV_BYTES:,} bytes (the real "
            "one is a few MB): refused as a zip bomb"
        )
    return csv


def parse_ecb_rates(body: bytes, content_type: str | None = None) -> pl.DataFrame:
    """(rate_date, currency, per_eur) rows of the ECB history file (zip or plain CSV).

    Raises ValueError naming what is wrong when the body is not that file.
    """
    if body[:4] == b"PK\x03\x04":
        body = _unzip_csv(body)
    text = body.decode("utf-8-sig", errors="replace")
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        raise ValueError("expected the ECB rates CSV but got an HTML page")
    try:
        wide = pl.read_csv(
            io.StringIO(text),
            infer_schema=False,
            null_values=["N/A", ""],
            truncate_ragged_lines=True,
        )
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"malformed ECB rates CSV ({exc})") from exc
    wide = wide.select([c for c in wide.columns if c.strip() and not c.startswith("_duplicated")])
    if "Date" not in wide.columns or "USD" not in wide.columns:
        raise ValueError(
            f"not the ECB eurofxref-hist CSV: no Date/USD column (columns {wide.columns[:5]}...)"
        )
    try:
        rates = (
            wide.unpivot(index="Date", variable_name="currency", value_name="per_eur")
            .drop_nulls("per_eur")
            .select(
                rate_date=pl.col("Date").str.strip_chars().str.to_date("%Y-%m-%d"),
                currency=pl.col("currency").str.strip_chars(),
                per_eur=pl.col("per_eur").str.strip_chars().cast(pl.Float64),
            )
        )
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"malformed ECB rates CSV: {exc}") from exc
    if rates.height == 0:
        raise ValueError("the ECB rates CSV has no rates")
    return rates.sort("rate_date", "currency")


def fetch_ecb_rates(
    settings: Settings, store: RawStore, log: Callable[[str], None] | None = None
) -> tuple[Fetched, Fetcher]:
    """Fetch (or, offline, read from raw/) the ECB history file; parsed is the rates frame."""
    fetcher = Fetcher.from_settings(
        settings,
        "ecb",
        settings.fx_url,
        store,
        user_agent=settings.news_user_agent,
        requests_per_second=1.0,
        user_agent_help="set CAPEX_NEWS_USER_AGENT",
        log=log,
        status_hints={
            404: f"no {FX_FILE} there: CAPEX_FX_URL must name the ECB folder holding it "
            f"(default {DEFAULT_FX_URL})"
        },
    )
    return fetcher.get(FX_FILE, parse_ecb_rates), fetcher
