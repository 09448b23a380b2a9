"""Checks across price sources: two providers' closes, and provider splits against filings.

Pure functions on polars frames:

* :func:`compare_closes`: the days two providers disagree on. Each side's ``adj_close`` (adjusted
  for splits and dividends by every provider; ``close`` where it is missing) is compared, so
  Yahoo's split-only close is not set against Stooq's dividend-adjusted one. A series stored
  before a split (an old Stooq download) differs by the split's ratio on the days before it:
  the ratio is taken out first, using the splits given.
* :func:`split_disagreements`: splits a provider reports that the filings do not show, and
  the other way round, where both could know them.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl

#: Closes that differ by more than this fraction are flagged.
TOLERANCE = 0.01
#: A provider's split ratio matches a filing's within this fraction.
RATIO_TOLERANCE = 0.02
# A filing-only split (a ratio fact after the last count) is dated by the fact, which may
# precede or follow the effective date by months (see shares.py).
FACT_DATE_SLACK = timedelta(days=180)

DIFFERENCES_SCHEMA = {
    "date": pl.Date(),
    "close_a": pl.Float64(),
    "close_b": pl.Float64(),
    "split_factor": pl.Float64(),
    "difference": pl.Float64(),
}


def _factor_after(day: date, splits: list[tuple[date, float]]) -> float:
    return math.prod(ratio for split_date, ratio in splits if split_date > day)


def compare_closes(
    a: pl.DataFrame, b: pl.DataFrame, splits: pl.DataFrame | None = None
) -> tuple[int, pl.DataFrame]:
    """Common days of ``a`` and ``b`` (``staging.prices`` rows of one ticker) and the days
    whose closes differ by more than :data:`TOLERANCE` after split adjustment.

    ``splits`` (``split_date``, ``ratio``) are the ticker's known splits; on each day, the
    reading that puts the two closes nearest (as they are, or one side not yet adjusted for
    the splits after that day) is compared. Returns ``(common_days, differences)`` with
    :data:`DIFFERENCES_SCHEMA`, ``difference`` being ``close_a / close_b - 1``.
    """

    def adjusted(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return frame.select("date", pl.coalesce("adj_close", "close").alias(name))

    common = adjusted(a, "close_a").join(adjusted(b, "close_b"), on="date").sort("date")
    known = [] if splits is None else list(splits.select("split_date", "ratio").iter_rows())
    rows = []
    for day, close_a, close_b in common.iter_rows():
        factor = _factor_after(day, known)
        candidates = {1.0, factor, 1 / factor}
        best = min(candidates, key=lambda f: abs(math.log(close_a / close_b * f)))
        difference = close_a / close_b * best - 1
        if abs(difference) > TOLERANCE:
            rows.append((day, close_a, close_b, best, difference))
    return common.height, pl.DataFrame(rows, schema=DIFFERENCES_SCHEMA, orient="row")


def _filing_window(row: dict) -> tuple[date | None, date | None]:
    """The days a filing-derived split may have happened on: after the last count before it,
    up to the first count after it (or around the ratio fact's date)."""
    if row["before_date"] is not None:
        return row["after_date"], row["before_date"]
    fact = row["ratio_fact_date"]
    low = row["after_date"] or (fact - FACT_DATE_SLACK if fact else None)
    return low, (fact + FACT_DATE_SLACK if fact else None)


def _matches(split_date: date, ratio: float, filing: dict) -> bool:
    low, high = _filing_window(filing)
    inside = (low is None or split_date > low) and (high is None or split_date <= high)
    return inside and abs(ratio / filing["ratio"] - 1) <= RATIO_TOLERANCE


def split_disagreements(
    provider_splits: pl.DataFrame,
    filing_splits: pl.DataFrame,
    covered: dict[str, tuple[date, date]],
    first_count: dict[str, date],
) -> list[str]:
    """Where a provider and the filings disagree on a split, one line each.

    ``provider_splits`` has ``ticker, split_date, ratio, source``; ``filing_splits`` has the
    filing-derived rows of ``staging.stock_splits``. A provider split is expected in the
    filings only after the ticker's first share count (``first_count``); a filing split is
    expected from the provider only inside the days its prices cover (``covered``).
    """
    lines = []
    filings = filing_splits.rows(named=True)
    for split in provider_splits.rows(named=True):
        ticker, day, ratio = split["ticker"], split["split_date"], split["ratio"]
        if ticker not in first_count or day <= first_count[ticker]:
            continue
        same = [f for f in filings if f["ticker"] == ticker]
        if any(_matches(day, ratio, f) for f in same):
            continue
        near = [f for f in same if _matches(day, f["ratio"], f)]
        what = (
            f"the filings give {near[0]['ratio']:g}:1 around then"
            if near
            else "the filings show no split then"
        )
        lines.append(f"{ticker}: {split['source']} reports a {ratio:g}:1 split on {day}; {what}")
    for filing in filings:
        ticker = filing["ticker"]
        if ticker not in covered:
            continue
        first, last = covered[ticker]
        low, high = _filing_window(filing)
        if (low is not None and low < first) or (high is not None and high > last):
            continue
        reported = provider_splits.filter(pl.col("ticker") == ticker).rows(named=True)
        if not any(_matches(s["split_date"], s["ratio"], filing) for s in reported):
            lines.append(
                f"{ticker}: the filings show a {filing['ratio']:g}:1 split between {low} and "
                f"{high} ({filing['detected_from']}); the price provider reports none"
            )
    return lines


def provider_splits_union(answers: dict) -> pl.DataFrame | None:
    """Every split any of ``answers`` (provider name → ProviderAnswer) reported."""
    frames = [a.splits for a in answers.values() if a is not None and a.splits is not None]
    return pl.concat(frames).unique(["split_date"]) if frames else None


def compare_answers(answers: dict, first: str) -> list[tuple[str, int, pl.DataFrame]]:
    """``first``'s closes against every other provider's in ``answers`` (name → answer):
    ``(other provider, common days, differing days)`` for each other that answered."""
    splits = provider_splits_union(answers)
    results = []
    for name, answer in answers.items():
        if name == first or answer is None or answers.get(first) is None:
            continue
        common, differences = compare_closes(answers[first].frame, answer.frame, splits)
        results.append((name, common, differences))
    return results
