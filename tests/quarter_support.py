"""Helpers for the quarter-mart tests: hand-made staging.facts rows and a real warehouse.

Facts land through the foundation's own contract (``tables.FACTS``, ``FACTS_INSERT_SELECT``,
``Warehouse.replace_rows``), and the marts are built by the real SQL models, so these tests
exercise exactly what ``capex run`` does after landing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipelines.core import tables
from pipelines.core.warehouse import Warehouse
from pipelines.models.checks import MART_KEYS
from pipelines.models.seed_tables import write_seeds
from pipelines.models.sqlmodels import discover_models, rebuild, with_upstream
from pipelines.sec.facts import FACT_SCHEMA, FACTS_INSERT_SELECT

QUARTER_MARTS = tuple(MART_KEYS)


def fact(
    concept: str,
    start: str | None,
    end: str,
    value: int | str,
    *,
    accession: str,
    filed: str,
    form: str = "10-Q",
    fy: int | None = None,
    fp: str | None = None,
    unit: str = "USD",
    taxonomy: str = "us-gaap",
    dimensions: dict[str, str] | None = None,
) -> dict:
    """One staging.facts row (before the company columns)."""
    dims = [{"axis": a, "member": m} for a, m in sorted((dimensions or {}).items())]
    return {
        "taxonomy": taxonomy,
        "concept": concept,
        "unit": unit,
        "period_start": date.fromisoformat(start) if start else None,
        "period_end": date.fromisoformat(end),
        "value": Decimal(str(value)),
        "decimals": None,
        "accession": accession,
        "form": form,
        "fiscal_year": fy,
        "fiscal_period": fp,
        "filed": date.fromisoformat(filed),
        "frame": None,
        "dimensions": dims,
        "dimensions_key": ";".join(f"{d['axis']}={d['member']}" for d in dims),
        "source": "filing" if dims else "companyfacts",
    }


def facts_frame(rows: Iterable[dict], ticker: str = "TEST", cik: int = 1) -> pl.DataFrame:
    """staging.facts rows of one company, typed like the foundation's normalisers."""
    schema = {**FACT_SCHEMA, "dimensions_key": pl.String}
    schema.pop("ticker")
    schema.pop("cik")
    frame = pl.DataFrame(list(rows), schema=schema)
    return frame.with_columns(
        pl.lit(ticker).alias("ticker"), pl.lit(cik, pl.Int64).alias("cik")
    ).select([*FACT_SCHEMA, "dimensions_key"])


def new_warehouse(tmp_path: Path) -> Warehouse:
    """A warehouse (build and published files) under ``tmp_path``."""
    return Warehouse(tmp_path / ".build" / "capex.duckdb", tmp_path / "capex.duckdb")


def land_facts(warehouse: Warehouse, frames: dict[str, pl.DataFrame]) -> None:
    """Replace each ticker's staging.facts rows, as the foundation's facts asset does."""
    with warehouse.connect() as con:
        for ticker, frame in frames.items():
            warehouse.replace_rows(
                tables.FACTS, frame, {"ticker": ticker}, con, FACTS_INSERT_SELECT
            )


def build_quarter_marts(warehouse: Warehouse) -> dict[str, tuple[int, float]]:
    """Load the seeds and build the issue-3 marts with every model upstream of them."""
    models = with_upstream(discover_models(), QUARTER_MARTS)
    with warehouse.connect() as con:
        write_seeds(warehouse, con)
    return rebuild(warehouse, models)


def rows(warehouse: Warehouse, sql: str, params: list | None = None) -> list[dict]:
    """The result of ``sql`` as dictionaries."""
    return warehouse.query(sql, params).to_dicts()
