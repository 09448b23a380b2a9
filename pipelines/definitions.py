"""The Dagster code location: ``dagster dev -m pipelines.definitions``."""

from __future__ import annotations

import dagster as dg

from pipelines import freshness, schedules, sensors
from pipelines.assets import news, prices, report, sec, sql_models
from pipelines.assets.publish import published_warehouse_asset
from pipelines.partitions import company_partitions
from pipelines.resources import CapexResource

company_assets = [*sec.ASSETS]
unpartitioned_assets: list[dg.AssetsDefinition] = [*prices.ASSETS, *sql_models.ASSETS, *news.ASSETS]
asset_checks: list = [*sql_models.CHECKS, *prices.CHECKS, *news.CHECKS, *freshness.CHECKS]
# Read the published warehouse, so they come after the publish step (not among its upstream).
after_publish = [*report.ASSETS]

publish = published_warehouse_asset(
    [key for a in company_assets + unpartitioned_assets for key in a.keys]
)

company_job = dg.define_asset_job(
    "company_refresh",
    selection=dg.AssetSelection.assets(*company_assets),  # partitioned by company_partitions
    description="Fetch and land one company's SEC documents (one run per company).",
)
models_job = dg.define_asset_job(
    "models_refresh",
    selection=dg.AssetSelection.assets(*unpartitioned_assets, publish, *after_publish),
    description="Rebuild the SQL models and marts, publish the warehouse, write the report.",
)

# What `capex run` executes, in order: each partitioned job once per partition key, then the rest.
PARTITIONED_JOBS = [(company_job.name, company_partitions)]
UNPARTITIONED_JOBS = [models_job.name]

defs = dg.Definitions(
    assets=[*company_assets, *unpartitioned_assets, publish, *after_publish],
    asset_checks=asset_checks,
    jobs=[company_job, models_job, *schedules.JOBS],
    schedules=schedules.SCHEDULES,
    sensors=sensors.SENSORS,
    resources={"capex": CapexResource()},
)
