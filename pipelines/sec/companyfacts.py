"""SEC companyfacts JSON → rows of staging.facts (polars).

A companyfacts document is a few MB of nested objects: taxonomy → concept → unit → a list of
facts. Turning every fact into a Python dict (``json.loads``) is where most of the time and
memory went, so the document is read in two passes that never build those objects:

1. :func:`parse_companyfacts` decodes the nesting with msgspec down to each fact, which it
   keeps as raw JSON (a view into the body, not a copy);
2. :func:`normalize_companyfacts` hands all the facts to polars' newline-delimited JSON
   reader at once, with the facts' schema, and gets columns back.

Values are read as the JSON text SEC wrote and cast to the warehouse's decimal, so they stay
exact whatever their size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import polars as pl

from pipelines.sec.facts import FACT_SCHEMA, in_contract_order

# One fact of a unit's list, as SEC writes it (``val`` as its JSON text: exact). Dates are
# read as text and parsed after: polars' reader is twice as slow when it parses them itself.
_FACT_FIELDS = {
    "start": pl.String,
    "end": pl.String,
    "val": pl.String,
    "accn": pl.String,
    "fy": pl.Int32,
    "fp": pl.String,
    "form": pl.String,
    "filed": pl.String,
    "frame": pl.String,
}
_GROUP_SCHEMA = {
    "ticker": pl.String,
    "cik": pl.Int64,
    "taxonomy": pl.String,
    "concept": pl.String,
    "unit": pl.String,
    "n": pl.Int64,
}
_RENAMED = {
    "start": "period_start",
    "end": "period_end",
    "val": "value",
    "accn": "accession",
    "fy": "fiscal_year",
    "fp": "fiscal_period",
}


class _Concept(msgspec.Struct):
    units: dict[str, list[msgspec.Raw]] = {}


class _Document(msgspec.Struct):
    facts: dict[str, dict[str, _Concept]]


_DECODER = msgspec.json.Decoder(_Document)


@dataclass(frozen=True)
class CompanyFacts:
    """A companyfacts document decoded down to its facts.

    ``groups`` holds (taxonomy, concept, unit, number of facts) in document order, and
    ``facts`` every fact of every group, in the same order, each still the raw JSON object
    SEC wrote (a view into the body).
    """

    groups: list[tuple[str, str, str, int]]
    facts: list[msgspec.Raw]


def parse_companyfacts(body: bytes | memoryview) -> CompanyFacts:
    """Decode a companyfacts document (SEC's JSON, as received).

    Raises ValueError naming what is wrong: not JSON, or not the companyfacts shape (no
    ``facts`` object, a concept without a ``units`` object, ...).
    """
    try:
        document = _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        where = _misshapen_entry(body)
        raise ValueError(
            f"not a companyfacts document ({exc}{f'; at {where}' if where else ''})"
        ) from exc
    except msgspec.DecodeError as exc:
        raise ValueError(f"malformed JSON ({exc}; {len(body)} bytes)") from exc
    groups, facts = [], []
    for taxonomy, by_concept in document.facts.items():
        for concept, body_of_concept in by_concept.items():
            for unit, unit_facts in body_of_concept.units.items():
                groups.append((taxonomy, concept, unit, len(unit_facts)))
                facts.extend(unit_facts)
    return CompanyFacts(groups, facts)


def _misshapen_entry(body: bytes | memoryview) -> str | None:
    """The first taxonomy, concept, units or unit entry of the wrong type, by name.

    msgspec's message elides mapping keys (``$.facts[...][...].units``); an error path can
    afford a second, generic decode to name the concept.
    """
    document = msgspec.json.decode(body)
    facts = document.get("facts") if isinstance(document, dict) else None
    if not isinstance(facts, dict):
        return None
    for taxonomy, by_concept in facts.items():
        if not isinstance(by_concept, dict):
            return f"facts.{taxonomy}"
        for concept, entry in by_concept.items():
            if not isinstance(entry, dict):
                return f"facts.{taxonomy}.{concept}"
            units = entry.get("units", {})
            if not isinstance(units, dict):
                return f"facts.{taxonomy}.{concept}.units"
            for unit, facts_of_unit in units.items():
                if not isinstance(facts_of_unit, list):
                    return f"facts.{taxonomy}.{concept}.units.{unit}"
    return None


def normalize_companyfacts(
    document: CompanyFacts | bytes, ticker: str | None, cik: int
) -> pl.DataFrame:
    """Flatten a companyfacts document into staging.facts rows (source 'companyfacts').

    companyfacts carries no dimensions, decimals or scale: values are already in units.
    Every vintage is kept (one row per fact and accession). Values are exact. Raises
    ValueError when a fact is not of the documented shape.
    """
    parsed = parse_companyfacts(document) if isinstance(document, bytes | memoryview) else document
    return normalize_many([(parsed, ticker, cik)])


def normalize_many(documents: Sequence[tuple[CompanyFacts, str | None, int]]) -> pl.DataFrame:
    """staging.facts rows of many companies' documents, each given with its ticker and CIK.

    One pass of polars' reader over every fact of every document: the cost per company is
    only its bytes, which matters for the ~10,000 small filers of the bulk archive. Raises
    ValueError when any fact is not of the documented shape (then no row is returned).
    """
    groups = pl.DataFrame(
        [
            (ticker, cik, taxonomy, concept, unit, n)
            for parsed, ticker, cik in documents
            for taxonomy, concept, unit, n in parsed.groups
        ],
        schema=_GROUP_SCHEMA,
        orient="row",
    )
    # each group's row repeated once per fact: gathering by index shares the strings' buffers
    # (explode would copy them), half the memory and time
    fact_group = groups.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).repeat_by("n").explode(empty_as_null=False)
    ).to_series()
    names = groups.drop("n")[fact_group]
    facts = [fact for parsed, _ticker, _cik in documents for fact in parsed.facts]
    if facts:
        # the facts as newline-delimited JSON: polars' reader takes them in one parallel pass
        try:
            rows = pl.read_ndjson(b"\n".join(facts), schema=_FACT_FIELDS)
        except pl.exceptions.PolarsError as exc:
            raise ValueError(f"facts of an unexpected shape ({exc})") from exc
    else:
        rows = pl.DataFrame(schema=_FACT_FIELDS)
    frame = (
        names.hstack(rows)
        .rename(_RENAMED)
        .with_columns(
            pl.col("period_start", "period_end", "filed").str.to_date("%Y-%m-%d"),
            pl.col("value").cast(FACT_SCHEMA["value"]),
            pl.lit(None, pl.Int32).alias("decimals"),
            pl.lit(None, FACT_SCHEMA["dimensions"]).alias("dimensions"),
            pl.lit("").alias("dimensions_key"),
            pl.lit("companyfacts").alias("source"),
        )
    )
    return in_contract_order(frame)
