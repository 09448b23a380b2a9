"""SEC companyfacts JSON → rows of staging.facts (polars)."""

from __future__ import annotations

import polars as pl

from pipelines.normalize.facts import FACT_SCHEMA, finish_facts


def normalize_companyfacts(document: dict, ticker: str, cik: int) -> pl.DataFrame:
    """Flatten a companyfacts document into staging.facts rows (source 'companyfacts').

    companyfacts carries no dimensions, decimals or scale: values are already in units.
    Every vintage is kept (one row per fact and accession).
    """
    columns: dict[str, list] = {
        name: []
        for name in (
            "taxonomy",
            "concept",
            "unit",
            "period_start",
            "period_end",
            "value",
            "accession",
            "form",
            "fiscal_year",
            "fiscal_period",
            "filed",
            "frame",
        )
    }
    taxonomy_col, concept_col, unit_col = columns["taxonomy"], columns["concept"], columns["unit"]
    start_col, end_col, value_col = (
        columns["period_start"],
        columns["period_end"],
        columns["value"],
    )
    accn_col, form_col, fy_col, fp_col = (
        columns["accession"],
        columns["form"],
        columns["fiscal_year"],
        columns["fiscal_period"],
    )
    filed_col, frame_col = columns["filed"], columns["frame"]
    for taxonomy, concepts in (document.get("facts") or {}).items():
        for concept, body in concepts.items():
            for unit, facts in (body.get("units") or {}).items():
                for fact in facts:
                    taxonomy_col.append(taxonomy)
                    concept_col.append(concept)
                    unit_col.append(unit)
                    start_col.append(fact.get("start"))
                    end_col.append(fact["end"])
                    value = fact["val"]
                    # repr of a JSON float is its shortest exact decimal text
                    value_col.append(value if isinstance(value, str) else repr(value))
                    accn_col.append(fact.get("accn"))
                    form_col.append(fact.get("form"))
                    fy_col.append(fact.get("fy"))
                    fp_col.append(fact.get("fp"))
                    filed_col.append(fact.get("filed"))
                    frame_col.append(fact.get("frame"))
    frame = pl.DataFrame(
        columns,
        schema={
            "taxonomy": pl.String,
            "concept": pl.String,
            "unit": pl.String,
            "period_start": pl.String,
            "period_end": pl.String,
            "value": pl.String,
            "accession": pl.String,
            "form": pl.String,
            "fiscal_year": pl.Int32,
            "fiscal_period": pl.String,
            "filed": pl.String,
            "frame": pl.String,
        },
    )
    frame = frame.with_columns(
        pl.col("period_start", "period_end", "filed").str.to_date("%Y-%m-%d"),
        pl.col("value").cast(FACT_SCHEMA["value"]),
        pl.lit(None, pl.Int32).alias("decimals"),
        pl.lit(None, FACT_SCHEMA["dimensions"]).alias("dimensions"),
        pl.lit("").alias("dimensions_key"),
        pl.lit("companyfacts").alias("source"),
    )
    return finish_facts(frame, ticker, cik)
