"""The SEC assets of CAPEX_UNIVERSE=all: every filer, from SEC's two nightly bulk archives.

Partitioning: the ~10,000 filers are *not* Dagster partitions. ``raw/sec_bulk_archives``
fetches the two archives (two conditional GETs), and ``staging/facts``,
``staging/filings`` and ``staging/companies`` are single assets that land every company of
the archives in one transaction, reporting each skipped company (member name and reason)
in their metadata and in a warning check. The company partitions remain for the companies
followed closely (pipelines/seeds/companies.csv or CAPEX_TICKERS): ``raw/sec_documents``
still fetches their 10-K/10-Q XBRL documents (segments, share classes), reading their
submissions from the archive instead of asking SEC per company.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl

from pipelines.core import tables
from pipelines.core.manifest import record_manifest
from pipelines.core.resources import CapexResource
from pipelines.core.warehouse import Warehouse
from pipelines.sec.assets import (
    BULK_ARCHIVES,
    COMPANIES,
    FACTS,
    FILINGS,
    SEC_DOCUMENTS,
    sec_documents_asset,
)
from pipelines.sec.bulk import (
    ArchiveDocuments,
    ArchiveError,
    MemberError,
    company_submissions,
    companyfacts_batches,
    tune_for_landing,
)
from pipelines.sec.client import SecClient, company_documents, fetch_archives, stored_archives
from pipelines.sec.company_facts import company_facts
from pipelines.sec.facts import FACTS_INSERT_SELECT
from pipelines.sec.partitions import universe


@dg.asset(
    key=BULK_ARCHIVES,
    pool="sec",
    group_name="sec",
    kinds={"python"},
    description=(
        "SEC's nightly companyfacts.zip and submissions.zip (every filer), streamed to raw/ "
        "with a conditional GET: an unchanged archive is not downloaded again. A truncated "
        "archive or a zip bomb is refused before it is stored."
    ),
)
def sec_bulk_archives(
    context: dg.AssetExecutionContext, capex: CapexResource
) -> dg.MaterializeResult:
    client = SecClient(capex.settings, capex.store, log=context.log.info)
    with fetch_archives(client) as archives:
        fetched = [archives.companyfacts_archive, archives.submissions_archive]
        companies = len(archives.tickers())
    with capex.warehouse.connect() as con:
        record_manifest(con, capex.store, [f.document.key for f in fetched])
    return dg.MaterializeResult(
        metadata={
            "companies": companies,
            "members": dg.MetadataValue.json(
                {f.document.url: f.parsed["members"] for f in fetched}
            ),
            "downloaded": dg.MetadataValue.json({f.document.url: f.downloaded for f in fetched}),
            "bytes_downloaded": dg.MetadataValue.int(client.bytes_downloaded),
            "bytes_stored": dg.MetadataValue.int(sum(f.document.bytes for f in fetched)),
        }
    )


def _stored_archives(capex: CapexResource) -> tuple[SecClient, ArchiveDocuments]:
    return SecClient(capex.settings, capex.store, offline=True), stored_archives(
        capex.settings, capex.store
    )


def _selected(capex: CapexResource, archives: ArchiveDocuments):
    """Tickers by CIK (followed companies' own tickers win), followed companies, CIK filter."""
    followed = {c.cik: c for c in universe(capex.settings).values()}
    tickers = archives.tickers()
    tickers.update({cik: c.ticker for cik, c in followed.items()})
    # CAPEX_TICKERS narrows the universe to those companies
    only = set(followed) if capex.settings.tickers else None
    return tickers, followed, only


def _skipped_check(asset: dg.AssetKey, skipped: dict[str, str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name="no_skipped_companies",
        passed=not skipped,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"skipped": dg.MetadataValue.json(skipped)},
    )


def _followed_facts(client, archives, followed, since):
    """Facts of the companies followed closely, by CIK; failures by ticker."""
    frames, failed = {}, {}
    for cik, company in followed.items():
        try:
            documents = company_documents(client, company, since, archives=archives)
            frames[cik] = company_facts(documents)
        except ArchiveError:
            raise  # the archive itself is bad: nothing lands
        except (ValueError, RuntimeError) as exc:  # a bad member, FetchError, unparseable XBRL
            failed[company.ticker] = str(exc)
    return frames, failed


@dg.asset(
    key=FACTS,
    deps=[BULK_ARCHIVES, SEC_DOCUMENTS],
    group_name="sec",
    kinds={"polars", "duckdb"},
    description=(
        "Every XBRL fact of every company of SEC's companyfacts archive (CAPEX_UNIVERSE=all), "
        "plus, for the companies followed closely, their 10-K/10-Q XBRL documents. A company "
        "whose member is unusable is skipped, named in the metadata, and keeps its previous rows."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "no_skipped_companies",
            asset=FACTS,
            description="Every company of the archive landed (warning only).",
        )
    ],
)
def universe_facts(context: dg.AssetExecutionContext, capex: CapexResource):
    client, archives = _stored_archives(capex)
    with archives:
        tickers, followed, only = _selected(capex, archives)
        frames, skipped = _followed_facts(client, archives, followed, capex.settings.since)
        path = archives.companyfacts_archive.document.path
    others = (only or set(tickers)) - set(followed)
    keep = set(followed) | others  # a failed or skipped company keeps its previous rows
    warehouse = capex.warehouse
    with warehouse.connect() as con:
        tables.FACTS.create(con)
        rows = sum(
            warehouse.replace_rows(tables.FACTS, frame, {"cik": [cik]}, con, FACTS_INSERT_SELECT)
            for cik, frame in frames.items()
        )
        landed = land_archive_facts(warehouse, con, path, tickers, others, log=context.log.info)
        warehouse.delete_rows_not_in(tables.FACTS, "cik", keep, con)
    skipped.update(landed.skipped)
    companies = len(frames) + landed.companies
    context.log.info(f"staging.facts: {rows + landed.rows:,} rows of {companies:,} companies")
    yield dg.MaterializeResult(
        asset_key=FACTS,
        metadata={
            "rows": rows + landed.rows,
            "companies": companies,
            "skipped": dg.MetadataValue.json(skipped),
        },
    )
    yield _skipped_check(FACTS, skipped)


@dataclass
class ArchiveLanding:
    """What :func:`land_archive_facts` wrote: rows, companies, and members skipped."""

    rows: int = 0
    companies: int = 0
    skipped: dict[str, str] = field(default_factory=dict)


def land_archive_facts(
    warehouse: Warehouse,
    con,
    path: Path,
    tickers: dict[int, str | None],
    ciks: set[int] | None,
    *,
    log: Callable[[str], None] = lambda _m: None,
) -> ArchiveLanding:
    """Replace the staging.facts rows of the archive's companies (``ciks``; None: all) by
    their companyfacts members, batch by batch on ``con``, reading ahead while DuckDB writes.

    A skipped member's company keeps its previous rows. ``con`` keeps the archive's DuckDB
    settings (:func:`~pipelines.sec.bulk.tune_for_landing`) afterwards.
    """
    tune_for_landing(con)
    landing = ArchiveLanding()
    for number, batch in enumerate(companyfacts_batches(path, tickers, ciks), start=1):
        landing.skipped.update(batch.skipped)
        landing.rows += warehouse.replace_rows(
            tables.FACTS, batch.frame, {"cik": batch.landed}, con, FACTS_INSERT_SELECT
        )
        landing.companies += len(batch.landed)
        log(f"companyfacts batch {number}: {landing.companies:,} companies landed")
    return landing


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            FILINGS,
            deps=[BULK_ARCHIVES],
            kinds={"polars", "duckdb"},
            description="Every filing of every company of SEC's submissions archive "
            "(CAPEX_UNIVERSE=all), with its primary document's URL.",
        ),
        dg.AssetSpec(
            COMPANIES,
            deps=[BULK_ARCHIVES],
            kinds={"duckdb"},
            description="Name, ticker (null when SEC lists none), fiscal year end and "
            "industry of every company of SEC's submissions archive.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "no_skipped_companies",
            asset=COMPANIES,
            description="Every company of the archive landed (warning only).",
        )
    ],
    group_name="sec",
)
def universe_filings(context: dg.AssetExecutionContext, capex: CapexResource):
    _client, archives = _stored_archives(capex)
    skipped: dict[str, str] = {}
    filings_rows = companies = 0
    since = capex.settings.since
    warehouse = capex.warehouse
    with archives, warehouse.connect() as con:
        tickers, _followed, only = _selected(capex, archives)
        tables.FILINGS.create(con)
        tables.COMPANIES.create(con)
        wanted = sorted(only or set(archives.submissions.members))
        keep = set(wanted)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            filings, rows = [], []
            for cik in chunk:
                try:
                    frame, row = company_submissions(
                        archives.submissions, cik, tickers.get(cik), since
                    )
                except MemberError as exc:
                    skipped[f"CIK{cik:010d}.json"] = str(exc)
                    continue
                filings.append(frame)
                rows.append(row)
            landed = [r["cik"][0] for r in rows]
            match = {"cik": landed}
            filings_rows += warehouse.replace_rows(tables.FILINGS, _concat(filings), match, con)
            companies += warehouse.replace_rows(tables.COMPANIES, _concat(rows), match, con)
        warehouse.delete_rows_not_in(tables.FILINGS, "cik", keep, con)
        warehouse.delete_rows_not_in(tables.COMPANIES, "cik", keep, con)
    context.log.info(f"staging.filings: {filings_rows:,} rows of {companies:,} companies")
    yield dg.MaterializeResult(asset_key=FILINGS, metadata={"rows": filings_rows})
    yield dg.MaterializeResult(
        asset_key=COMPANIES,
        metadata={"rows": companies, "skipped": dg.MetadataValue.json(skipped)},
    )
    yield _skipped_check(COMPANIES, skipped)


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame | None:
    return pl.concat(frames, how="vertical") if frames else None


# raw/sec_bulk_archives runs first (its own job), then raw/sec_documents per followed company,
# then the landing of the whole universe.
ARCHIVE_ASSETS = [sec_bulk_archives]
UNIVERSE_ASSETS = [universe_facts, universe_filings]


def build_company_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The per-company step of CAPEX_UNIVERSE=all: the followed companies' filing documents."""
    return [sec_documents_asset(partitions, archives=True)]
