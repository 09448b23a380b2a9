"""Yahoo Finance chart JSON → rows of ``staging.prices`` and the provider's splits: pure, no I/O.

The body is what ``{CAPEX_YAHOO_URL}/v8/finance/chart/{SYMBOL}?period1=…&period2=…&
interval=1d&events=div,splits`` answers: ``chart.result[0]`` holds ``timestamp`` (one per
day, the session's open in epoch seconds), ``indicators.quote[0]`` (open, high, low, close,
volume), ``indicators.adjclose[0].adjclose`` and ``events.splits`` (``numerator`` new shares
per ``denominator`` old, dated by the first split-adjusted session). An unknown symbol is
``{"chart": {"result": null, "error": {"code": "Not Found", ...}}}``.

What the columns mean: ``close`` is Yahoo's close, **adjusted for splits only** (as of the
day the chunk was fetched), ``adj_close`` is adjusted for splits and dividends; so
``close_adjustment`` is ``'split'``.

A refresh asks only for days after the last stored one, so the series is a fold of chunks
(:func:`fold_chunks`): a split reported in a later chunk divides the earlier chunks' prices
by its ratio, which makes the whole series split-adjusted as of the latest fetch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from pipelines.market.price_csv import PRICES_SCHEMA, SPLIT_ADJUSTED

SOURCE = "yahoo"
QUOTE_FIELDS = ("open", "high", "low", "close", "volume")
#: A daily bar is final once the regular session (6.5 hours from the stamped open) is over.
SESSION_LENGTH = timedelta(hours=7)

#: Splits reported by a price provider (rows of ``staging.stock_splits`` with ``source``).
PROVIDER_SPLITS_SCHEMA = {
    "ticker": pl.String(),
    "split_date": pl.Date(),
    "ratio": pl.Float64(),
    "source": pl.String(),
}


class ChartError(ValueError):
    """A chart body that is not usable; the message names the symbol and what is wrong."""


@dataclass(frozen=True)
class Chart:
    """One parsed chart body (or a fold of several): daily rows and the splits reported."""

    prices: pl.DataFrame  # PRICES_SCHEMA
    splits: pl.DataFrame  # PROVIDER_SPLITS_SCHEMA
    days_without_close: int = 0


def _result(document: Any, where: str) -> dict:
    chart = document.get("chart") if isinstance(document, dict) else None
    if not isinstance(chart, dict):
        raise ChartError(f"{where}: not a Yahoo chart answer (no 'chart' object)")
    error = chart.get("error")
    results = chart.get("result")
    if error or not results:
        detail = error if isinstance(error, dict) else {}
        code = detail.get("code", "no result")
        description = detail.get("description", "")
        raise ChartError(
            f"{where}: Yahoo has no data ({code}: {description}); check the symbol in "
            "pipelines/seeds/price_symbols.csv (column yahoo_symbol)"
        )
    return results[0]


def decode_chart(body: bytes, where: str) -> dict:
    """The ``chart.result[0]`` object of a chart body, or :class:`ChartError` saying why not."""
    text = body.decode("utf-8", errors="replace")
    if "Will be right back" in text:
        raise ChartError(f"{where}: Yahoo answered with its outage page ('Will be right back')")
    if text.lstrip()[:200].lower().startswith(("<!doctype", "<html")):
        raise ChartError(f"{where}: Yahoo answered with an HTML page, not chart JSON")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChartError(f"{where}: malformed JSON ({exc}; {len(body)} bytes)") from exc
    return _result(document, where)


def _column(values: Any, name: str, count: int, where: str) -> list:
    if values is None:
        return [None] * count
    if not isinstance(values, list) or len(values) != count:
        raise ChartError(f"{where}: {name} has {len(values or [])} values for {count} days")
    numeric = (int, float)
    for index, value in enumerate(values):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numeric)):
            raise ChartError(f"{where}: {name} of day {index + 1} is {value!r}, not a number")
    return values


def _days(result: dict, where: str) -> pl.DataFrame:
    stamps = result.get("timestamp") or []
    count = len(stamps)
    quote = ((result.get("indicators") or {}).get("quote") or [{}])[0] or {}
    adjclose = ((result.get("indicators") or {}).get("adjclose") or [{}])[0] or {}
    columns = {"stamp": _column(stamps, "timestamp", count, where)}
    for name in QUOTE_FIELDS:
        columns[name] = _column(quote.get(name), name, count, where)
    columns["adj_close"] = _column(adjclose.get("adjclose"), "adjclose", count, where)
    if any(value is None for value in stamps):
        raise ChartError(f"{where}: a timestamp is missing")
    schema = {"stamp": pl.Int64, **dict.fromkeys(QUOTE_FIELDS, pl.Float64), "adj_close": pl.Float64}
    return pl.DataFrame(columns, schema=schema, strict=False)


def _trading_day(result: dict) -> pl.Expr:
    """The exchange's local date of each stamp (a bar is stamped with its session's open)."""
    meta = result.get("meta") or {}
    stamp = pl.from_epoch("stamp", time_unit="s")
    zone = meta.get("exchangeTimezoneName")
    if zone:
        return stamp.dt.replace_time_zone("UTC").dt.convert_time_zone(zone).dt.date()
    return (stamp + pl.duration(seconds=int(meta.get("gmtoffset") or 0))).dt.date()


def _live(result: dict, fetched_at: datetime | None) -> pl.Expr:
    """The bar of a session still open: Yahoo stamps today's bar with the last trade's time
    (a closed session's bar with its close, at or after ``currentTradingPeriod.regular.end``).
    Without that period, a bar fetched less than :data:`SESSION_LENGTH` after its stamp."""
    regular = ((result.get("meta") or {}).get("currentTradingPeriod") or {}).get("regular") or {}
    if regular.get("start") is not None and regular.get("end") is not None:
        return pl.col("stamp").is_between(regular["start"], regular["end"], closed="left")
    if fetched_at is None:
        return pl.lit(False)
    cutoff = int((fetched_at.astimezone(UTC) - SESSION_LENGTH).timestamp())
    return pl.col("stamp") > cutoff


def _check_order(days: pl.DataFrame, where: str) -> None:
    """Days strictly in order: a chart that repeats or reorders days is not trusted."""
    dates = days["date"].to_list()
    for before, after in zip(dates, dates[1:], strict=False):
        if after == before:
            raise ChartError(f"{where}: day {after} appears more than once")
        if after < before:
            raise ChartError(f"{where}: days out of order ({before} before {after})")


def parse_chart(
    body: bytes, ticker: str, *, origin: str = "", fetched_at: datetime | None = None
) -> Chart:
    """Parse one chart body into ``staging.prices`` rows for ``ticker`` and its splits.

    Days without a close (a halted or not yet traded day: Yahoo sends nulls) are dropped and
    counted. A bar whose session had not ended when it was fetched (a live bar) is
    dropped too; the next refresh asks for that day again. Raises :class:`ChartError` on an
    error answer, days out of order or repeated, a price that is not a positive number, or a
    volume that is not a number.
    """
    where = origin or f"Yahoo's chart for {ticker}"
    result = decode_chart(body, where)
    days = _days(result, where).with_columns(_trading_day(result).alias("date"))
    _check_order(days, where)
    days = days.filter(~_live(result, fetched_at))
    without_close = days.filter(pl.col("close").is_null()).height
    days = days.filter(pl.col("close").is_not_null())
    prices = ("open", "high", "low", "close", "adj_close")
    bad = days.filter(pl.any_horizontal(pl.col(c) <= 0 for c in prices))
    if bad.height:
        row = bad.row(0, named=True)
        values = ", ".join(f"{c} {row[c]}" for c in prices if row[c] is not None)
        raise ChartError(f"{where}: {row['date']}: a price is not positive ({values})")
    frame = days.select(
        pl.lit(ticker, pl.String).alias("ticker"),
        "date",
        "open",
        "high",
        "low",
        "close",
        pl.col("volume").round(0).cast(pl.Int64),
        pl.lit(SOURCE).alias("source"),
        "adj_close",
        pl.lit(SPLIT_ADJUSTED).alias("close_adjustment"),
    ).cast(PRICES_SCHEMA)
    return Chart(frame, parse_splits(result, ticker, where), without_close)


def parse_splits(result: dict, ticker: str, where: str = "") -> pl.DataFrame:
    """``events.splits`` as rows of :data:`PROVIDER_SPLITS_SCHEMA` (ratio = new per old)."""
    meta = result.get("meta") or {}
    rows = []
    for event in ((result.get("events") or {}).get("splits") or {}).values():
        numerator, denominator = event.get("numerator"), event.get("denominator")
        if not numerator or not denominator or numerator <= 0 or denominator <= 0:
            raise ChartError(f"{where}: split event without a usable ratio: {event!r}")
        rows.append({"stamp": int(event["date"]), "ratio": numerator / denominator})
    frame = pl.DataFrame(rows, schema={"stamp": pl.Int64, "ratio": pl.Float64})
    return (
        frame.select(
            pl.lit(ticker, pl.String).alias("ticker"),
            _trading_day({"meta": meta}).alias("split_date"),
            "ratio",
            pl.lit(SOURCE).alias("source"),
        )
        .cast(PROVIDER_SPLITS_SCHEMA)
        .sort("split_date")
    )


def fold_chunks(chunks: list[Chart]) -> Chart:
    """One series from chunks in the order they were fetched; later days win.

    A split in a later chunk dated after the series so far divides that series' prices by
    its ratio (and multiplies its volumes), since those were fetched before the split.
    """
    prices = pl.DataFrame(schema=PRICES_SCHEMA)
    splits = pl.DataFrame(schema=PROVIDER_SPLITS_SCHEMA)
    without_close = 0
    for chunk in chunks:
        last = prices["date"].max()
        for split in chunk.splits.iter_rows(named=True):
            if last is not None and split["split_date"] > last:
                prices = _divide(prices, split["ratio"])
        if chunk.prices.height:
            prices = pl.concat(
                [prices.join(chunk.prices.select("date"), on="date", how="anti"), chunk.prices]
            )
        splits = pl.concat([splits, chunk.splits]).unique(["split_date"], keep="last")
        without_close += chunk.days_without_close
    return Chart(prices.sort("date"), splits.sort("split_date"), without_close)


def _divide(prices: pl.DataFrame, ratio: float) -> pl.DataFrame:
    return prices.with_columns(
        *(pl.col(c) / ratio for c in ("open", "high", "low", "close", "adj_close")),
        (pl.col("volume") * ratio).round(0).cast(pl.Int64),
    )
