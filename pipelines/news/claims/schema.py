"""The columns of ``marts.news_claims``.

``figure`` is the figure as written; ``subject`` is 'company', 'segment' (``segment`` names it)
or 'group' (``group_tickers`` lists the companies, comma-separated, when known);
``low``/``high`` make a bound ("more than", "nearly", "超过") an inequality; ``unresolved``
lists what the resolution could not settle (a claim with any is never called a mismatch);
``confidence`` (0-1) falls with each guess; ``resolution`` says how each part was resolved.
"""

from __future__ import annotations

import polars as pl

CLAIM_SCHEMA = {
    "claim_id": pl.String,
    "article_id": pl.String,
    "sentence": pl.String,
    "ticker": pl.String,
    "metric": pl.String,
    "segment": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "value": pl.Float64,
    "low": pl.Float64,
    "high": pl.Float64,
    "unit": pl.String,
    "currency": pl.String,
    "value_usd": pl.Float64,
    "precision_usd": pl.Float64,
    "period_basis": pl.String,
    "period_label": pl.String,
    "forecast": pl.Boolean,
    "published_at": pl.Datetime("us", "UTC"),
    "note": pl.String,
    "figure": pl.String,
    "subject": pl.String,
    "group_tickers": pl.String,
    "confidence": pl.Float64,
    "unresolved": pl.String,
    "resolution": pl.String,
}
