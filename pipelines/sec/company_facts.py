"""One company's documents → all its staging.facts rows: companyfacts plus every filing."""

from __future__ import annotations

import polars as pl

from pipelines.core.http import document_errors
from pipelines.sec.client import CompanyDocuments
from pipelines.sec.companyfacts import normalize_companyfacts
from pipelines.sec.facts import filing_facts, merge_facts
from pipelines.sec.xbrl import parse_xbrl


def company_facts(documents: CompanyDocuments) -> pl.DataFrame:
    """All staging.facts rows of one company: companyfacts plus every filing's XBRL document.

    Raises an error naming the document's URL when one does not parse: nothing of the
    company lands then.
    """
    company = documents.company
    with document_errors(documents.companyfacts.document.url, "companyfacts document"):
        from_companyfacts = normalize_companyfacts(
            documents.companyfacts.parsed, company.ticker, company.cik
        )
    from_filings = []
    for filing in documents.filing_documents:
        doc = filing.fetched.document
        with document_errors(doc.url, "XBRL document"):
            parsed = parse_xbrl(doc.read(), url=doc.url)
            from_filings.append(
                filing_facts(
                    parsed,
                    ticker=company.ticker,
                    cik=company.cik,
                    accession=filing.accession,
                    form=filing.form,
                    filed=filing.filed,
                )
            )
    return merge_facts(from_companyfacts, from_filings)
