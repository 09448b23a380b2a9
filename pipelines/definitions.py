"""The Dagster code location: ``dagster dev -m pipelines.definitions``.

Importing this module does no work: Dagster calls :func:`defs` when it loads the code location,
and ``capex run`` calls :func:`build_definitions` with its own settings. The definitions are a
function of the settings (the companies, the schedules' cron strings, the sensors' intervals),
built once per load.
"""

from __future__ import annotations

import gc
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
from pipelines.sec import bulk_assets, freshness
from pipelines.sec.partitions import company_partitions
from pipelines.sec.sensors import build_new_filing_sensor


@dataclass(frozen=True)
class CodeLocation:
    """The definitions, and what ``capex run`` executes in order: the company job once per
    partition key, then the models job."""

    definitions: dg.Definitions
    jobs: Jobs
    partitions: dg.PartitionsDefinition

    def run_plan(self) -> list[tuple[str, str | None]]:
        """The (job, partition key) runs of ``capex run``, in order."""
        plan = [(self.jobs.archives.name, None)] if self.jobs.archives else []
        plan += [(self.jobs.company.name, key) for key in self.partitions.get_partition_keys()]
        return [*plan, (self.jobs.models.name, None)]


def build_code_location(settings: Settings) -> CodeLocation:
    """Every asset, check, job, schedule and sensor for ``settings``."""
    partitions = company_partitions(settings)
    # CAPEX_UNIVERSE=all: every filer from SEC's bulk archives (pipelines/sec/bulk_assets.py
    # says why they are not partitions); the company partitions keep the followed companies.
    every_filer = settings.universe == "all"
    archive_assets = bulk_assets.ARCHIVE_ASSETS if every_filer else []
    if every_filer:
        company_assets = bulk_assets.build_company_assets(partitions)
    else:
        company_assets = sec.build_assets(partitions)
    unpartitioned: list[dg.AssetsDefinition] = [
        *(bulk_assets.UNIVERSE_ASSETS if every_filer else []),
        *market.ASSETS,
        *models.ASSETS,
        *news.ASSETS,
    ]
    publish = published_warehouse_asset(
        [key for a in archive_assets + company_assets + unpartitioned for key in a.keys]
    )
    # The report reads the published warehouse, so it comes after the publish step.
    after_publish = [*report.ASSETS]
    jobs = build_jobs(company_assets, [*unpartitioned, publish, *after_publish], archive_assets)
    # the freshness checks are per company partition of staging/facts, one asset with all
    fresh = [] if every_filer else freshness.build_checks(partitions)
    definitions = dg.Definitions(
        assets=[*archive_assets, *company_assets, *unpartitioned, publish, *after_publish],
        asset_checks=[*models.CHECKS, *news.CHECKS, *fresh],
        jobs=jobs.all(),
        schedules=build_schedules(settings, jobs, partitions.get_partition_keys()),
        sensors=[build_new_filing_sensor(settings, jobs.company), automation.automation_sensor],
        resources={"capex": CapexResource.for_settings(settings)},
    )
    return CodeLocation(definitions, jobs, partitions)


def build_definitions(settings: Settings) -> dg.Definitions:
    """The Dagster definitions for ``settings``."""
    return build_code_location(settings).definitions


def freeze_loaded_objects() -> None:
    """Take every object alive now out of the cyclic garbage collector's reach, for good.

    For a process that has just loaded the code location and runs it until it exits (Dagster's
    code server and step processes, through :func:`defs`). The imported modules and the
    definitions, ~200,000 objects, live as long as the process; left to the collector, every
    full collection walks them, and the interpreter's exit walks them again: ~0.7 s of CPU per
    process at exit alone. Four processes landing companies at once on two cores paid it four
    times (bench/bench_ducklake.py). Objects made later are collected as before.
    """
    gc.freeze()


@dg.definitions
def defs() -> dg.Definitions:
    """The code location as Dagster loads it: the definitions for the environment's settings."""
    definitions = build_definitions(load_settings())
    freeze_loaded_objects()
    return definitions
