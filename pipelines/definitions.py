"""The Dagster code location: ``dagster dev -m pipelines.definitions``.

Importing this module does no work: Dagster calls :func:`defs` when it loads the code location,
and ``capex run`` calls :func:`build_definitions` with its own settings. The definitions are a
function of the settings (the companies, the schedules' cron strings, the sensors' intervals),
built once per load.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from pipelines.core.config import Settings, load_settings
from pipelines.core.resources import CapexResource
from pipelines.market import assets as market
from pipelines.models import assets as models
from pipelines.models.publish import published_warehouse_asset
from pipelines.news import assets as news
from pipelines.orchestration import automation
from pipelines.orchestration.jobs import Jobs, build_jobs
from pipelines.orchestration.schedules import build_schedules
from pipelines.report import assets as report
from pipelines.sec import assets as sec
from pipelines.sec import freshness
from pipelines.sec.partitions import company_partitions
from pipelines.sec.sensors import build_new_filing_sensor


@dataclass(frozen=True)
class CodeLocation:
    """The definitions, and what ``capex run`` executes in order: the company job once per
    partition key, then the models job."""

    definitions: dg.Definitions
    jobs: Jobs
    partitions: dg.PartitionsDefinition


def build_code_location(settings: Settings) -> CodeLocation:
    """Every asset, check, job, schedule and sensor for ``settings``."""
    partitions = company_partitions(settings)
    company_assets = sec.build_assets(partitions)
    unpartitioned: list[dg.AssetsDefinition] = [*market.ASSETS, *models.ASSETS, *news.ASSETS]
    publish = published_warehouse_asset(
        [key for a in company_assets + unpartitioned for key in a.keys]
    )
    # The report reads the published warehouse, so it comes after the publish step.
    after_publish = [*report.ASSETS]
    jobs = build_jobs(company_assets, [*unpartitioned, publish, *after_publish])
    definitions = dg.Definitions(
        assets=[*company_assets, *unpartitioned, publish, *after_publish],
        asset_checks=[*models.CHECKS, *news.CHECKS, *freshness.build_checks(partitions)],
        jobs=jobs.all(),
        schedules=build_schedules(settings, jobs, partitions.get_partition_keys()),
        sensors=[build_new_filing_sensor(settings, jobs.company), automation.automation_sensor],
        resources={"capex": CapexResource.for_settings(settings)},
    )
    return CodeLocation(definitions, jobs, partitions)


def build_definitions(settings: Settings) -> dg.Definitions:
    """The Dagster definitions for ``settings``."""
    return build_code_location(settings).definitions


@dg.definitions
def defs() -> dg.Definitions:
    """The code location as Dagster loads it: the definitions for the environment's settings."""
    return build_definitions(load_settings())
