"""The contract of every landed table: its columns as a polars schema, and the DDL made from it.

A table that a Python step writes (as opposed to the SQL models in ``sql/``, which are
``CREATE TABLE AS`` their query) is declared here once, as a :class:`Table`: the polars schema
the parsing code produces, which columns may not be null, and whether the table is rebuilt
whole on each write. :meth:`Table.ddl` turns that into DuckDB DDL, so no module writes a
``CREATE TABLE`` by hand and the frame a parser returns and the table it lands in cannot drift
apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import dagster as dg
import duckdb
import polars as pl

# Stored as MAP(axis → member); the parsers produce a list of {axis, member} structs, which
# the insert turns into a MAP (see FACTS_INSERT_SELECT in pipelines/sec/facts.py).
DIMENSIONS_TYPE = pl.List(pl.Struct({"axis": pl.String, "member": pl.String}))

_SIMPLE_TYPES: Mapping[type[pl.DataType], str] = {
    pl.String: "VARCHAR",
    pl.Int64: "BIGINT",
    pl.Int32: "INTEGER",
    pl.Float64: "DOUBLE",
    pl.Boolean: "BOOLEAN",
    pl.Date: "DATE",
}


def duckdb_type(dtype: pl.DataType) -> str:
    """The DuckDB column type that stores polars ``dtype``."""
    if dtype == DIMENSIONS_TYPE:
        return "MAP(VARCHAR, VARCHAR)"
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision}, {dtype.scale})"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
    for polars_type, sql in _SIMPLE_TYPES.items():
        if dtype == polars_type:
            return sql
    raise TypeError(f"no DuckDB type declared for polars type {dtype}")


@dataclass(frozen=True)
class Table:
    """One landed table: ``schema.table`` name, columns (polars types) and constraints."""

    name: str
    columns: dict[str, pl.DataType]
    not_null: tuple[str, ...] = ()
    rebuilt_whole: bool = False  # CREATE OR REPLACE on each write, instead of IF NOT EXISTS
    description: str = field(default="", compare=False)

    @property
    def key(self) -> dg.AssetKey:
        """The Dagster asset key of the table: its schema and name."""
        return table_key(self.name)

    def ddl(self) -> str:
        """The DuckDB statement that creates the table."""
        columns = ", ".join(
            f"{name} {duckdb_type(dtype)}{' NOT NULL' if name in self.not_null else ''}"
            for name, dtype in self.columns.items()
        )
        verb = "CREATE OR REPLACE TABLE" if self.rebuilt_whole else "CREATE TABLE IF NOT EXISTS"
        return f"{verb} {self.name} ({columns})"

    def create(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the table on ``con``, or bring an existing one up to the contract.

        A warehouse built by an earlier version may lack columns added to the contract since:
        they are added (nullable, so the rows already there stay valid) rather than failing
        the next insert.
        """
        con.execute(self.ddl())
        if self.rebuilt_whole:
            return
        # pragma_table_info reads this table's entry only; information_schema.columns lists
        # every column of every attached catalog first (on DuckLake 4-9 ms against 15-30 ms)
        present = {
            row[0]
            for row in con.execute(f"SELECT name FROM pragma_table_info('{self.name}')").fetchall()
        }
        for column, dtype in self.columns.items():
            if column not in present:
                con.execute(f"ALTER TABLE {self.name} ADD COLUMN {column} {duckdb_type(dtype)}")

    def empty(self) -> pl.DataFrame:
        """A frame with no rows and the table's columns."""
        return pl.DataFrame(schema=self.columns)


def table_key(table: str) -> dg.AssetKey:
    """The asset key of a warehouse table: ``marts.capex_quarterly`` → ``marts/capex_quarterly``."""
    return dg.AssetKey(table.split("."))


MANIFEST = Table(
    "raw.manifest",
    {
        "key": pl.String,
        "url": pl.String,
        "fetched_at": pl.Datetime("us"),
        "status": pl.Int32,
        "sha256": pl.String,
        "bytes": pl.Int64,
        "etag": pl.String,
        "last_modified": pl.String,
        "content_type": pl.String,
        "path": pl.String,
    },
    not_null=("key", "url", "fetched_at", "status", "sha256", "bytes", "path"),
)

FACTS = Table(
    "staging.facts",
    {
        "ticker": pl.String,
        "cik": pl.Int64,
        "taxonomy": pl.String,
        "concept": pl.String,
        "unit": pl.String,
        "period_start": pl.Date,
        "period_end": pl.Date,
        "value": pl.Decimal(38, 10),
        "decimals": pl.Int32,
        "accession": pl.String,
        "form": pl.String,
        "fiscal_year": pl.Int32,
        "fiscal_period": pl.String,
        "filed": pl.Date,
        "frame": pl.String,
        "dimensions": DIMENSIONS_TYPE,
        "source": pl.String,
    },
    # ticker is null for a filer SEC lists without one (CAPEX_UNIVERSE=all): cik identifies it
    not_null=("cik", "taxonomy", "concept", "unit", "period_end", "value", "source"),
)

FILINGS = Table(
    "staging.filings",
    {
        "ticker": pl.String,
        "cik": pl.Int64,
        "accession": pl.String,
        "form": pl.String,
        "filed": pl.Date,
        "report_date": pl.Date,
        "primary_document": pl.String,
        "url": pl.String,
    },
    not_null=("cik", "accession", "form", "filed"),
)

COMPANIES = Table(
    "staging.companies",
    {
        "ticker": pl.String,
        "cik": pl.Int64,
        "name": pl.String,
        "fiscal_year_end": pl.String,
        "sic": pl.String,
        "sic_description": pl.String,
    },
    not_null=("cik",),
)

PRICES = Table(
    "staging.prices",
    {
        "ticker": pl.String,
        "date": pl.Date,
        "open": pl.Float64,
        "high": pl.Float64,
        "low": pl.Float64,
        "close": pl.Float64,
        "volume": pl.Int64,
        "source": pl.String,  # the provider: yahoo, stooq, file:yahoo, file:stooq
        "adj_close": pl.Float64,  # adjusted for splits and dividends
        "close_adjustment": pl.String,  # what close is adjusted for: split, split+dividend
    },
    not_null=("ticker", "date", "close", "source"),
)

SHARES_OUTSTANDING = Table(
    "staging.shares_outstanding",
    {
        "ticker": pl.String,
        "period_end": pl.Date,
        "accession": pl.String,
        "form": pl.String,
        "filed": pl.Date,
        "shares_reported": pl.Float64,
        "share_classes": pl.Int32,
        "split_factor": pl.Float64,
        "shares_outstanding": pl.Float64,
    },
    not_null=(
        "ticker",
        "period_end",
        "shares_reported",
        "share_classes",
        "split_factor",
        "shares_outstanding",
    ),
)

STOCK_SPLITS = Table(
    "staging.stock_splits",
    {
        "ticker": pl.String,
        "ratio": pl.Float64,  # new shares per old share: 10.0 for a 10:1 split, 0.1 for 1:10
        "after_date": pl.Date,  # last count date before the split (null when unknown)
        "before_date": pl.Date,  # first count date after it (null when no count yet)
        "ratio_fact_date": pl.Date,  # latest period end of the ratio facts (null when none)
        "detected_from": pl.String,
        "split_date": pl.Date,  # the effective date, when a price provider reports the split
        "source": pl.String,  # 'filings' (derived from share counts and ratio facts) or a provider
    },
    not_null=("ticker", "ratio", "detected_from", "source"),
)

FX_RATES = Table(
    "staging.fx_rates",
    {"rate_date": pl.Date, "currency": pl.String, "per_eur": pl.Float64},
    not_null=("rate_date", "currency", "per_eur"),
    rebuilt_whole=True,
)

NEWS_ARTICLES = Table(
    "staging.news_articles",
    {
        "article_id": pl.String,
        "url": pl.String,
        "title": pl.String,
        "published_at": pl.Datetime("us", "UTC"),
        "author": pl.String,
        "source": pl.String,
        "language": pl.String,
        "body_text": pl.String,
    },
    not_null=("article_id", "url", "body_text"),
    rebuilt_whole=True,
)

NEWS_NUMBERS = Table(
    "staging.news_numbers",
    {
        "article_id": pl.String,
        "sentence_no": pl.Int32,
        "sentence": pl.String,
        "position": pl.Int32,
        "text": pl.String,
        "value": pl.Float64,
        "low": pl.Float64,
        "high": pl.Float64,
        "unit": pl.String,
        "currency": pl.String,
        "scale": pl.Float64,
        "precision": pl.Float64,
        "change": pl.Boolean,
        "qualifier": pl.String,
    },
    not_null=("article_id", "text", "value"),
    rebuilt_whole=True,
)

NEWS_CLAIMS = Table(
    "marts.news_claims",
    {
        "claim_id": pl.String,
        "article_id": pl.String,
        "sentence": pl.String,
        "ticker": pl.String,
        "metric": pl.String,
        "segment": pl.String,
        "period_start": pl.Date,
        "period_end": pl.Date,
        "value": pl.Float64,
        "low": pl.Float64,
        "high": pl.Float64,
        "unit": pl.String,
        "currency": pl.String,
        "value_usd": pl.Float64,
        "precision_usd": pl.Float64,
        "period_basis": pl.String,
        "period_label": pl.String,
        "forecast": pl.Boolean,
        "published_at": pl.Datetime("us", "UTC"),
        "note": pl.String,
        "figure": pl.String,
        "subject": pl.String,
        "group_tickers": pl.String,
        "confidence": pl.Float64,
        "unresolved": pl.String,
        "resolution": pl.String,
    },
    not_null=("claim_id", "article_id", "metric"),
    rebuilt_whole=True,
)

CLAIM_CHECKS = Table(
    "marts.claim_checks",
    {
        "claim_id": pl.String,
        "ticker": pl.String,
        "metric": pl.String,
        "period_start": pl.Date,
        "period_end": pl.Date,
        "claimed_value": pl.Float64,
        "filed_value": pl.Float64,
        "deviation": pl.Float64,
        "verdict": pl.String,
        "explanation": pl.String,
        "segment": pl.String,
        "low": pl.Float64,
        "high": pl.Float64,
        "group_tickers": pl.String,
        "confidence": pl.Float64,
    },
    not_null=("claim_id", "verdict", "explanation"),
    rebuilt_whole=True,
)
