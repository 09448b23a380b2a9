"""Every job, defined once: what ``capex run``, the schedules and the sensors launch.

* ``company_refresh`` (partitioned by company): fetch and land one company's SEC documents;
* ``models_refresh``: prices, the SQL models and marts, news, the published warehouse, the report;
* ``prices_refresh`` and ``news_refresh``: one source group and everything downstream of it,
  for their schedules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

PRICES_GROUP = "prices"
NEWS_GROUP = "news"


@dataclass(frozen=True)
class Jobs:
    """The jobs of the code location."""

    company: dg.UnresolvedAssetJobDefinition
    models: dg.UnresolvedAssetJobDefinition
    prices: dg.UnresolvedAssetJobDefinition
    news: dg.UnresolvedAssetJobDefinition

    def all(self) -> list[dg.UnresolvedAssetJobDefinition]:
        """Every job, for the Definitions."""
        return [self.company, self.models, self.prices, self.news]


def build_jobs(
    company_assets: Sequence[dg.AssetsDefinition],
    model_assets: Sequence[dg.AssetsDefinition],
) -> Jobs:
    """The jobs over ``company_assets`` (partitioned) and everything else (``model_assets``)."""
    return Jobs(
        company=dg.define_asset_job(
            "company_refresh",
            selection=dg.AssetSelection.assets(*company_assets),
            description="Fetch and land one company's SEC documents (one run per company).",
        ),
        models=dg.define_asset_job(
            "models_refresh",
            selection=dg.AssetSelection.assets(*model_assets),
            description="Rebuild the SQL models and marts, publish the warehouse, write the "
            "report.",
        ),
        prices=dg.define_asset_job(
            "prices_refresh",
            selection=dg.AssetSelection.groups(PRICES_GROUP).downstream(),
            description="Fetch prices, rebuild share counts and everything downstream of them "
            "(valuation marts, the published warehouse, the report).",
        ),
        news=dg.define_asset_job(
            "news_refresh",
            selection=dg.AssetSelection.groups(NEWS_GROUP).downstream(),
            description="Fetch the news sources, extract claims and check them against the "
            "filings, then publish the warehouse and the report.",
        ),
    )
