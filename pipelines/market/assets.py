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
import polars as pl

from pipelines.core import tables
from pipelines.core.checks import KEPT_METADATA
from pipelines.core.manifest import record_manifest
from pipelines.core.resources import CapexResource
from pipelines.market.price_checks import compare_answers, split_disagreements
from pipelines.market.prices import (
    PriceLoad,
    load_prices,
    offline_chain,
    other_answers,
    price_universe,
)
from pipelines.market.shares import (
    FILINGS_SOURCE,
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
        "and NDX (Nasdaq-100), per ticker from the first provider of the chain that answers "
        "with valid data: CAPEX_PRICES_DIR (TICKER.csv files) when set, then "
        "CAPEX_PRICE_SOURCES (default yahoo,stooq: Yahoo's chart API, refreshed with the days "
        "after the last stored one; Stooq's CSV with CAPEX_STOOQ_APIKEY). `source` names the "
        "provider, `close_adjustment` what its close is adjusted for ('split' for Yahoo, "
        "'split+dividend' for Stooq), `adj_close` is adjusted for dividends too. Bodies are "
        "kept in raw/; CAPEX_OFFLINE=1 rebuilds from there. Yahoo's splits land in "
        "staging.stock_splits (source 'yahoo'). A ticker no provider can answer keeps its "
        "previous rows and fails the check every_ticker_loaded (an ERROR), which names each "
        "provider's reason; the other tickers still land."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "every_ticker_loaded",
            asset=PRICES,
            description="Every company and benchmark of the universe loaded in this run (the "
            "metadata names each one that did not, and each provider's reason).",
        ),
        dg.AssetCheckSpec(
            "one_row_per_day", asset=PRICES, description="No two rows of a ticker share a date."
        ),
        dg.AssetCheckSpec(
            "sane_prices",
            asset=PRICES,
            description="Close is positive and low ≤ close ≤ high where all are given.",
        ),
        dg.AssetCheckSpec(
            "providers_agree",
            asset=PRICES,
            description="Where another provider's answer for a ticker is in raw/ (e.g. after "
            "`capex prices check`), its closes match the landed ones within 1% on common days, "
            "after split adjustment (warning only).",
        ),
        dg.AssetCheckSpec(
            "splits_agree_with_filings",
            asset=PRICES,
            description="The splits a price provider reports match those derived from the "
            "filings' share counts, where both could know them (warning only).",
        ),
    ],
)
def staging_prices(context: dg.AssetExecutionContext, capex: CapexResource):
    settings = capex.settings
    loads = load_prices(
        settings, capex.store, price_universe(universe(settings)), log=context.log.info
    )
    landed = [load for load in loads if load.answer is not None]
    failed = [load for load in loads if load.answer is None]
    for load in failed:
        context.log.error(load.error)
    with capex.warehouse.connect() as con:
        insane, duplicates = land_prices(capex, con, landed)
        split_lines = check_splits(con, landed)
        kept = kept_prices(con, failed)
    compared, disagreements = cross_check(offline_chain(settings, capex.store), landed)
    yield dg.MaterializeResult(
        metadata={**prices_metadata(capex, loads), **_kept_metadata(failed, kept)}
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
    yield dg.AssetCheckResult(
        check_name="providers_agree",
        passed=not disagreements,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "compared": dg.MetadataValue.md("\n".join(compared) or "no second source in raw/"),
            "disagreements": dg.MetadataValue.md("\n".join(disagreements) or "none"),
        },
    )
    yield dg.AssetCheckResult(
        check_name="splits_agree_with_filings",
        passed=not split_lines,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"disagreements": dg.MetadataValue.md("\n".join(split_lines) or "none")},
    )


def land_prices(capex: CapexResource, con, landed: list[PriceLoad]) -> tuple[int, int]:
    """Replace each landed ticker's rows (and its provider's splits); record raw/ documents.
    Returns the counts of insane rows and of duplicated days in ``staging.prices``."""
    tables.PRICES.create(con)
    tables.STOCK_SPLITS.create(con)
    for load in landed:
        ticker = load.symbol.ticker
        capex.warehouse.replace_rows(tables.PRICES, load.frame, {"ticker": ticker}, con)
        if load.answer.splits is not None:
            capex.warehouse.replace_rows(
                tables.STOCK_SPLITS,
                provider_split_rows(load.answer.splits),
                {"ticker": ticker, "source": load.provider},
                con,
            )
    raw_keys = [key for load in landed for key in load.answer.raw_keys]
    if raw_keys:
        record_manifest(con, capex.store, list(dict.fromkeys(raw_keys)))
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
    return insane, duplicates


def provider_split_rows(splits: pl.DataFrame) -> pl.DataFrame:
    """A provider's splits as ``staging.stock_splits`` rows (dated exactly, no share counts)."""
    return splits.select(
        "ticker",
        "ratio",
        "split_date",
        "source",
        pl.lit("price provider").alias("detected_from"),
    )


def check_splits(con, landed: list[PriceLoad]) -> list[str]:
    """:func:`split_disagreements` of this run's provider splits against the filings' ones."""
    provider = [load.answer.splits for load in landed if load.answer.splits is not None]
    if not provider:
        return []
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'staging'"
        ).fetchall()
    }
    if "shares_outstanding" not in tables:
        return []
    filings = con.execute(
        "SELECT * FROM staging.stock_splits WHERE source = ?", [FILINGS_SOURCE]
    ).pl()
    first_count = dict(
        con.execute(
            "SELECT ticker, min(period_end) FROM staging.shares_outstanding GROUP BY ticker"
        ).fetchall()
    )
    covered = {
        load.symbol.ticker: (load.frame["date"].min(), load.frame["date"].max())
        for load in landed
        if load.answer.splits is not None
    }
    return split_disagreements(pl.concat(provider), filings, covered, first_count)


def cross_check(chain, landed: list[PriceLoad]) -> tuple[list[str], list[str]]:
    """Each landed ticker's closes against every other provider's answer held in raw/ (or the
    local folder): lines for the pairs compared, and for those differing by more than 1%."""
    compared, lines = [], []
    for load in landed:
        ticker = load.symbol.ticker
        answers = other_answers(chain, load)
        for other, common, differences in compare_answers(answers, load.provider):
            compared.append(f"{ticker}: {load.provider} vs {other} on {common} days")
            if differences.height:
                worst = differences.sort(pl.col("difference").abs(), descending=True).row(
                    0, named=True
                )
                lines.append(
                    f"{ticker}: {load.provider} and {other} differ by more than 1% on "
                    f"{differences.height} of {common} common days (worst {worst['date']}: "
                    f"{worst['close_a']:g} vs {worst['close_b']:g})"
                )
    return compared, lines


def prices_metadata(capex: CapexResource, loads: list[PriceLoad]) -> dict:
    """The materialization's metadata: coverage per ticker, and which provider won and why
    the earlier ones were passed over (``capex run`` prints it)."""
    settings = capex.settings
    landed = [load for load in loads if load.answer is not None]
    coverage = "\n".join(
        f"| {load.symbol.ticker} | {load.frame.height} | {load.frame['date'].min()} | "
        f"{load.frame['date'].max()} | {load.provider} | "
        f"{'; '.join(f'{n}: {why}' for n, why in load.passed_over) or '-'} |"
        for load in landed
    )
    chain = ["file"] * (settings.prices_dir is not None) + list(settings.price_sources)
    return {
        "dagster/row_count": sum(load.frame.height for load in landed),
        "tickers_loaded": len(landed),
        "tickers_failed": len(loads) - len(landed),
        "chain": ", ".join(chain),
        "coverage": dg.MetadataValue.md(
            "| ticker | days | first | last | provider | passed over |\n|---|---|---|---|---|---|\n"
            + coverage
        ),
        "providers": dg.MetadataValue.json(
            {
                load.symbol.ticker: {
                    "provider": load.provider,
                    "days": load.frame.height if load.answer else 0,
                    "note": load.answer.note if load.answer else "",
                    "passed_over": [list(p) for p in load.passed_over],
                }
                for load in loads
            }
        ),
        "documents_downloaded": sum(load.answer.downloaded for load in landed),
        "offline": settings.offline,
    }


def kept_prices(con, failed: list[PriceLoad]) -> list[tuple]:
    """(ticker, days, last day) that earlier runs left for the tickers that failed now."""
    return con.execute(
        "SELECT ticker, count(*), max(date) FROM staging.prices "
        "WHERE list_contains(?, ticker) GROUP BY ticker ORDER BY ticker",
        [[load.symbol.ticker for load in failed]],
    ).fetchall()


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
            r[0]
            for r in con.execute(
                "SELECT DISTINCT ticker FROM staging.facts WHERE ticker IS NOT NULL"
            ).fetchall()
        ]
        shares, splits = shares_outstanding(share_facts, ratio_facts)
        capex.warehouse.replace_rows(tables.SHARES_OUTSTANDING, shares, {}, con)
        capex.warehouse.replace_rows(tables.STOCK_SPLITS, splits, {"source": FILINGS_SOURCE}, con)
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
