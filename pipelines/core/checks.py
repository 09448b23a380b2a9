"""Data checks as plain results, and their Dagster form.

A check is a query on a warehouse connection returning :class:`CheckOutcome` (whether it
passed and a sample of the offending rows); :func:`check_result` turns one into a Dagster
``AssetCheckResult`` with the sample as a Markdown table, so asset checks stay thin.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import duckdb
import polars as pl

SAMPLE_ROWS = 20
# Materialization metadata naming what a step kept from the previous run because a source
# failed; `capex run` lists these per source in its summary.
KEPT_METADATA = "capex/kept"


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one check: passed, how many rows offend, and a sample of them."""

    passed: bool
    failures: int
    sample: pl.DataFrame
    description: str


def outcome(con: duckdb.DuckDBPyConnection, sql: str, description: str) -> CheckOutcome:
    """Run ``sql``, which selects the offending rows, as a check described by ``description``."""
    offending = con.execute(sql).pl()
    return CheckOutcome(
        offending.height == 0, offending.height, offending.head(SAMPLE_ROWS), description
    )


def check_result(
    outcome: CheckOutcome,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """The Dagster result of ``outcome``, with a sample of the offending rows as Markdown."""
    metadata: dict = {"failures": outcome.failures}
    if outcome.failures:
        metadata["sample"] = dg.MetadataValue.md(_markdown(outcome))
    return dg.AssetCheckResult(passed=outcome.passed, metadata=metadata, severity=severity)


def _markdown(outcome: CheckOutcome) -> str:
    frame = outcome.sample
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([f"{outcome.description} (first {frame.height}):", "", header, rule, *rows])
