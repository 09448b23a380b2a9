"""The companies capex-watch follows: the seed file, CAPEX_TICKERS, and SEC's ticker map."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from pipelines.core.config import ConfigError, Settings


@dataclass(frozen=True)
class Company:
    """A company to load: its ticker, SEC Central Index Key and name."""

    ticker: str
    cik: int
    name: str

    @property
    def cik10(self) -> str:
        """The CIK zero-padded to ten digits, as SEC's JSON file names spell it."""
        return f"{self.cik:010d}"


def seed_companies() -> dict[str, Company]:
    """The companies listed in pipelines/seeds/companies.csv, by ticker."""
    text = resources.files("pipelines.seeds").joinpath("companies.csv").read_text()
    rows = csv.DictReader(text.splitlines())
    return {
        row["ticker"].upper(): Company(row["ticker"].upper(), int(row["cik"]), row["name"])
        for row in rows
    }


def parse_company_tickers(document: dict) -> dict[str, Company]:
    """Index SEC's /files/company_tickers.json ({"0": {"cik_str", "ticker", "title"}, ...})."""
    companies = {}
    for entry in document.values():
        ticker = str(entry["ticker"]).upper()
        companies.setdefault(ticker, Company(ticker, int(entry["cik_str"]), entry["title"]))
    return companies


def resolve_universe(
    settings: Settings, sec_tickers: Callable[[], dict[str, Company]] | None = None
) -> list[Company]:
    """The companies selected by CAPEX_TICKERS (default: the seed file), in the order given.

    Tickers missing from the seed file are looked up in SEC's ticker map through
    ``sec_tickers`` (called at most once); one that cannot be resolved raises
    :class:`ConfigError` naming it.
    """
    seeds = seed_companies()
    wanted = settings.tickers or tuple(seeds)
    known = dict(seeds)
    missing = [t for t in wanted if t not in known]
    if missing and sec_tickers is not None:
        sec = sec_tickers()
        known.update({t: sec[t] for t in missing if t in sec})
    unresolved = [t for t in wanted if t not in known]
    if unresolved:
        raise ConfigError(
            f"unknown ticker(s) {', '.join(unresolved)}: not in pipelines/seeds/companies.csv "
            "nor in SEC's company_tickers.json; check CAPEX_TICKERS"
        )
    return [known[t] for t in dict.fromkeys(wanted)]
