"""staging.facts rows: the contract's schema, facts of a filing document, and the merge of both
sources (companyfacts and the filings)."""

from __future__ import annotations

import polars as pl

from pipelines.core.tables import FACTS

FACT_SCHEMA = FACTS.columns

# The identity of a fact: the same fact seen in companyfacts and in the filing is one row.
FACT_KEY = (
    "taxonomy",
    "concept",
    "unit",
    "period_start",
    "period_end",
    "dimensions_key",
    "accession",
)

# DuckDB turns the polars list of {axis, member} structs into a MAP on insert.
FACTS_INSERT_SELECT = """
SELECT * EXCLUDE (dimensions_key) REPLACE (
    CASE WHEN len(dimensions) > 0
         THEN map_from_entries(list_transform(dimensions, d -> {'k': d.axis, 'v': d.member}))
    END AS dimensions
) FROM {source}
"""


def finish_facts(frame: pl.DataFrame, ticker: str | None, cik: int) -> pl.DataFrame:
    """Add the company columns and put ``frame`` in staging.facts order (keeping dimensions_key)."""
    frame = frame.with_columns(
        pl.lit(ticker, pl.String).alias("ticker"), pl.lit(cik, pl.Int64).alias("cik")
    )
    return in_contract_order(frame)


def in_contract_order(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (with its ticker and cik columns) in staging.facts order, keeping
    dimensions_key."""
    return frame.select(
        [pl.col(name).cast(dtype) for name, dtype in FACT_SCHEMA.items()]
        + [pl.col("dimensions_key")]
    )


def merge_facts(companyfacts: pl.DataFrame, filing_facts: list[pl.DataFrame]) -> pl.DataFrame:
    """One frame of staging.facts rows from both sources, each fact once.

    A fact reported in companyfacts and in its filing document (same concept, unit, period,
    dimensions and accession) keeps the companyfacts row, which carries SEC's frame; rows only
    in filings (dimensional facts, companies without companyfacts) come from the filings.
    """
    frames = [companyfacts, *filing_facts]
    merged = pl.concat(frames, how="vertical")
    # companyfacts first, so unique(keep="first") prefers it; stable sort keeps file order
    merged = merged.sort(pl.col("source") != "companyfacts", maintain_order=True)
    merged = merged.unique(subset=list(FACT_KEY), keep="first", maintain_order=True)
    return merged.sort(
        [
            "taxonomy",
            "concept",
            "unit",
            "period_end",
            "period_start",
            "accession",
            "dimensions_key",
        ],
        nulls_last=False,
    )


def filing_facts(
    parsed, *, ticker: str, cik: int, accession: str, form: str, filed
) -> pl.DataFrame:
    """staging.facts rows (source 'filing') from a parsed XBRL document of one filing.

    ``fiscal_year``/``fiscal_period`` are the filing's DocumentFiscalYearFocus/PeriodFocus,
    as in companyfacts: they describe the filing, not the fact.
    """
    frame = parsed.facts.with_columns(
        pl.lit(accession).alias("accession"),
        pl.lit(form).alias("form"),
        pl.lit(parsed.fiscal_year, pl.Int32).alias("fiscal_year"),
        pl.lit(parsed.fiscal_period, pl.String).alias("fiscal_period"),
        pl.lit(filed, pl.Date).alias("filed"),
        pl.lit(None, pl.String).alias("frame"),
        pl.lit("filing").alias("source"),
    )
    return finish_facts(frame, ticker, cik)
