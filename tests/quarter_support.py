"""Helpers for the quarter-mart tests: hand-made staging.facts rows and a real warehouse.

Facts land through the foundation's own contract (``tables.FACTS``, ``FACTS_INSERT_SELECT``,
``Warehouse.replace_rows``), and the marts are built by the real SQL models, so these tests
exercise exactly what ``capex run`` does after landing.

The quarter tests (tests/models/test_quarter_*.py, test_fiscal_labels.py, test_point_in_time.py,
test_metric_map.py, test_growth_marts.py, test_segment_revenue.py) are grouped by the failure
mode they guard: first regression tests on hand-made facts, each docstring naming the root
cause, then the same SQL models over the recorded filings (the ``real`` fixture of
tests/models/conftest.py), asserting the companies' published figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipelines.core import tables
from pipelines.core.warehouse import Warehouse
from pipelines.models.seed_tables import write_seeds
from pipelines.models.sqlmodels import discover_models, marts_without, rebuild, with_upstream
from pipelines.sec.facts import FACT_SCHEMA, FACTS_INSERT_SELECT

PPE = "PaymentsToAcquirePropertyPlantAndEquipment"
PRODUCTIVE = "PaymentsToAcquireProductiveAssets"
RFC = "RevenueFromContractWithCustomerExcludingAssessedTax"

MODELS = discover_models()
# The marts built from filings alone (the valuation marts also read prices).
QUARTER_MARTS = marts_without(MODELS, "staging.prices")


def grains(table: str) -> tuple[tuple[str, ...], ...]:
    """The grains ``table``'s SQL file declares (its ``-- grain:`` lines)."""
    return MODELS[table].grains


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
    """staging.facts rows of one company, typed like the foundation's normalizers."""
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
    """Load the seeds and build the quarter marts with every model upstream of them."""
    models = with_upstream(MODELS, QUARTER_MARTS)
    with warehouse.connect() as con:
        write_seeds(warehouse, con)
    return rebuild(warehouse, models)


def rows(warehouse: Warehouse, sql: str, params: list | None = None) -> list[dict]:
    """The result of ``sql`` as dictionaries."""
    return warehouse.query(sql, params).to_dicts()


def calendar_year(
    year: int,
    concept: str,
    quarters: tuple[int, int, int, int],
    *,
    cash_flow: bool = False,
    **extra,
) -> list[dict]:
    """One calendar fiscal year of a metric as a company files it.

    10-Qs (filed May, August, November) report the quarter (income statement only) and the
    year to date; the 10-K (filed the next February) reports the year. ``cash_flow``: the
    10-Qs report year-to-date figures only, as cash-flow statements do.
    """
    starts = [f"{year}-01-01", f"{year}-04-01", f"{year}-07-01", f"{year}-10-01"]
    ends = [f"{year}-03-31", f"{year}-06-30", f"{year}-09-30", f"{year}-12-31"]
    out = []
    for q in range(3):
        filing = dict(
            accession=f"{year}-q{q + 1}",
            filed=f"{year}-{3 * q + 5:02d}-01",
            fy=year,
            fp=f"Q{q + 1}",
            **extra,
        )
        ytd = sum(quarters[: q + 1])
        out.append(fact(concept, starts[0], ends[q], ytd, **filing))
        if q > 0 and not cash_flow:
            out.append(fact(concept, starts[q], ends[q], quarters[q], **filing))
    annual = dict(accession=f"{year}-k", filed=f"{year + 1}-02-01", form="10-K", fy=year, fp="FY")
    out.append(fact(concept, starts[0], ends[3], sum(quarters), **annual, **extra))
    return out


def build(tmp_path: Path, facts: list[dict], ticker: str = "TEST") -> Warehouse:
    """A warehouse with ``facts`` landed for ``ticker`` and the quarter marts built."""
    warehouse = new_warehouse(tmp_path)
    land_facts(warehouse, {ticker: facts_frame(facts, ticker)})
    build_quarter_marts(warehouse)
    return warehouse


def quarterly(warehouse: Warehouse, metric: str, ticker: str = "TEST") -> list[dict]:
    """The marts.metric_quarterly rows of one metric, in fiscal order."""
    return rows(
        warehouse,
        "select * from marts.metric_quarterly where ticker = ? and metric = ? "
        "order by fiscal_year, fiscal_quarter",
        [ticker, metric],
    )


def labelled(rows_: list[dict], *columns: str) -> list[tuple]:
    """The ``columns`` of each row, as tuples."""
    return [tuple(r[c] for c in columns) for r in rows_]


def one(warehouse: Warehouse, sql: str, params: list | None = None) -> dict:
    """The single row ``sql`` returns (fails when there is not exactly one)."""
    result = rows(warehouse, sql, params)
    assert len(result) == 1, result
    return result[0]
