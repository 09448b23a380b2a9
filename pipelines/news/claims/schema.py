"""The columns of ``marts.news_claims``."""

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
}
