"""SEC submissions JSON → staging.filings and staging.companies rows."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.core.tables import COMPANIES, FILINGS

PUBLIC_ARCHIVES_URL = "https://www.sec.gov/Archives/edgar/data"

FILINGS_SCHEMA = FILINGS.columns

# The 10-K and 10-Q forms whose XBRL documents are loaded.
PERIODIC_FORMS = ("10-K", "10-Q")


def filings_frame(
    submissions: dict, overflow_pages: list[dict], ticker: str, cik: int
) -> pl.DataFrame:
    """Every filing listed in a submissions document and its overflow pages, newest first.

    ``overflow_pages`` are the documents named in ``filings.files`` (same columnar layout as
    ``filings.recent``). A filing listed twice appears once.
    """
    blocks = [submissions.get("filings", {}).get("recent", {}), *overflow_pages]
    frames = []
    for block in blocks:
        if not block.get("accessionNumber"):
            continue
        frames.append(
            pl.DataFrame(
                {
                    "accession": block["accessionNumber"],
                    "form": block["form"],
                    "filed": block["filingDate"],
                    "report_date": block.get("reportDate") or [None] * len(block["form"]),
                    "primary_document": block.get("primaryDocument") or [None] * len(block["form"]),
                },
                schema={
                    name: pl.String
                    for name in ("accession", "form", "filed", "report_date", "primary_document")
                },
            )
        )
    if not frames:
        return pl.DataFrame(schema=FILINGS_SCHEMA)
    frame = pl.concat(frames).unique(subset=["accession"], keep="first", maintain_order=True)
    archive = pl.concat_str(
        pl.lit(f"{PUBLIC_ARCHIVES_URL}/{cik}/"),
        pl.col("accession").str.replace_all("-", ""),
        pl.lit("/"),
        pl.col("primary_document"),
    )
    frame = frame.with_columns(
        pl.lit(ticker).alias("ticker"),
        pl.lit(cik, pl.Int64).alias("cik"),
        pl.col("filed").str.to_date("%Y-%m-%d"),
        pl.col("report_date").replace("", None).str.to_date("%Y-%m-%d", strict=False),
        pl.col("primary_document").replace("", None),
        archive.alias("url"),
    )
    return frame.select(list(FILINGS_SCHEMA)).sort(["filed", "accession"], descending=True)


def overflow_pages_needed(submissions: dict, since: date) -> list[str]:
    """Names of the overflow pages (``filings.files``) holding filings on or after ``since``."""
    return [
        page["name"]
        for page in submissions.get("filings", {}).get("files", [])
        if date.fromisoformat(page["filingTo"]) >= since
    ]


def periodic_filings(filings: pl.DataFrame, since: date) -> pl.DataFrame:
    """The 10-K and 10-Q filings filed on or after ``since``, oldest first."""
    return filings.filter(pl.col("form").is_in(PERIODIC_FORMS) & (pl.col("filed") >= since)).sort(
        ["filed", "accession"]
    )


def company_row(submissions: dict, ticker: str, cik: int) -> pl.DataFrame:
    """The staging.companies row: name, fiscal year end (MMDD) and industry from submissions."""
    return pl.DataFrame(
        {
            "ticker": [ticker],
            "cik": [cik],
            "name": [submissions.get("name")],
            "fiscal_year_end": [submissions.get("fiscalYearEnd")],
            "sic": [submissions.get("sic")],
            "sic_description": [submissions.get("sicDescription")],
        },
        schema=COMPANIES.columns,
    )
