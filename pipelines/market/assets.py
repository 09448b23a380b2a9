"""Price and share-count assets: ``staging.prices``, ``staging.shares_outstanding``, splits.

Both are unpartitioned: one step loads every price series of the universe (the companies plus
the benchmarks SPX and NDX), replacing each ticker's rows, and one rebuilds the share counts of
every company from ``staging.facts``. A ticker whose prices fail is an ERROR check naming it,
not a failed step, so (as with a company whose SEC load fails) the marts and the published
warehouse still follow. The valuation marts
(``sql/marts/valuation_daily.sql``, ``price_returns.sql``, ``return_decomposition.sql``) read
them.
"""

import dagster as dg

from pipelines.core import tables
from pipelines.core.checks import KEPT_METADATA
from pipelines.core.manifest import record_manifest
from pipelines.core.resources import CapexResource
from pipelines.market.prices import load_prices, price_universe
from pipelines.market.shares import (
    RATIO_FACTS_SQL,
    SHARE_FACTS_SQL,
    shares_outstanding,
)
from pipelines.orchestration.automation import follow_upstream
from pipelines.sec.partitions import universe

PRICES = tables.PRICES.key
SHARES = tables.SHARES_OUTSTANDING.key
SPLITS = tables.STOCK_SPLITS.key
FACTS = tables.FACTS.key


@dg.asset(
    key=PRICES,
    group_name="prices",
    kinds={"polars", "duckdb"},
    description=(
        "Daily open/high/low/close/volume of every company and of the benchmarks SPX (S&P 500) "
        "and NDX (Nasdaq-100). From Stooq (CAPEX_PRICES_URL/q/d/l/?s=SYMBOL&i=d, bodies kept in "
        "raw/, CAPEX_OFFLINE=1 rebuilds from there) or, when CAPEX_PRICES_DIR is set, from "
        "TICKER.csv files there (Stooq layout or Yahoo-style export). Close is split-adjusted. "
        "Each ticker's rows are replaced as a whole. A ticker that cannot be loaded (unknown "
        "symbol, bad CSV, missing file) keeps its previous rows and fails the check "
        "every_ticker_loaded, which names it and why; the other tickers still land, so one bad "
        "symbol does not hold back the marts and the published warehouse."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "every_ticker_loaded",
            asset=PRICES,
            description="Every company and benchmark of the universe loaded in this run (the "
            "metadata names each one that did not, and why).",
        ),
        dg.AssetCheckSpec(
            "one_row_per_day", asset=PRICES, description="No two rows of a ticker share a date."
        ),
        dg.AssetCheckSpec(
            "sane_prices",
            asset=PRICES,
            description="Close is positive and low ≤ close ≤ high where all are given.",
        ),
    ],
)
def staging_prices(context: dg.AssetExecutionContext, capex: CapexResource):
    settings = capex.settings
    loads = load_prices(
        settings, capex.store, price_universe(universe(settings)), log=context.log.info
    )
    landed = [load for load in loads if load.error is None]
    failed = [load for load in loads if load.error is not None]
    for load in failed:
        context.log.error(load.error)
    with capex.warehouse.connect() as con:
        con.execute(tables.PRICES.ddl())
        for load in landed:
            capex.warehouse.replace_rows(
                tables.PRICES, load.frame, {"ticker": load.symbol.ticker}, con
            )
        kept = con.execute(
            "SELECT ticker, count(*), max(date) FROM staging.prices "
            "WHERE list_contains(?, ticker) GROUP BY ticker ORDER BY ticker",
            [[load.symbol.ticker for load in failed]],
        ).fetchall()
        raw_keys = [load.raw_key for load in landed if load.raw_key]
        if raw_keys:
            record_manifest(con, capex.store, raw_keys)
        duplicates = con.execute(
            "SELECT count(*) FROM (SELECT ticker, date FROM staging.prices "
            "GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
        # Stooq rounds to 3-5 significant digits: 0.1% slack on close within [low, high].
        insane = con.execute(
            "SELECT count(*) FROM staging.prices WHERE close <= 0 "
            "OR (low IS NOT NULL AND high IS NOT NULL AND (low > high OR close < low * 0.999 "
            "OR close > high * 1.001))"
        ).fetchone()[0]
    coverage = "\n".join(
        f"| {load.symbol.ticker} | {load.frame.height} | {load.frame['date'].min()} | "
        f"{load.frame['date'].max()} | {load.frame['source'][0]} |"
        for load in landed
    )
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(load.frame.height for load in landed),
            "tickers_loaded": len(landed),
            "tickers_failed": len(failed),
            "from": str(settings.prices_dir) if settings.prices_dir else settings.prices_url,
            "coverage": dg.MetadataValue.md(
                "| ticker | days | first | last | source |\n|---|---|---|---|---|\n" + coverage
            ),
            "documents_downloaded": sum(load.downloaded for load in landed),
            "bytes_stored": dg.MetadataValue.int(
                sum(capex.store.latest(load.raw_key).bytes for load in landed if load.raw_key)
            ),
            "offline": settings.offline,
            **_kept_metadata(failed, kept),
        }
    )
    yield dg.AssetCheckResult(
        check_name="every_ticker_loaded",
        passed=not failed,
        metadata={
            "failed": ", ".join(load.symbol.ticker for load in failed) or "none",
            "errors": dg.MetadataValue.md("\n".join(f"* {load.error}" for load in failed)),
        },
    )
    yield dg.AssetCheckResult(
        check_name="one_row_per_day", passed=duplicates == 0, metadata={"duplicates": duplicates}
    )
    yield dg.AssetCheckResult(
        check_name="sane_prices", passed=insane == 0, metadata={"bad_rows": insane}
    )


def _kept_metadata(failed: list, kept: list[tuple]) -> dict:
    """What the previous runs left for the tickers that failed now (for `capex run`)."""
    if not failed:
        return {}
    rows = {ticker: (count, last) for ticker, count, last in kept}
    parts = [
        f"{load.symbol.ticker} {rows[load.symbol.ticker][0]} days up to "
        f"{rows[load.symbol.ticker][1]}"
        if load.symbol.ticker in rows
        else f"{load.symbol.ticker} nothing (never loaded)"
        for load in failed
    ]
    return {KEPT_METADATA: "prices: " + ", ".join(parts)}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SHARES,
            deps=[FACTS],
            automation_condition=follow_upstream(),
            kinds={"polars", "duckdb"},
            description=(
                "Shares outstanding from each filing's cover page "
                "(dei:EntityCommonStockSharesOutstanding), share classes summed when a filing "
                "reports no total (Alphabet: A + B + C), and split-adjusted (split_factor) to "
                "match split-adjusted prices. One row per filing and count date (period_end); "
                "`filed` says from when it was known."
            ),
        ),
        dg.AssetSpec(
            SPLITS,
            deps=[FACTS],
            automation_condition=follow_upstream(),
            kinds={"polars", "duckdb"},
            description=(
                "Stock splits, detected from jumps in the share count and/or the filed "
                "StockholdersEquityNoteStockSplitConversionRatio1 facts; `detected_from` says "
                "which ('filing+share_count', 'share_count', 'filing')."
            ),
        ),
    ],
    group_name="prices",
    check_specs=[
        dg.AssetCheckSpec(
            "every_company_has_shares",
            asset=SHARES,
            description="Each company with facts has a cover-page share count (warning only: "
            "Alphabet's exist only in its filing documents).",
        ),
    ],
)
def staging_shares(capex: CapexResource):
    with capex.warehouse.connect() as con:
        if not con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'staging' AND table_name = 'facts'"
        ).fetchone()[0]:
            raise dg.Failure(
                description="staging.facts does not exist yet: materialise the SEC assets "
                "(`capex run`) before the share counts"
            )
        share_facts = con.execute(SHARE_FACTS_SQL).pl()
        ratio_facts = con.execute(RATIO_FACTS_SQL).pl()
        companies = [
            r[0] for r in con.execute("SELECT DISTINCT ticker FROM staging.facts").fetchall()
        ]
        shares, splits = shares_outstanding(share_facts, ratio_facts)
        capex.warehouse.replace_rows(tables.SHARES_OUTSTANDING, shares, {}, con)
        capex.warehouse.replace_rows(tables.STOCK_SPLITS, splits, {}, con)
    without = sorted(set(companies) - set(shares["ticker"].to_list()))
    yield dg.MaterializeResult(
        asset_key=SHARES,
        metadata={
            "rows": shares.height,
            "tickers": shares["ticker"].n_unique(),
            "class_summed_rows": int((shares["share_classes"] > 0).sum()),
        },
    )
    yield dg.MaterializeResult(
        asset_key=SPLITS,
        metadata={
            "rows": splits.height,
            "splits": dg.MetadataValue.md(
                "| ticker | ratio | between | and | detected from |\n|---|---|---|---|---|\n"
                + "\n".join(
                    f"| {r['ticker']} | {r['ratio']:g} | {r['after_date']} | "
                    f"{r['before_date'] or r['ratio_fact_date']} | {r['detected_from']} |"
                    for r in splits.iter_rows(named=True)
                )
            ),
        },
    )
    yield dg.AssetCheckResult(
        check_name="every_company_has_shares",
        asset_key=SHARES,
        passed=not without,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"without_share_count": ", ".join(without) or "none"},
    )


ASSETS = [staging_prices, staging_shares]
