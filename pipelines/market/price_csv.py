"""Daily price CSVs → rows of ``staging.prices``: pure parsing with polars, no I/O.

Two layouts are accepted:

* **Stooq** (``/q/d/l/?s=…&i=d``): header exactly ``Date,Open,High,Low,Close,Volume``
  (some indices come without ``Volume``);
* **Yahoo-style** exports (Yahoo's download button, ``yfinance``'s ``to_csv``): the columns
  ``Date, Open, High, Low, Close, Volume`` in any order, optionally ``Adj Close``.

``close`` is the file's ``Close``, split-adjusted in both layouts, which is what market value
(close × split-adjusted shares) needs. Whether it is dividend-adjusted too depends on the file,
and ``close_adjustment`` says which: a Yahoo-style export with an ``Adj Close`` column has a
close adjusted for splits only (``'split'``) and ``adj_close`` from that column; Stooq's CSV and
a yfinance export without ``Adj Close`` (``auto_adjust``) adjust ``Close`` for dividends as well
(``'split+dividend'``; ``adj_close`` = ``close``).

Anything else, an empty file, a header without rows, a value that is not a number or a date, a
duplicated date, dates out of order (neither ascending nor descending) or a non-positive close
raises :class:`PriceFormatError` naming the document,
the line and the value, so nothing half-parsed lands.
"""

from __future__ import annotations

import io

import polars as pl

from pipelines.core.tables import PRICES

STOOQ_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Volume")
YAHOO_REQUIRED = frozenset(STOOQ_COLUMNS)
YAHOO_OPTIONAL = frozenset({"Adj Close"})
PRICE_COLUMNS = ("open", "high", "low", "close")
#: ``close_adjustment`` values: what a provider's close is adjusted for (never raw prices).
SPLIT_ADJUSTED = "split"
SPLIT_DIVIDEND_ADJUSTED = "split+dividend"

#: Columns of ``staging.prices`` (its contract in pipelines/core/tables.py).
PRICES_SCHEMA: dict[str, pl.DataType] = PRICES.columns

# Cells that mean "no value" in the exports we accept (Yahoo writes "null" on some days).
_MISSING = ("", "null", "NaN", "nan")


class PriceFormatError(ValueError):
    """A price CSV could not be read; the message names the document and what is wrong."""


def detect_layout(header: list[str]) -> str:
    """Return ``'stooq'`` or ``'yahoo'`` for a CSV header, or raise :class:`PriceFormatError`."""
    columns = [column.strip() for column in header]
    if tuple(columns) in (STOOQ_COLUMNS, STOOQ_COLUMNS[:-1]):
        return "stooq"
    names = set(columns)
    if len(names) == len(columns) and YAHOO_REQUIRED <= names <= YAHOO_REQUIRED | YAHOO_OPTIONAL:
        return "yahoo"
    raise PriceFormatError(
        f"unrecognised price CSV header {','.join(columns)!r}; expected the Stooq layout "
        f"{','.join(STOOQ_COLUMNS)!r} or a Yahoo-style export with the columns "
        f"{', '.join(STOOQ_COLUMNS)} in any order (optionally 'Adj Close')"
    )


def parse_price_csv(
    body: bytes | str, ticker: str, source: str, *, origin: str = ""
) -> pl.DataFrame:
    """Parse one daily price CSV into ``staging.prices`` rows for ``ticker``, sorted by date.

    ``source`` is written to the ``source`` column (e.g. ``'stooq'``); ``origin`` (a URL or a
    file path) is only used in error messages. Returns a frame with :data:`PRICES_SCHEMA`.
    """
    where = origin or f"the {ticker} price CSV"
    raw = _read_csv(body, where)
    parsed = _typed_rows(_without_empty_rows(raw, where))
    _raise_on_bad_cells(parsed, where)
    _raise_on_bad_days(parsed, where)
    adjustment = SPLIT_ADJUSTED if "Adj Close" in raw.columns else SPLIT_DIVIDEND_ADJUSTED
    return (
        parsed.select(
            pl.lit(ticker, pl.String).alias("ticker"),
            "date",
            *PRICE_COLUMNS,
            pl.col("volume").round(0).cast(pl.Int64).alias("volume"),
            pl.lit(source, pl.String).alias("source"),
            "adj_close",
            pl.lit(adjustment).alias("close_adjustment"),
        )
        .sort("date")
        .cast(PRICES_SCHEMA)
    )


def _read_csv(body: bytes | str, where: str) -> pl.DataFrame:
    """The CSV's cells as text, with stripped header names and a ``line`` column."""
    text = body.decode("utf-8-sig", errors="replace") if isinstance(body, bytes) else body
    if not text.strip():
        raise PriceFormatError(f"{where} is empty (0 rows); expected a daily price CSV")
    first_line = text.lstrip().splitlines()[0]
    if "," not in first_line:
        raise PriceFormatError(
            f"{where} is not a CSV (first line {first_line[:80]!r}); expected a header such as "
            f"{','.join(STOOQ_COLUMNS)!r}"
        )
    try:
        raw = pl.read_csv(
            io.StringIO(text),
            infer_schema=False,
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PriceFormatError(
            f"{where} is not a well-formed CSV ({reason}); every row needs one value per "
            "header column"
        ) from exc
    raw = raw.rename({column: column.strip() for column in raw.columns})
    try:
        detect_layout(raw.columns)
    except PriceFormatError as exc:
        raise PriceFormatError(f"{where}: {exc}") from exc
    if raw.height == 0:
        raise PriceFormatError(f"{where} has a header but no rows")
    # Line numbers as a text editor shows them (header = line 1), for error messages.
    return raw.with_row_index("line", offset=2)


def _without_empty_rows(raw: pl.DataFrame, where: str) -> pl.DataFrame:
    """Cells stripped, missing markers as null, and rows without any price dropped."""
    cleaned = raw.with_columns(
        pl.when(pl.col(c).str.strip_chars().is_in(_MISSING))
        .then(None)
        .otherwise(pl.col(c).str.strip_chars())
        .alias(c)
        for c in raw.columns
        if c != "line"
    )
    # Yahoo writes a row of "null" for days without a quote: not a trading day, drop it.
    price_cells = [c for c in ("Open", "High", "Low", "Close") if c in cleaned.columns]
    cleaned = cleaned.filter(~pl.all_horizontal(pl.col(c).is_null() for c in price_cells))
    if cleaned.height == 0:
        raise PriceFormatError(f"{where} has no row with a price")
    return cleaned


def _typed_rows(cleaned: pl.DataFrame) -> pl.DataFrame:
    """Dates and numbers parsed (null where a cell does not parse), beside their text."""
    has_volume = "Volume" in cleaned.columns
    adj_close = pl.col("Adj Close") if "Adj Close" in cleaned.columns else pl.col("Close")
    return cleaned.select(
        "line",
        # yfinance writes tz-aware timestamps ("2024-06-10 00:00:00-04:00"): the trading day
        # is the local date, i.e. the first ten characters.
        pl.col("Date").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).alias("date"),
        *(_number(pl.col(c.title())).alias(c) for c in PRICE_COLUMNS),
        _number(adj_close).alias("adj_close"),
        (
            _number(pl.col("Volume"), below=2.0**63) if has_volume else pl.lit(None, pl.Float64)
        ).alias("volume"),
        pl.col("Date").alias("_date_text"),
        *(pl.col(c.title()).alias(f"_{c}_text") for c in PRICE_COLUMNS),
        (pl.col("Volume") if has_volume else pl.lit(None, pl.String)).alias("_volume_text"),
    )


def _raise_on_bad_days(parsed: pl.DataFrame, where: str) -> None:
    """Raise on a date that appears twice, dates out of order or a close that is not
    positive."""
    duplicated = parsed.filter(pl.col("date").is_duplicated()).sort("line")
    if duplicated.height:
        row = duplicated.row(0, named=True)
        raise PriceFormatError(
            f"{where}: date {row['date']} appears more than once (line {row['line']}); "
            "a daily price file has one row per trading day"
        )
    _raise_on_disorder(parsed, where)
    bad_close = parsed.filter(pl.col("close") <= 0)
    if bad_close.height:
        row = bad_close.row(0, named=True)
        raise PriceFormatError(
            f"{where}: line {row['line']}: close {row['_close_text']!r} on {row['date']} is not "
            "positive"
        )


def _number(text: pl.Expr, below: float = float("inf")) -> pl.Expr:
    """A cell as a float; null (reported as not a number) when unreadable, infinite or NaN
    (a 400-digit cell overflows to inf), or not below ``below`` in size."""
    value = text.cast(pl.Float64, strict=False)
    return pl.when(value.is_finite() & (value.abs() < below)).then(value)


def _raise_on_disorder(parsed: pl.DataFrame, where: str) -> None:
    """Dates must run one way (a newest-first export is fine), not back and forth."""
    dates = parsed.sort("line")["date"]
    if dates.is_sorted() or dates.is_sorted(descending=True):
        return
    steps = parsed.sort("line").with_columns(previous=pl.col("date").shift(1))
    ascending = dates[-1] >= dates[0]
    wrong = steps.filter(
        (pl.col("date") < pl.col("previous"))
        if ascending
        else (pl.col("date") > pl.col("previous"))
    ).row(0, named=True)
    raise PriceFormatError(
        f"{where}: line {wrong['line']}: date {wrong['date']} comes after {wrong['previous']}; "
        "dates out of order (the file is not one daily series)"
    )


def _raise_on_bad_cells(parsed: pl.DataFrame, where: str) -> None:
    """Raise on the first cell that is missing or failed to parse, naming line and value."""
    checks = [("date", "_date_text", "a date (YYYY-MM-DD)")]
    checks += [(c, f"_{c}_text", "a number") for c in PRICE_COLUMNS]
    checks.append(("volume", "_volume_text", "a number"))
    problems = []
    for column, text_column, expected in checks:
        bad = parsed.filter(pl.col(column).is_null() & pl.col(text_column).is_not_null())
        if column == "close":  # a row with other prices but no close is not usable either
            bad = parsed.filter(pl.col(column).is_null())
        if bad.height:
            row = bad.sort("line").row(0, named=True)
            problems.append((row["line"], column, row[text_column], expected, bad.height))
    if problems:
        line, column, value, expected, count = min(problems, key=lambda p: (p[0], p[1]))
        more = f" ({count} such rows)" if count > 1 else ""
        found = "is missing" if value is None else f"{value!r} is not {expected}"
        raise PriceFormatError(
            f"{where}: line {line}: {column} {found}{more}; the file is malformed or truncated"
        )


def detect_layout_of(body: bytes | str) -> str:
    """The layout (``'stooq'`` / ``'yahoo'``) of a CSV body, from its header line."""
    text = body.decode("utf-8-sig", errors="replace") if isinstance(body, bytes) else body
    lines = text.lstrip().splitlines()
    if not lines:
        raise PriceFormatError("empty price CSV")
    return detect_layout(lines[0].split(","))
