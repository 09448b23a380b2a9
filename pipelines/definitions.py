"""The Dagster code location: ``dagster dev -m pipelines.definitions``."""

from __future__ import annotations

import dagster as dg

from pipelines.core.config import load_settings
from pipelines.core.partitions import company_partitions
from pipelines.core.resources import CapexResource
from pipelines.market import assets as market
from pipelines.models import assets as models
from pipelines.models.publish import published_warehouse_asset
from pipelines.news import assets as news
from pipelines.orchestration import automation, schedules
from pipelines.report import assets as report
from pipelines.sec import assets as sec
from pipelines.sec import bulk_assets, freshness, sensors

# CAPEX_UNIVERSE=all: every filer from SEC's bulk archives (see pipelines/sec/bulk_assets.py for
# why the universe is not partitioned); the company partitions keep the followed companies.
ALL_FILERS = load_settings().universe == "all"
archive_assets = bulk_assets.ARCHIVE_ASSETS if ALL_FILERS else []
company_assets = bulk_assets.COMPANY_ASSETS if ALL_FILERS else [*sec.ASSETS]
unpartitioned_assets: list[dg.AssetsDefinition] = [
    *(bulk_assets.UNIVERSE_ASSETS if ALL_FILERS else []),
    *market.ASSETS,
    *models.ASSETS,
    *news.ASSETS,
]
# the freshness checks are per company partition of staging/facts, which is one asset with all
asset_checks: list = [*models.CHECKS, *news.CHECKS, *([] if ALL_FILERS else freshness.CHECKS)]
# Read the published warehouse, so they come after the publish step (not among its upstream).
after_publish = [*report.ASSETS]

publish = published_warehouse_asset(
    [key for a in archive_assets + company_assets + unpartitioned_assets for key in a.keys]
)
archives_job = dg.define_asset_job(
    "sec_archives_refresh",
    selection=dg.AssetSelection.assets(*bulk_assets.ARCHIVE_ASSETS),
    description="Fetch SEC's bulk archives (companyfacts.zip, submissions.zip) into raw/.",
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

# What `capex run` executes, in order: a partitioned job once per partition key.
RUN_PLAN: list[tuple[str, dg.PartitionsDefinition | None]] = [
    *([(archives_job.name, None)] if ALL_FILERS else []),
    (company_job.name, company_partitions),
    (models_job.name, None),
]

defs = dg.Definitions(
    assets=[*archive_assets, *company_assets, *unpartitioned_assets, publish, *after_publish],
    asset_checks=asset_checks,
    jobs=[*([archives_job] if ALL_FILERS else []), company_job, models_job, *schedules.JOBS],
    schedules=schedules.SCHEDULES,
    sensors=[*sensors.SENSORS, automation.automation_sensor],
    resources={"capex": CapexResource()},
)
