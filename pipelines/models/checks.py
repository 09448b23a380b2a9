"""Data checks of the quarter marts, as queries on a warehouse connection.

Each check returns a :class:`CheckOutcome`: whether it passed and the offending rows (at most
a sample of them), so the Dagster asset checks in pipelines/models/assets.py stay thin
and the same checks can run on any DuckDB connection.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from pipelines.core.checks import CheckOutcome, outcome

# Relative tolerance of Q1+Q2+Q3+Q4 against the fiscal year.
QUARTER_SUM_TOLERANCE = 0.005


def unique_keys(
    con: duckdb.DuckDBPyConnection, table: str, grains: Sequence[Sequence[str]]
) -> CheckOutcome:
    """No two rows of ``table`` share the columns of any of its ``grains``.

    A mart's grains are the ``-- grain:`` lines of its SQL file (:attr:`SqlModel.grains`).
    """
    parts = []
    for columns in grains:
        cols = ", ".join(columns)
        parts.append(
            f"SELECT '{'+'.join(columns)}' AS key, CAST(({cols}) AS VARCHAR) AS value, "
            f"count(*) AS rows FROM {table} GROUP BY {cols} HAVING count(*) > 1"
        )
    return outcome(con, " UNION ALL ".join(parts), f"duplicate keys in {table}")


def quarters_sum_to_year(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Q1+Q2+Q3+Q4 equals the fiscal year within 0.5% for every additive metric and year.

    The tolerance is at least two rounding units: four quarters filed in millions can each be
    off by half a million (NVIDIA's fiscal 2018 depreciation: quarters of 200 M in all, a
    year of 199 M).
    """
    sql = f"""
        WITH quarters AS (
            SELECT q.ticker, q.metric, q.fiscal_year, count(*) AS quarters,
                   sum(q.value) AS quarter_sum,
                   bool_and(q.value % 1000000 = 0) AS in_millions,
                   bool_and(q.value % 1000 = 0) AS in_thousands
            FROM marts.metric_quarterly AS q
            JOIN staging.metric_definitions AS d USING (metric)
            WHERE d.additive
            GROUP BY ALL
        )
        SELECT q.ticker, q.metric, q.fiscal_year, q.quarter_sum, a.value AS fiscal_year_value,
               q.quarter_sum - a.value AS difference
        FROM quarters AS q
        JOIN staging.int_metric_annual AS a
          ON a.ticker = q.ticker AND a.metric = q.metric AND a.fiscal_year = q.fiscal_year
         AND a.segment = ''
        WHERE q.quarters = 4
          AND abs(q.quarter_sum - a.value) > greatest(
                {QUARTER_SUM_TOLERANCE} * abs(a.value),
                2 * CASE WHEN q.in_millions AND a.value % 1000000 = 0 THEN 1000000
                         WHEN q.in_thousands AND a.value % 1000 = 0 THEN 1000
                         ELSE 1 END)
        ORDER BY ALL
    """
    return outcome(con, sql, "fiscal years whose four quarters do not add up to the year")


def no_negative_revenue_or_capex(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """No quarter has negative revenue or capex (a sign of a wrong derivation or tag)."""
    sql = """
        SELECT ticker, metric, fiscal_year, fiscal_quarter, value, concept, derivation, accession
        FROM marts.metric_quarterly
        WHERE metric IN ('revenue', 'capex') AND value < 0
        ORDER BY ALL
    """
    return outcome(con, sql, "quarters with negative revenue or capex")


def latest_quarter_is_current(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Each company's latest quarter is as recent as its latest 10-K/10-Q says it should be.

    The expected period end is the latest report date of the company's 10-K/10-Q filings in
    staging.filings (when that table exists) and the latest period end of the duration facts
    its 10-Ks and 10-Qs carry.
    """
    has_filings = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'staging' AND table_name = 'filings'"
    ).fetchone()[0]
    from_filings = (
        """
        UNION ALL
        SELECT ticker, max(report_date) FROM staging.filings
        WHERE form IN ('10-K', '10-Q') AND report_date IS NOT NULL GROUP BY ticker
        """
        if has_filings
        else ""
    )
    sql = f"""
        WITH expected AS (
            SELECT ticker, max(latest) AS expected_period_end FROM (
                SELECT ticker, max(period_end) AS latest FROM staging.stg_metric_facts
                WHERE segment = '' AND period_type = 'duration' AND months IS NOT NULL
                  AND form IN ('10-K', '10-Q')
                GROUP BY ticker
                {from_filings}
            ) GROUP BY ticker
        ),
        actual AS (
            SELECT ticker, max(period_end) AS latest_quarter_end
            FROM marts.metric_quarterly WHERE period_start IS NOT NULL GROUP BY ticker
        )
        SELECT e.ticker, e.expected_period_end, a.latest_quarter_end
        FROM expected AS e LEFT JOIN actual AS a USING (ticker)
        WHERE a.latest_quarter_end IS NULL OR a.latest_quarter_end < e.expected_period_end
        ORDER BY ALL
    """
    return outcome(con, sql, "companies whose latest quarter is older than their filings")


def valuation_multiples_are_sane(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Multiples are never zero, negative, infinite or NaN, and market_cap = close × shares."""
    return outcome(
        con,
        "SELECT ticker, date::VARCHAR AS date, pe, ps, ev_ebitda FROM marts.valuation_daily "
        "WHERE pe <= 0 OR ps <= 0 OR ev_ebitda <= 0 OR isinf(pe) OR isinf(ps) "
        "OR isinf(ev_ebitda) OR isnan(pe) OR isnan(ps) OR isnan(ev_ebitda) "
        "OR abs(market_cap - close * shares_outstanding) > 1e-6 * market_cap",
        "valuation rows with an impossible multiple or market value",
    )


def return_decomposition_multiplies_back(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """(1 + price_return) = (1 + earnings_growth) × (1 + multiple_change) where defined."""
    return outcome(
        con,
        "SELECT ticker, period, price_return, earnings_growth, multiple_change "
        "FROM marts.return_decomposition WHERE earnings_growth IS NOT NULL AND "
        "abs((1 + earnings_growth) * (1 + multiple_change) - (1 + price_return)) > 1e-9",
        "decompositions that do not multiply back to the price return",
    )
