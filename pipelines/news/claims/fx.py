"""Claims in other currencies → USD at the ECB reference rate of the publication date."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from pipelines.news.claims.schema import CLAIM_SCHEMA


def usd_per_unit(fx_rates: pl.DataFrame) -> pl.DataFrame:
    """(rate_date, currency, usd_per_unit) from ECB rates quoted per euro."""
    usd = fx_rates.filter(pl.col("currency") == "USD").select(
        "rate_date", usd_per_eur=pl.col("per_eur")
    )
    per_currency = fx_rates.join(usd, on="rate_date").select(
        "rate_date", "currency", usd_per_unit=pl.col("usd_per_eur") / pl.col("per_eur")
    )
    euro = usd.select("rate_date", currency=pl.lit("EUR"), usd_per_unit=pl.col("usd_per_eur"))
    return pl.concat([per_currency.filter(pl.col("currency") != "USD"), euro]).sort(
        "currency", "rate_date"
    )


def convert_to_usd(claims: pl.DataFrame, fx_rates: pl.DataFrame | None) -> pl.DataFrame:
    """Fill ``value_usd`` (and the precision in USD): USD as is, other currencies at the last
    ECB rate on or before the publication date (at most 7 days before), else null with a note."""
    is_usd = pl.col("currency") == "USD"
    if fx_rates is None or fx_rates.height == 0 or claims.height == 0:
        return claims.with_columns(
            value_usd=pl.when(is_usd).then(pl.col("value")),
            precision_usd=pl.when(is_usd | pl.col("currency").is_null()).then(
                pl.col("precision_usd")
            ),
            note=pl.when(pl.col("currency").is_not_null() & ~is_usd)
            .then(
                pl.concat_str(
                    [pl.col("note"), pl.lit("no FX rate loaded")], separator="; ", ignore_nulls=True
                )
            )
            .otherwise(pl.col("note")),
        ).select(list(CLAIM_SCHEMA))
    rates = usd_per_unit(fx_rates)
    keyed = claims.with_row_index("_row").with_columns(_day=pl.col("published_at").dt.date())
    foreign = (
        keyed.filter(pl.col("currency").is_not_null() & ~is_usd & pl.col("_day").is_not_null())
        .sort("_day")
        .join_asof(
            rates.rename({"rate_date": "_rate_day"}).sort("_rate_day"),
            left_on="_day",
            right_on="_rate_day",
            by="currency",
            strategy="backward",
            tolerance=timedelta(days=7),
            check_sortedness=False,  # both sides are sorted by date above
        )
        .select("_row", "_rate_day", "usd_per_unit")
    )
    out = keyed.join(foreign, on="_row", how="left").sort("_row")
    rate = pl.col("usd_per_unit")
    note_fx = pl.format(
        "{} converted at the ECB reference rate of {} ({} USD per {})",
        pl.col("currency"),
        pl.col("_rate_day"),
        rate.round(6),
        pl.col("currency"),
    )
    return out.with_columns(
        value_usd=pl.when(is_usd).then(pl.col("value")).otherwise(pl.col("value") * rate),
        precision_usd=pl.when(is_usd | pl.col("currency").is_null())
        .then(pl.col("precision_usd"))
        .otherwise(pl.col("precision_usd") * rate),
        note=pl.when(pl.col("currency").is_not_null() & ~is_usd)
        .then(
            pl.concat_str(
                [
                    pl.col("note"),
                    pl.when(rate.is_null())
                    .then(pl.lit("no FX rate within 7 days"))
                    .otherwise(note_fx),
                ],
                separator="; ",
                ignore_nulls=True,
            )
        )
        .otherwise(pl.col("note")),
    ).select(list(CLAIM_SCHEMA))
