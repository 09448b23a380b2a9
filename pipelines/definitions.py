"""The Dagster code location: ``dagster dev -m pipelines.definitions``."""

from __future__ import annotations

import dagster as dg

from pipelines.core.partitions import company_partitions
from pipelines.core.resources import CapexResource
from pipelines.market import assets as market
from pipelines.models import assets as models
from pipelines.models.publish import published_warehouse_asset
from pipelines.news import assets as news
from pipelines.orchestration import automation, schedules
from pipelines.report import assets as report
from pipelines.sec import assets as sec
from pipelines.sec import freshness, sensors

company_assets = [*sec.ASSETS]
unpartitioned_assets: list[dg.AssetsDefinition] = [*market.ASSETS, *models.ASSETS, *news.ASSETS]
asset_checks: list = [*models.CHECKS, *news.CHECKS, *freshness.CHECKS]
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
    sensors=[*sensors.SENSORS, automation.automation_sensor],
    resources={"capex": CapexResource()},
)
