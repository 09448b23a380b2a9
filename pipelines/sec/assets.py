"""SEC assets, one partition per company: fetch to raw/, then land staging tables from raw/.

Built by :func:`build_assets` for the partitions of the selected companies (resolved from the
settings when the definitions are built, not at import).

The fetch step is the only one that talks to SEC (pool ``sec``); the landing steps read the
same documents back from raw/ through an offline client, so a rebuild with CAPEX_OFFLINE=1
takes exactly the same path and gives the same rows.
"""

import contextlib

import dagster as dg

from pipelines.core import tables
from pipelines.core.http import document_errors
from pipelines.core.manifest import record_manifest
from pipelines.core.resources import CapexResource
from pipelines.sec.client import SecClient, company_documents, stored_archives
from pipelines.sec.company_facts import company_facts
from pipelines.sec.facts import FACTS_INSERT_SELECT
from pipelines.sec.partitions import universe
from pipelines.sec.submissions import company_row

SEC_DOCUMENTS = dg.AssetKey(["raw", "sec_documents"])
BULK_ARCHIVES = dg.AssetKey(["raw", "sec_bulk_archives"])
FACTS = tables.FACTS.key
FILINGS = tables.FILINGS.key
COMPANIES = tables.COMPANIES.key
# One company's rows (tens of thousands) land faster on one DuckDB thread than on several:
# NVIDIA's companyfacts insert in 10 ms against 17 ms on two, as a parallel insert's merging
# costs more than it saves on less than a row group (bench/bench_companyfacts.py)
ONE_COMPANY_THREADS = 1


def _read_back(context: dg.AssetExecutionContext, capex: CapexResource):
    """The company's documents as raw/ holds them (no network)."""
    client = SecClient(capex.settings, capex.store, offline=True)
    return company_documents(
        client, universe(capex.settings)[context.partition_key], capex.settings.since
    )


def sec_documents_asset(
    partitions: dg.PartitionsDefinition, archives: bool = False
) -> dg.AssetsDefinition:
    """The fetch step of each company partition in ``partitions``; with ``archives``
    (CAPEX_UNIVERSE=all) submissions and companyfacts are read from the stored bulk archives
    instead of requested per company."""

    @dg.asset(
        key=SEC_DOCUMENTS,
        deps=[BULK_ARCHIVES] if archives else [],
        partitions_def=partitions,
        pool="sec",
        group_name="sec",
        kinds={"python"},
        description=(
            "Fetches a company's SEC documents into raw/: submissions (with overflow pages back to "
            "CAPEX_SINCE), companyfacts, and the XBRL document of each 10-K and 10-Q filed since "
            "CAPEX_SINCE (with CAPEX_UNIVERSE=all, submissions and companyfacts come from the "
            "bulk archives). Conditional GETs skip unchanged documents; raw.manifest lists every "
            "stored version. With CAPEX_OFFLINE=1 it only checks that raw/ holds them."
        ),
    )
    def sec_documents(
        context: dg.AssetExecutionContext, capex: CapexResource
    ) -> dg.MaterializeResult:
        settings = capex.settings
        target = universe(capex.settings)[context.partition_key]
        client = SecClient(settings, capex.store, log=context.log.info)
        with contextlib.ExitStack() as stack:
            bulk = None
            if archives:
                bulk = stack.enter_context(stored_archives(settings, capex.store))
            documents = company_documents(
                client, target, settings.since, log=context.log.info, archives=bulk
            )
        fetched = list(documents.all_fetched())
        with capex.warehouse.connect(ONE_COMPANY_THREADS) as con:
            record_manifest(con, capex.store, [f.document.key for f in fetched])
        return dg.MaterializeResult(
            metadata={
                "cik": target.cik,
                "documents": len(fetched),
                "filing_documents": len(documents.filing_documents),
                "downloaded_documents": sum(f.downloaded for f in fetched),
                "requests_sent": client.requests_sent,
                "bytes_downloaded": dg.MetadataValue.int(client.bytes_downloaded),
                "bytes_stored": dg.MetadataValue.int(sum(f.document.bytes for f in fetched)),
                "offline": settings.offline,
            }
        )

    return sec_documents


_FACT_KEY_COLUMNS = (
    "taxonomy, concept, unit, period_start, period_end, CAST(dimensions AS VARCHAR), accession"
)


def staging_facts_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """``staging.facts`` landed from raw/, one company partition at a time."""

    @dg.asset(
        key=FACTS,
        deps=[SEC_DOCUMENTS],
        partitions_def=partitions,
        group_name="sec",
        kinds={"polars", "duckdb"},
        description=(
            "Every XBRL fact a company filed, one row per fact and filing: companyfacts plus the "
            "10-K/10-Q XBRL documents (which alone carry dimensional facts such as segment revenue "
            "and per-class share counts). A fact seen in both appears once. Values are exact "
            "(scale and sign applied)."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                "unique_fact_keys",
                asset=FACTS,
                description="No two rows share concept, unit, period, dimensions and accession.",
            ),
            dg.AssetCheckSpec(
                "numeric_values", asset=FACTS, description="Every fact has a numeric value."
            ),
            dg.AssetCheckSpec(
                "has_facts", asset=FACTS, description="The company has facts at all (warning only)."
            ),
        ],
    )
    def staging_facts(context: dg.AssetExecutionContext, capex: CapexResource):
        ticker = context.partition_key
        frame = company_facts(_read_back(context, capex))
        with capex.warehouse.connect(ONE_COMPANY_THREADS) as con:
            capex.warehouse.replace_rows(
                tables.FACTS, frame, {"ticker": ticker}, con, FACTS_INSERT_SELECT
            )
            duplicates = con.execute(
                f"SELECT count(*) FROM (SELECT {_FACT_KEY_COLUMNS} FROM staging.facts "
                f"WHERE ticker = ? GROUP BY ALL HAVING count(*) > 1)",
                [ticker],
            ).fetchone()[0]
            null_values = con.execute(
                "SELECT count(*) FROM staging.facts WHERE ticker = ? AND value IS NULL", [ticker]
            ).fetchone()[0]
        by_source = frame.group_by("source").len().sort("source")
        yield dg.MaterializeResult(
            metadata={
                "rows": frame.height,
                "rows_by_source": dg.MetadataValue.json(dict(by_source.iter_rows())),
                "concepts": frame["concept"].n_unique(),
                "dimensional_rows": int(frame["dimensions"].list.len().fill_null(0).gt(0).sum()),
            }
        )
        yield dg.AssetCheckResult(
            check_name="unique_fact_keys",
            passed=duplicates == 0,
            metadata={"duplicate_keys": duplicates},
        )
        yield dg.AssetCheckResult(
            check_name="numeric_values",
            passed=null_values == 0,
            metadata={"null_values": null_values},
        )
        yield dg.AssetCheckResult(
            check_name="has_facts",
            passed=frame.height > 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rows": frame.height},
        )

    return staging_facts


def staging_filings_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """``staging.filings`` and ``staging.companies`` from each company's submissions."""

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                FILINGS,
                deps=[SEC_DOCUMENTS],
                kinds={"polars", "duckdb"},
                description="Every filing listed in a company's SEC submissions "
                "(all forms), with its primary document's URL.",
            ),
            dg.AssetSpec(
                COMPANIES,
                deps=[SEC_DOCUMENTS],
                kinds={"duckdb"},
                description="Name, fiscal year end (MMDD) and industry of each company, "
                "from SEC submissions.",
            ),
        ],
        partitions_def=partitions,
        group_name="sec",
    )
    def staging_filings(context: dg.AssetExecutionContext, capex: CapexResource):
        documents = _read_back(context, capex)
        target = documents.company
        with document_errors(documents.submissions.document.url, "submissions document"):
            company_frame = company_row(documents.submissions.parsed, target.ticker, target.cik)
        with capex.warehouse.connect(ONE_COMPANY_THREADS) as con:
            filings = capex.warehouse.replace_rows(
                tables.FILINGS, documents.filings, {"ticker": target.ticker}, con
            )
            capex.warehouse.replace_rows(
                tables.COMPANIES, company_frame, {"ticker": target.ticker}, con
            )
        yield dg.MaterializeResult(asset_key=FILINGS, metadata={"rows": filings})
        yield dg.MaterializeResult(asset_key=COMPANIES, metadata={"rows": 1})

    return staging_filings


def build_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The SEC assets, partitioned by ``partitions`` (one partition per company)."""
    return [
        sec_documents_asset(partitions),
        staging_facts_asset(partitions),
        staging_filings_asset(partitions),
    ]
