"""Dagster assets for the SQL models in sql/, the seed tables, and the marts' checks.

One asset per ``sql/<schema>/<name>.sql`` file, keyed ``[schema, name]``; its upstream
assets are the tables its SQL reads (parsed by :mod:`pipelines.models.sqlmodels`), keyed
``[schema, table]`` whether a model or a Python asset builds them, so the lineage in the UI
is the SQL's own. A file dropped into sql/ becomes an asset on the next reload.
"""

from __future__ import annotations

import time

import dagster as dg

from pipelines.core.checks import check_result
from pipelines.core.resources import CapexResource
from pipelines.core.tables import table_key
from pipelines.models import checks
from pipelines.models.seed_tables import SEEDS, write_seeds
from pipelines.models.sqlmodels import SqlModel, build_model, discover_models
from pipelines.orchestration.automation import follow_upstream

MODELS_GROUP = "models"
MARTS_GROUP = "marts"
SEEDS_KEY_PREFIX = "staging"


def _column_schema(con, schema: str, name: str) -> dg.TableSchema:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(n, t) for n, t in rows])


def sql_model_asset(model: SqlModel) -> dg.AssetsDefinition:
    """The asset that rebuilds ``model``'s table in the warehouse."""

    @dg.asset(
        key=table_key(model.table),
        deps=[table_key(dep) for dep in sorted(model.deps)],
        automation_condition=follow_upstream(),
        description=model.description or f"SQL model {model.table} ({model.path.name}).",
        group_name=MARTS_GROUP if model.schema == "marts" else MODELS_GROUP,
        kinds={"duckdb", "sql"},
        metadata={"sql_file": dg.MetadataValue.path(str(model.path))},
    )
    def _build(capex: CapexResource) -> dg.MaterializeResult:
        started = time.perf_counter()
        with capex.warehouse.connect() as con:
            rows = build_model(con, model)
            columns = _column_schema(con, model.schema, model.name)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": columns,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )

    return _build


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            table_key(seed.table),
            description=f"Seed table from pipelines/seeds/{seed.filename}.",
            kinds={"csv", "duckdb"},
            group_name=MODELS_GROUP,
        )
        for seed in SEEDS
    ],
    name="metric_seeds",
    description=(
        "Loads the metric map (metric → ordered XBRL concept candidates, per-company "
        "overrides), the metric definitions, the segment names and the fiscal period lengths "
        "from pipelines/seeds/ after cross-checking them."
    ),
)
def metric_seeds(capex: CapexResource):
    warehouse = capex.warehouse
    with warehouse.connect() as con:
        written = write_seeds(warehouse, con)
    for table, rows in written.items():
        yield dg.MaterializeResult(asset_key=table_key(table), metadata={"dagster/row_count": rows})


def _unique_keys_check(model: SqlModel) -> dg.AssetChecksDefinition:
    """The check that no two rows of ``model``'s table share one of its grains."""
    keys = "; ".join(", ".join(columns) for columns in model.grains)

    @dg.asset_check(
        automation_condition=dg.AutomationCondition.eager(),
        asset=table_key(model.table),
        name="unique_keys",
        description=f"No two rows share ({keys}).",
    )
    def _check(capex: CapexResource) -> dg.AssetCheckResult:
        with capex.warehouse.connect() as con:
            return check_result(checks.unique_keys(con, model.table, model.grains))

    return _check


METRIC_QUARTERLY = table_key("marts.metric_quarterly")


@dg.asset_check(
    automation_condition=dg.AutomationCondition.eager(),
    asset=METRIC_QUARTERLY,
    additional_deps=[table_key("staging.int_metric_annual")],
    description="Q1+Q2+Q3+Q4 equals the fiscal year within 0.5% for each additive metric "
    "and year (at least two rounding units, for figures filed in millions).",
)
def quarters_sum_to_year(capex: CapexResource) -> dg.AssetCheckResult:
    with capex.warehouse.connect() as con:
        return check_result(checks.quarters_sum_to_year(con))


@dg.asset_check(
    automation_condition=dg.AutomationCondition.eager(),
    asset=METRIC_QUARTERLY,
    description="No quarter has negative revenue or capex.",
)
def no_negative_revenue_or_capex(capex: CapexResource) -> dg.AssetCheckResult:
    with capex.warehouse.connect() as con:
        return check_result(checks.no_negative_revenue_or_capex(con))


@dg.asset_check(
    automation_condition=dg.AutomationCondition.eager(),
    asset=METRIC_QUARTERLY,
    additional_deps=[table_key("staging.stg_metric_facts"), table_key("staging.filings")],
    description="Each company's latest quarter is as recent as its latest 10-K/10-Q "
    "(staging.filings report dates and the facts' period ends). A warning: companyfacts can "
    "lag a filing by a day, and a quarter cannot be derived while a 10-Q is missing.",
)
def latest_quarter_is_current(capex: CapexResource) -> dg.AssetCheckResult:
    with capex.warehouse.connect() as con:
        outcome = checks.latest_quarter_is_current(con)
    return check_result(outcome, dg.AssetCheckSeverity.WARN)


VALUATION_DAILY = table_key("marts.valuation_daily")
RETURN_DECOMPOSITION = table_key("marts.return_decomposition")


@dg.asset_check(
    automation_condition=dg.AutomationCondition.eager(),
    asset=VALUATION_DAILY,
    description="Multiples are never zero, negative, infinite or NaN (a missing or "
    "non-positive denominator gives null) and market_cap = close × shares_outstanding.",
)
def valuation_multiples_are_sane(capex: CapexResource) -> dg.AssetCheckResult:
    with capex.warehouse.connect() as con:
        return check_result(checks.valuation_multiples_are_sane(con))


@dg.asset_check(
    automation_condition=dg.AutomationCondition.eager(),
    asset=RETURN_DECOMPOSITION,
    description="(1 + price_return) = (1 + earnings_growth) × (1 + multiple_change) where "
    "the decomposition is defined.",
)
def return_decomposition_multiplies_back(capex: CapexResource) -> dg.AssetCheckResult:
    with capex.warehouse.connect() as con:
        return check_result(checks.return_decomposition_multiplies_back(con))


SQL_MODELS = discover_models()
MODEL_ASSETS = [sql_model_asset(model) for model in SQL_MODELS.values()]

ASSETS = [metric_seeds, *MODEL_ASSETS]
CHECKS = [
    *(_unique_keys_check(model) for model in SQL_MODELS.values() if model.grains),
    quarters_sum_to_year,
    no_negative_revenue_or_capex,
    latest_quarter_is_current,
    valuation_multiples_are_sane,
    return_decomposition_multiplies_back,
]
