"""SEC companyfacts JSON → rows of staging.facts (polars)."""

from __future__ import annotations

import polars as pl

from pipelines.sec.facts import FACT_SCHEMA, finish_facts

# A JSON number below 2**53 is exact as a float64, whose shortest text is the number's own;
# SEC values are far below it (a larger one takes the slow, exact path).
_EXACT_FLOAT_LIMIT = 2**53

_FACT_FIELDS = {
    "start": pl.String,
    "end": pl.String,
    "val": pl.Float64,
    "accn": pl.String,
    "fy": pl.Int32,
    "fp": pl.String,
    "form": pl.String,
    "filed": pl.String,
    "frame": pl.String,
}


def normalize_companyfacts(document: dict, ticker: str | None, cik: int) -> pl.DataFrame:
    """Flatten a companyfacts document into staging.facts rows (source 'companyfacts').

    companyfacts carries no dimensions, decimals or scale: values are already in units.
    Every vintage is kept (one row per fact and accession). Values are exact.
    """
    facts: list[dict] = []
    groups: list[tuple[str, str, str, int]] = []
    for taxonomy, by_concept in (document.get("facts") or {}).items():
        for concept, body in by_concept.items():
            for unit, unit_facts in (body.get("units") or {}).items():
                facts.extend(unit_facts)
                groups.append((taxonomy, concept, unit, len(unit_facts)))
    names = pl.DataFrame(
        groups,
        schema={"taxonomy": pl.String, "concept": pl.String, "unit": pl.String, "n": pl.Int64},
        orient="row",
    ).select(pl.col("taxonomy", "concept", "unit").repeat_by("n").explode(empty_as_null=True))
    rows = pl.from_dicts(facts, schema=_FACT_FIELDS) if facts else pl.DataFrame(schema=_FACT_FIELDS)
    if rows.height and rows["val"].abs().max() >= _EXACT_FLOAT_LIMIT:
        value = pl.Series("val", [repr(fact["val"]) for fact in facts], pl.String)
    else:
        value = rows["val"].cast(pl.String)
    frame = names.hstack(rows.with_columns(value)).rename(
        {
            "start": "period_start",
            "end": "period_end",
            "val": "value",
            "accn": "accession",
            "fy": "fiscal_year",
            "fp": "fiscal_period",
        }
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
