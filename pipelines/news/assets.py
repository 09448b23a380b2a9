"""News assets: articles → figures → claims → checks against the filed marts.

Unpartitioned: the news set is small, and an article syndicated on two sites must be stored
once, which a per-source partition could not see. Every table is rebuilt whole from raw/ (feeds
keep every version there), so a run with CAPEX_OFFLINE=1 rebuilds the same rows.
"""

import dagster as dg
import polars as pl

from pipelines.core import tables
from pipelines.core.checks import KEPT_METADATA
from pipelines.core.http import FetchError
from pipelines.core.manifest import record_manifest
from pipelines.core.resources import CapexResource
from pipelines.market.ecb import fetch_ecb_rates
from pipelines.news.checks import check_claims
from pipelines.news.claims.calendar import fiscal_calendars
from pipelines.news.claims.resolver import ClaimResolver, resolve_claims
from pipelines.news.claims.sentences import article_sentences
from pipelines.news.crawler import NewsCrawler, build_articles, news_config
from pipelines.news.numbers import extract_numbers
from pipelines.orchestration.automation import follow_upstream

NEWS_ARTICLES = tables.NEWS_ARTICLES.key
NEWS_NUMBERS = tables.NEWS_NUMBERS.key
FX_RATES = tables.FX_RATES.key
NEWS_CLAIMS = tables.NEWS_CLAIMS.key
CLAIM_CHECKS = tables.CLAIM_CHECKS.key
METRIC_QUARTERLY = tables.table_key("marts.metric_quarterly")
SEGMENT_REVENUE = tables.table_key("marts.segment_revenue")
FISCAL_QUARTERS = tables.table_key("staging.int_fiscal_quarters")
METRIC_ANNUAL = tables.table_key("staging.int_metric_annual")


def _read(capex: CapexResource, table: tables.Table | str) -> pl.DataFrame | None:
    """The rows of ``table`` (a landed table, in its contract's types, or a SQL model by name),
    or None when it does not exist (yet)."""
    name = table.name if isinstance(table, tables.Table) else table
    schema_name, table_name = name.split(".")
    with capex.warehouse.connect() as con:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema_name, table_name],
        ).fetchone()[0]
        if not exists:
            return None
        frame = con.execute(f"SELECT * FROM {name}").pl()
    return frame.cast(table.columns) if isinstance(table, tables.Table) else frame


def _write(capex: CapexResource, table: tables.Table, frame: pl.DataFrame) -> int:
    return capex.warehouse.replace_rows(table, frame, match={})


@dg.asset(
    key=NEWS_ARTICLES,
    group_name="news",
    pool="news",
    kinds={"python", "polars", "duckdb"},
    description=(
        "News articles from CAPEX_NEWS_SOURCES and CAPEX_NEWS_CONFIG (RSS/Atom feeds are "
        "followed to their articles; robots.txt honoured, per-host rate limit, raw/ keeps every "
        "page and every feed version). One row per article (same canonical URL or same text: "
        "stored once) with its title, publication time, author, language and its own text "
        "only. Pages without an article body are reported in the metadata, not stored. A "
        "feed or page that cannot be fetched keeps the versions raw/ holds (check "
        "every_source_fetched names it)."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "every_source_fetched",
            asset=NEWS_ARTICLES,
            description="Every feed and article could be fetched in this run (those that "
            "failed are read from the versions raw/ holds; the metadata names them).",
        )
    ],
)
def news_articles(context: dg.AssetExecutionContext, capex: CapexResource):
    crawler = NewsCrawler(capex.settings, capex.store, log=context.log.info)
    report = crawler.crawl()
    built = build_articles(report.pages)
    for url, why in report.skipped:
        context.log.warning(f"skipped {url}: {why}")
    for url, why in report.failed:
        context.log.warning(f"failed {url}: {why}")
    for _url, why in built.no_body:
        context.log.warning(f"no article body: {why}")
    if not crawler.config.sources:
        context.log.info("no news sources configured (CAPEX_NEWS_SOURCES / CAPEX_NEWS_CONFIG)")
    with capex.warehouse.connect() as con:
        record_manifest(con, capex.store, report.documents)
        rows = capex.warehouse.replace_rows(tables.NEWS_ARTICLES, built.articles, match={}, con=con)
    kept = (
        {KEPT_METADATA: f"news: {len(report.failed)} feed(s)/page(s) failed; raw/ versions used"}
        if report.failed
        else {}
    )
    yield dg.MaterializeResult(
        metadata={
            **kept,
            "rows": rows,
            "sources": len(crawler.config.sources),
            "feeds": report.feeds,
            "pages": len(report.pages),
            "duplicates": len(built.duplicates),
            "pages_without_article": dg.MetadataValue.json(
                [{"url": u, "why": w} for u, w in built.no_body]
            ),
            "skipped": dg.MetadataValue.json([{"url": u, "why": w} for u, w in report.skipped]),
            "failed": dg.MetadataValue.json([{"url": u, "why": w} for u, w in report.failed]),
            "requests_sent": report.requests_sent,
            "bytes_downloaded": dg.MetadataValue.int(report.bytes_downloaded),
            "body_bytes": dg.MetadataValue.int(
                int(built.articles["body_text"].str.len_bytes().sum() or 0)
            ),
            "offline": capex.settings.offline,
        }
    )
    failed = [{"url": u, "why": w} for u, w in report.failed]
    yield dg.AssetCheckResult(
        check_name="every_source_fetched",
        passed=not failed,
        metadata={"failed": dg.MetadataValue.json(failed)},
    )


@dg.asset(
    key=NEWS_NUMBERS,
    deps=[NEWS_ARTICLES],
    automation_condition=follow_upstream(),
    group_name="news",
    kinds={"polars", "duckdb"},
    description=(
        "Every figure in the news articles' titles and text, one row per figure, normalised "
        "to a value in units ('$13.87 billion' → 13870000000, '33.4%' → 0.334, '1000亿美金' → "
        "1e11 USD) with its unit ('money', 'percent', 'percentage_points', 'count'), "
        "currency, scale, range (low/high), rounding (precision) and sentence."
    ),
)
def news_numbers(context: dg.AssetExecutionContext, capex: CapexResource) -> dg.MaterializeResult:
    articles = _read(capex, tables.NEWS_ARTICLES)
    if articles is None:
        raise dg.Failure("staging.news_articles does not exist: materialize it first")
    numbers = extract_numbers(article_sentences(articles))
    rows = _write(capex, tables.NEWS_NUMBERS, numbers)
    by_unit = numbers.group_by("unit").len().sort("unit").rows()
    return dg.MaterializeResult(
        metadata={"rows": rows, "articles": articles.height, "by_unit": dict(by_unit)}
    )


@dg.asset(
    key=FX_RATES,
    group_name="news",
    kinds={"python", "polars", "duckdb"},
    description=(
        "ECB euro reference rates (eurofxref-hist, from CAPEX_FX_URL): units of each currency "
        "per euro, one row per business day and currency. News claims in other currencies "
        "are converted to USD with the rate of their publication date. Empty (and not "
        "fetched) when no news sources are configured. When the ECB cannot be reached the "
        "last good rates are kept (the check rates_refreshed fails, naming why): USD claims "
        "are checked all the same, claims in other currencies on days without a rate are "
        "unverifiable."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "rates_refreshed",
            asset=FX_RATES,
            description="The ECB rates were fetched (or read from raw/ offline) in this run; "
            "the metadata says why not and what was kept.",
        )
    ],
)
def fx_rates(context: dg.AssetExecutionContext, capex: CapexResource):
    if not news_config(capex.settings).sources:
        # no news, nothing to convert: do not reach out to the ECB at all
        context.log.info("no news sources configured: staging.fx_rates left empty")
        rows = _write(capex, tables.FX_RATES, tables.FX_RATES.empty())
        yield dg.MaterializeResult(metadata={"rows": rows, "skipped": "no news sources"})
        yield dg.AssetCheckResult(check_name="rates_refreshed", passed=True)
        return
    try:
        fetched, fetcher = fetch_ecb_rates(capex.settings, capex.store, log=context.log.info)
    except FetchError as exc:
        yield from _keep_fx_rates(context, capex, exc)
        return
    rates: pl.DataFrame = fetched.parsed
    with capex.warehouse.connect() as con:
        record_manifest(con, capex.store, [fetched.document.key])
        rows = capex.warehouse.replace_rows(tables.FX_RATES, rates, {}, con=con)
    yield dg.MaterializeResult(
        metadata={
            "rows": rows,
            "currencies": rates["currency"].n_unique(),
            "first_date": str(rates["rate_date"].min()),
            "last_date": str(rates["rate_date"].max()),
            "downloaded": fetched.downloaded,
            "bytes": dg.MetadataValue.int(fetched.document.bytes),
            "requests_sent": fetcher.requests_sent,
        }
    )
    yield dg.AssetCheckResult(check_name="rates_refreshed", passed=True)


def _keep_fx_rates(context: dg.AssetExecutionContext, capex: CapexResource, error: FetchError):
    """The ECB failed: keep the last good rates (or an empty table), never fail the news."""
    kept = _read(capex, tables.FX_RATES)
    if kept is None:
        kept = tables.FX_RATES.empty()
        _write(capex, tables.FX_RATES, kept)
    last = kept["rate_date"].max() if kept.height else None
    what = (
        f"{kept.height} rates up to {last}" if kept.height else "no rates (none were ever loaded)"
    )
    context.log.error(f"ECB rates not refreshed ({error}); kept {what}")
    yield dg.MaterializeResult(
        metadata={
            "rows": kept.height,
            "error": str(error),
            KEPT_METADATA: f"FX: {what}; non-USD claims after that are unverifiable",
        }
    )
    yield dg.AssetCheckResult(
        check_name="rates_refreshed",
        passed=False,
        metadata={"error": str(error), "kept": what},
    )


@dg.asset(
    key=NEWS_CLAIMS,
    deps=[NEWS_ARTICLES, NEWS_NUMBERS, FX_RATES, FISCAL_QUARTERS],
    automation_condition=follow_upstream(),
    group_name="news",
    kinds={"polars", "duckdb"},
    description=(
        "Claims: figures of the news (also numbers in words) tied to a company, a segment or "
        "revenue line (segment), or a group of companies (group_tickers), a metric (revenue, "
        "capex, net income, operating income, growth rates, market value) and a period "
        "resolved against the publication date in the company's fiscal calendar "
        "(staging.int_fiscal_quarters). Bounds ('more than', 'nearly', '超过') are low/high; an "
        "exact figure in the same sentence supersedes its bound. value_usd converts other "
        "currencies at the ECB rate of the publication date. forecast = guidance, estimates or "
        "a period not yet over. confidence, unresolved (doubts: no mismatch can be claimed) "
        "and resolution (how each part was resolved)."
    ),
)
def news_claims(context: dg.AssetExecutionContext, capex: CapexResource) -> dg.MaterializeResult:
    articles = _read(capex, tables.NEWS_ARTICLES)
    numbers = _read(capex, tables.NEWS_NUMBERS)
    if articles is None or numbers is None:
        raise dg.Failure("staging.news_articles / staging.news_numbers missing: build them first")
    rates = _read(capex, tables.FX_RATES)
    fiscal_quarters = _read(capex, "staging.int_fiscal_quarters")
    if fiscal_quarters is None:
        context.log.warning(
            "staging.int_fiscal_quarters does not exist: fiscal calendars are nominal month ends"
        )
    resolver = ClaimResolver(fiscal_calendars(fiscal_quarters))
    claims = resolve_claims(articles, numbers, article_sentences(articles), resolver, rates)
    rows = _write(capex, tables.NEWS_CLAIMS, claims)
    return dg.MaterializeResult(
        metadata={
            "rows": rows,
            "forecasts": int(claims["forecast"].sum() or 0),
            "without_company": claims.filter(pl.col("ticker").is_null()).height,
            "by_metric": dict(claims.group_by("metric").len().sort("metric").rows()),
        }
    )


@dg.asset(
    key=CLAIM_CHECKS,
    deps=[NEWS_CLAIMS, METRIC_QUARTERLY, SEGMENT_REVENUE, METRIC_ANNUAL],
    automation_condition=follow_upstream(),
    group_name="news",
    kinds={"polars", "duckdb"},
    description=(
        "Each news claim against the filed value (marts.metric_quarterly summed over the "
        "claim's quarters, else the annual report; marts.segment_revenue for segments, never "
        "the company total; the sum over a group's companies): verdict 'match' (within 1% or "
        "the claim's own rounding; a bound holds), 'close' (within 5%), 'mismatch' (only when "
        "fully resolved), or 'unverifiable' with the reason (forecasts, not filed, non-USD "
        "amounts, ambiguous periods or subjects). The explanation names the filed figure and "
        "its filing, a definitional difference (capex including finance-lease principal "
        "payments; fiscal versus calendar period) when one accounts for a gap, and the "
        "resolution steps."
    ),
)
def claim_checks(context: dg.AssetExecutionContext, capex: CapexResource) -> dg.MaterializeResult:
    claims = _read(capex, tables.NEWS_CLAIMS)
    if claims is None:
        raise dg.Failure("marts.news_claims does not exist: materialize it first")
    quarterly = _read(capex, "marts.metric_quarterly")
    if quarterly is None:
        context.log.warning("marts.metric_quarterly does not exist: every claim is unverifiable")
        quarterly = pl.DataFrame(
            schema={
                "ticker": pl.String,
                "metric": pl.String,
                "fiscal_year": pl.Int32,
                "fiscal_quarter": pl.Int32,
                "calendar_year": pl.Int32,
                "calendar_quarter": pl.Int32,
                "period_start": pl.Date,
                "period_end": pl.Date,
                "value": pl.Float64,
            }
        )
    segments = _read(capex, "marts.segment_revenue")
    annual = _read(capex, "staging.int_metric_annual")
    checks = check_claims(claims, quarterly, segments, annual)
    rows = _write(capex, tables.CLAIM_CHECKS, checks)
    return dg.MaterializeResult(
        metadata={
            "rows": rows,
            "by_verdict": dict(checks.group_by("verdict").len().sort("verdict").rows()),
        }
    )


@dg.asset_check(
    automation_condition=dg.AutomationCondition.eager(),
    asset=NEWS_ARTICLES,
    description="article_id is unique and no body is empty",
)
def news_articles_unique_and_nonempty(capex: CapexResource) -> dg.AssetCheckResult:
    articles = _read(capex, tables.NEWS_ARTICLES)
    rows = articles if articles is not None else tables.NEWS_ARTICLES.empty()
    duplicates = rows.height - rows["article_id"].n_unique()
    empty = rows.filter(pl.col("body_text").str.strip_chars().str.len_chars() == 0).height
    return dg.AssetCheckResult(
        passed=duplicates == 0 and empty == 0,
        metadata={"duplicate_ids": duplicates, "empty_bodies": empty},
    )


@dg.asset_check(
    automation_condition=dg.AutomationCondition.eager(),
    asset=CLAIM_CHECKS,
    description="every claim is checked exactly once",
)
def every_claim_checked_once(capex: CapexResource) -> dg.AssetCheckResult:
    claims = _read(capex, tables.NEWS_CLAIMS)
    checks = _read(capex, tables.CLAIM_CHECKS)
    claim_ids = set(claims["claim_id"]) if claims is not None else set()
    check_ids = list(checks["claim_id"]) if checks is not None else []
    missing = len(claim_ids - set(check_ids))
    repeated = len(check_ids) - len(set(check_ids))
    return dg.AssetCheckResult(
        passed=missing == 0 and repeated == 0,
        metadata={"unchecked_claims": missing, "repeated_checks": repeated},
    )


ASSETS = [news_articles, news_numbers, fx_rates, news_claims, claim_checks]
CHECKS = [news_articles_unique_and_nonempty, every_claim_checked_once]
