"""Shares outstanding from the filings' cover pages, made consistent with split-adjusted prices.

Three pure steps, each on polars frames:

1. :func:`cover_page_counts`: ``dei:EntityCommonStockSharesOutstanding`` per filing and count
   date. A fact without dimensions is the total; when a filing reports only per-class facts
   (on ``us-gaap:StatementClassOfStockAxis``; Alphabet reports classes A, B and C and no
   total) the classes are summed.
2. :func:`detect_splits`: stock splits found in two independent ways, and recorded as such:

   * from the **share count**: consecutive counts whose ratio is within 5% of a whole number
     n ≥ 2 (or of 1/n, a reverse split). The split lies between the two count dates;
   * from the **filings**: ``StockholdersEquityNoteStockSplitConversionRatio1`` (and the
     similar ratio concepts in :data:`SPLIT_RATIO_CONCEPTS`). These dates are not reliable
     effective dates (companies tag the announcement date, the record date or the month), so
     a ratio fact confirms a jump in the count, and places a split by itself only when the
     counts cannot (no count after it yet). A filed ratio widens the tolerance for its jump
     to 15% (share issuance between two counts moves the ratio off n) and admits ratios that
     are not whole (a 3:2 split).

   ``detected_from`` says which: ``'filing+share_count'``, ``'share_count'`` or ``'filing'``.
3. :func:`adjust_for_splits`: each count times the ratios of every split after its date. Price
   sources (Stooq, Yahoo) adjust past prices for every split, so the adjusted count times the
   adjusted close is the market value of the day: NVIDIA's 2.46 billion shares of May 2024
   become 24.6 billion, matching closes divided by ten before the June 2024 10:1 split.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from pipelines.core.tables import STOCK_SPLITS

SHARES_CONCEPT = "EntityCommonStockSharesOutstanding"
CLASS_AXIS = "us-gaap:StatementClassOfStockAxis"
SPLIT_RATIO_CONCEPTS = (
    "StockholdersEquityNoteStockSplitConversionRatio1",
    "StockholdersEquityNoteStockSplitConversionRatio",
    "StockSplitConversionRatio1",
)
COUNT_TOLERANCE = 0.05
CONFIRMED_TOLERANCE = 0.15
# A ratio fact dated up to this long before the last pre-split count still belongs to the
# split (Alphabet tagged its 2022 split with the announcement date, five months early).
RATIO_FACT_LEAD = timedelta(days=180)

#: Input of :func:`cover_page_counts` (one row per dei fact).
SHARE_FACTS_SCHEMA = {
    "ticker": pl.String,
    "accession": pl.String,
    "form": pl.String,
    "filed": pl.Date,
    "period_end": pl.Date,
    "value": pl.Float64,
    "share_class": pl.String,  # the member on CLASS_AXIS; null for a fact without dimensions
    "other_dimensions": pl.Boolean,  # dimensions on any other axis: not a company total
}
#: Input of :func:`detect_splits` for ratio facts.
RATIO_FACTS_SCHEMA = {
    "ticker": pl.String,
    "concept": pl.String,
    "period_end": pl.Date,
    "filed": pl.Date,
    "value": pl.Float64,
}
#: Columns of the splits derived here; ``staging.stock_splits`` adds ``split_date`` and
#: ``source`` (:data:`FILINGS_SOURCE` for these; a price provider's name for its splits).
SPLITS_SCHEMA = {
    name: dtype
    for name, dtype in STOCK_SPLITS.columns.items()
    if name not in ("split_date", "source")
}
FILINGS_SOURCE = "filings"

# Reads the inputs of this module from staging.facts (DuckDB SQL).
SHARE_FACTS_SQL = f"""
SELECT ticker, accession, form, filed, period_end, CAST(value AS DOUBLE) AS value,
       dimensions['{CLASS_AXIS}'] AS share_class,
       coalesce(cardinality(dimensions), 0)
           > CASE WHEN dimensions['{CLASS_AXIS}'] IS NULL THEN 0 ELSE 1 END AS other_dimensions
FROM staging.facts
WHERE taxonomy = 'dei' AND concept = '{SHARES_CONCEPT}' AND unit = 'shares'
"""
RATIO_FACTS_SQL = f"""
SELECT ticker, concept, period_end, filed, CAST(value AS DOUBLE) AS value
FROM staging.facts
WHERE concept IN ({", ".join(f"'{c}'" for c in SPLIT_RATIO_CONCEPTS)})
  AND dimensions IS NULL AND value > 0
"""


def cover_page_counts(facts: pl.DataFrame) -> pl.DataFrame:
    """One share count per filing and count date, summing share classes when no total exists.

    ``facts`` has :data:`SHARE_FACTS_SCHEMA`. Returns ``ticker, accession, form, filed,
    period_end, shares_reported, share_classes`` (0 when the filing gave a total).
    """
    facts = facts.cast(SHARE_FACTS_SCHEMA).filter(
        ~pl.col("other_dimensions") & pl.col("value").is_not_null()
    )
    keys = ["ticker", "accession", "period_end"]
    totals = (
        facts.filter(pl.col("share_class").is_null())
        .group_by(keys)
        .agg(pl.col("form").first(), pl.col("filed").max(), pl.col("value").max())
        .with_columns(share_classes=pl.lit(0, pl.Int32))
    )
    # The same class can arrive twice (companyfacts and the filing document); count it once.
    classes = (
        facts.filter(pl.col("share_class").is_not_null())
        .group_by([*keys, "share_class"])
        .agg(pl.col("form").first(), pl.col("filed").max(), pl.col("value").max())
        .group_by(keys)
        .agg(
            pl.col("form").first(),
            pl.col("filed").max(),
            pl.col("value").sum(),
            pl.len().cast(pl.Int32).alias("share_classes"),
        )
        .join(totals.select(keys), on=keys, how="anti")
    )
    return (
        pl.concat([totals, classes], how="diagonal_relaxed")
        .rename({"value": "shares_reported"})
        .filter(pl.col("shares_reported") > 0)
        .select(
            "ticker", "accession", "form", "filed", "period_end", "shares_reported", "share_classes"
        )
        .sort("ticker", "period_end", "filed", "accession")
    )


def _whole_ratio(ratio: float, tolerance: float) -> float | None:
    """``n`` (or ``1/n``) when ``ratio`` is within ``tolerance`` of a whole n ≥ 2, else None."""
    if ratio <= 0:
        return None
    if ratio >= 1:
        n = round(ratio)
        return float(n) if n >= 2 and abs(ratio / n - 1) <= tolerance else None
    n = round(1 / ratio)
    return 1.0 / n if n >= 2 and abs((1 / ratio) / n - 1) <= tolerance else None


def detect_splits(counts: pl.DataFrame, ratio_facts: pl.DataFrame) -> pl.DataFrame:
    """Stock splits per ticker from the share-count series and the filed ratio facts.

    ``counts`` is the output of :func:`cover_page_counts`; ``ratio_facts`` has
    :data:`RATIO_FACTS_SCHEMA`. Returns :data:`SPLITS_SCHEMA` rows (see the module docstring).
    """
    ratio_facts = ratio_facts.cast(RATIO_FACTS_SCHEMA)
    # One count per date (the latest filed), in date order.
    series = (
        counts.sort("filed")
        .group_by("ticker", "period_end")
        .agg(pl.col("shares_reported").last())
        .sort("ticker", "period_end")
    )
    splits = []
    tickers = set(series["ticker"].to_list()) | set(ratio_facts["ticker"].to_list())
    for ticker in sorted(tickers):
        points = series.filter(pl.col("ticker") == ticker).rows(named=True)
        facts = ratio_facts.filter(pl.col("ticker") == ticker).rows(named=True)
        used: set[int] = set()
        for before, after in zip(points, points[1:], strict=False):
            ratio = after["shares_reported"] / before["shares_reported"]
            # A filed ratio near the jump confirms it (and allows 3:2 and the like).
            evidence = [
                i
                for i, fact in enumerate(facts)
                if fact["value"] != 1
                and abs(ratio / fact["value"] - 1) <= CONFIRMED_TOLERANCE
                and before["period_end"] - RATIO_FACT_LEAD <= fact["period_end"]
                and fact["period_end"] <= after["period_end"]
            ]
            split_ratio = facts[evidence[0]]["value"] if evidence else None
            if split_ratio is None:
                split_ratio = _whole_ratio(ratio, COUNT_TOLERANCE)
            if split_ratio is None:
                continue
            evidence = [i for i in evidence if facts[i]["value"] == split_ratio]
            used.update(evidence)
            splits.append(
                {
                    "ticker": ticker,
                    "ratio": split_ratio,
                    "after_date": before["period_end"],
                    "before_date": after["period_end"],
                    "ratio_fact_date": max(
                        (facts[i]["period_end"] for i in evidence), default=None
                    ),
                    "detected_from": "filing+share_count" if evidence else "share_count",
                }
            )
        splits.extend(_splits_from_filings_only(ticker, facts, used, points))
    return pl.DataFrame(splits, schema=SPLITS_SCHEMA).sort("ticker", "after_date", nulls_last=True)


def _splits_from_filings_only(
    ticker: str, facts: list[dict], used: set[int], points: list[dict]
) -> list[dict]:
    """Splits known from ratio facts alone, one per ratio and cluster of nearby fact dates.

    Only a split after the last count can be placed this way (the counts would show any
    earlier one, and a ratio fact whose count jump is missing cannot be told apart from an
    old split the counts predate); ratio facts of splits before the first count are ignored.
    """
    last_count = points[-1]["period_end"] if points else None
    first_count = points[0]["period_end"] if points else None
    unused = sorted(
        (facts[i] for i in range(len(facts)) if i not in used), key=lambda f: f["period_end"]
    )
    clusters: list[list[dict]] = []
    for fact in unused:
        if (
            clusters
            and clusters[-1][-1]["value"] == fact["value"]
            and fact["period_end"] - clusters[-1][-1]["period_end"] <= RATIO_FACT_LEAD
        ):
            clusters[-1].append(fact)
        else:
            clusters.append([fact])
    found = []
    for cluster in clusters:
        date = max(f["period_end"] for f in cluster)
        ratio = cluster[0]["value"]
        if first_count is not None and date <= first_count:
            continue  # before our first count: the counts already reflect it
        if last_count is not None and date <= last_count:
            continue  # the counts straddle it without a jump: not a split of this stock
        if ratio == 1:
            continue
        found.append(
            {
                "ticker": ticker,
                "ratio": ratio,
                "after_date": last_count,
                "before_date": None,
                "ratio_fact_date": date,
                "detected_from": "filing",
            }
        )
    return found


def adjust_for_splits(counts: pl.DataFrame, splits: pl.DataFrame) -> pl.DataFrame:
    """Add ``split_factor`` and the split-adjusted ``shares_outstanding`` to ``counts``.

    A count is multiplied by the ratio of every split of its ticker whose ``after_date`` is on
    or after the count's date (for a split known from filings only, every count before the
    ratio fact's date).
    """
    splits = splits.cast(SPLITS_SCHEMA)
    boundary = pl.coalesce("after_date", "ratio_fact_date")
    factors = (
        counts.select("ticker", "period_end")
        .unique()
        .join(
            splits.select(
                "ticker",
                "ratio",
                boundary.alias("boundary"),
                pl.col("after_date").is_null().alias("strict"),
            ),
            on="ticker",
        )
        .filter(
            pl.when(pl.col("strict"))
            .then(pl.col("period_end") < pl.col("boundary"))
            .otherwise(pl.col("period_end") <= pl.col("boundary"))
        )
        .group_by("ticker", "period_end")
        .agg(pl.col("ratio").product().alias("split_factor"))
    )
    return (
        counts.join(factors, on=["ticker", "period_end"], how="left")
        .with_columns(pl.col("split_factor").fill_null(1.0))
        .with_columns(
            (pl.col("shares_reported") * pl.col("split_factor")).alias("shares_outstanding")
        )
        .sort("ticker", "period_end", "filed", "accession")
    )


def shares_outstanding(
    share_facts: pl.DataFrame, ratio_facts: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows of ``staging.shares_outstanding`` and ``staging.stock_splits`` from the facts."""
    counts = cover_page_counts(share_facts)
    splits = detect_splits(counts, ratio_facts)
    rows = splits.with_columns(
        split_date=pl.lit(None, pl.Date), source=pl.lit(FILINGS_SOURCE, pl.String)
    )
    return adjust_for_splits(counts, splits), rows
