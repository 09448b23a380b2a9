"""The selected companies and their Dagster partitions: one per company.

Resolved from the settings when the definitions are built (never at import): CAPEX_TICKERS or
the seed file, with tickers beyond the seed looked up in SEC's ticker map once per process.
"""

from __future__ import annotations

from functools import cache

import dagster as dg

from pipelines.core.config import Settings
from pipelines.core.rawstore import RawStore
from pipelines.core.universe import Company, resolve_universe
from pipelines.sec.client import SecClient


@cache
def universe(settings: Settings) -> dict[str, Company]:
    """The companies selected by ``settings``, by ticker, resolving unknown tickers through SEC."""

    def sec_tickers() -> dict[str, Company]:
        return SecClient(settings, RawStore(settings.raw_dir)).company_tickers()

    return {c.ticker: c for c in resolve_universe(settings, sec_tickers)}


def company_partitions(settings: Settings) -> dg.StaticPartitionsDefinition:
    """One partition per selected company, keyed by ticker."""
    return dg.StaticPartitionsDefinition(list(universe(settings)))
