"""Partitions: one per company of the universe (CAPEX_TICKERS or the seed file)."""

from __future__ import annotations

from functools import cache

import dagster as dg

from pipelines.core.config import load_settings
from pipelines.core.rawstore import RawStore
from pipelines.core.universe import Company, resolve_universe


@cache
def universe() -> dict[str, Company]:
    """The selected companies by ticker, resolving unknown tickers through SEC once."""
    settings = load_settings()

    def sec_tickers() -> dict[str, Company]:
        from pipelines.sec.client import SecClient

        return SecClient(settings, RawStore(settings.raw_dir)).company_tickers()

    return {c.ticker: c for c in resolve_universe(settings, sec_tickers)}


def company(ticker: str) -> Company:
    """The company of a partition key."""
    return universe()[ticker]


company_partitions = dg.StaticPartitionsDefinition(list(universe()))
