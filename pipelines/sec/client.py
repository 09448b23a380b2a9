"""SEC EDGAR: the URL layout, the client, and the documents capex-watch reads per company.

URLs (bases configurable for tests and mirrors):

* ``{CAPEX_SEC_DATA_URL}/submissions/CIK##########.json`` and its overflow pages
  ``/submissions/CIK##########-submissions-001.json``
* ``{CAPEX_SEC_DATA_URL}/api/xbrl/companyfacts/CIK##########.json``
* ``{CAPEX_SEC_WWW_URL}/Archives/edgar/data/{cik}/{accession without dashes}/index.json``
  and the documents it lists
* ``{CAPEX_SEC_WWW_URL}/files/company_tickers.json``

SEC asks for a User-Agent naming the client and a contact address and at most 10 requests a
second; both SEC hosts share one rate limiter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.core.config import ConfigError, Settings
from pipelines.core.http import Fetched, Fetcher, document_errors, expect_json, reject_html
from pipelines.core.rawstore import RawStore
from pipelines.core.universe import Company, parse_company_tickers
from pipelines.sec.bulk import (
    COMPANYFACTS_ARCHIVE,
    SUBMISSIONS_ARCHIVE,
    ArchiveDocuments,
    archive_summary,
)
from pipelines.sec.companyfacts import CompanyFacts, parse_companyfacts
from pipelines.sec.submissions import (
    filings_frame,
    overflow_pages_needed,
    periodic_filings,
)

USER_AGENT_HELP = (
    "SEC requires a User-Agent that names you and gives a contact e-mail address. "
    "Set it before a live fetch, e.g. export SEC_USER_AGENT='Jane Analyst jane@example.com' "
    "(see https://www.sec.gov/os/accessing-edgar-data), or set CAPEX_OFFLINE=1 to build "
    "from raw/ without the network."
)

# Linkbases and summaries that sit beside the instance in a filing folder.
_NOT_INSTANCES = ("_cal.xml", "_def.xml", "_lab.xml", "_pre.xml", "FilingSummary.xml")
_RENDERED = re.compile(r"^R\d+\.xml$")


SEC_STATUS_HINTS = {
    403: "SEC refuses a User-Agent that does not name you and an e-mail address "
    "(SEC_USER_AGENT), and clients above 10 requests a second (CAPEX_SEC_RATE)",
    404: "is the CIK or ticker right?",
}


def check_user_agent(user_agent: str | None) -> str:
    """Return ``user_agent`` if SEC would accept it, else raise :class:`ConfigError`."""
    if not user_agent or "@" not in user_agent:
        problem = (
            "SEC_USER_AGENT is not set"
            if not user_agent
            else (f"SEC_USER_AGENT={user_agent!r} has no contact e-mail address")
        )
        raise ConfigError(f"{problem}. {USER_AGENT_HELP}")
    return user_agent


def expect_json_keys(*keys: str):
    """A validator: JSON whose top level has ``keys`` (so an error document is caught)."""

    def validate(body: bytes, content_type: str | None):
        parsed = expect_json(body, content_type)
        if not isinstance(parsed, dict) or any(key not in parsed for key in keys):
            raise ValueError(f"JSON without the expected keys {', '.join(keys)}")
        return parsed

    return validate


def expect_companyfacts(body: bytes, content_type: str | None) -> CompanyFacts:
    """A validator: a companyfacts document, decoded down to its fact lists."""
    reject_html(body, content_type)
    return parse_companyfacts(body)


def expect_xbrl(body: bytes, content_type: str | None) -> None:
    """Cheap check that a filing document is XBRL (instance or inline), not an error page."""
    head = body[:200_000]
    if b"xbrl" not in head.lower():
        raise ValueError(
            f"not an XBRL document (no xbrl markup in the first {len(head)} bytes; "
            f"Content-Type {content_type})"
        )


class SecClient:
    """Typed access to the SEC documents capex-watch uses, through two :class:`Fetcher`s."""

    def __init__(
        self,
        settings: Settings,
        store: RawStore,
        *,
        offline: bool | None = None,
        log: Callable[[str], None] | None = None,
    ):
        offline = settings.offline if offline is None else offline
        user_agent = None if offline else check_user_agent(settings.sec_user_agent)
        common = dict(
            user_agent=user_agent,
            requests_per_second=settings.sec_requests_per_second,
            offline=offline,
            user_agent_help=USER_AGENT_HELP,
            rate_key="sec",
            log=log,
            status_hints=SEC_STATUS_HINTS,
        )
        self.data = Fetcher.from_settings(
            settings, "sec-data", settings.sec_data_url, store, **common
        )
        self.www = Fetcher.from_settings(settings, "sec-www", settings.sec_www_url, store, **common)

    @property
    def requests_sent(self) -> int:
        return self.data.requests_sent + self.www.requests_sent

    @property
    def bytes_downloaded(self) -> int:
        return self.data.bytes_downloaded + self.www.bytes_downloaded

    def company_tickers(self) -> dict[str, Company]:
        """SEC's ticker → company map (``/files/company_tickers.json``)."""
        fetched = self.www.get("/files/company_tickers.json", expect_json)
        return parse_company_tickers(fetched.parsed)

    def submissions(self, cik: int) -> Fetched:
        return self.data.get(f"/submissions/CIK{cik:010d}.json", expect_json_keys("filings"))

    def submissions_page(self, name: str) -> Fetched:
        return self.data.get(f"/submissions/{name}", expect_json_keys("accessionNumber"))

    def companyfacts(self, cik: int) -> Fetched:
        return self.data.get(f"/api/xbrl/companyfacts/CIK{cik:010d}.json", expect_companyfacts)

    def filing_index(self, cik: int, accession: str) -> Fetched:
        folder = accession.replace("-", "")
        return self.www.get(
            f"/Archives/edgar/data/{cik}/{folder}/index.json", expect_json_keys("directory")
        )

    def filing_document(self, cik: int, accession: str, name: str) -> Fetched:
        folder = accession.replace("-", "")
        return self.www.get(f"/Archives/edgar/data/{cik}/{folder}/{name}", expect_xbrl)


def xbrl_document_name(index: dict, primary_document: str | None) -> str:
    """The XBRL instance in a filing folder listing, else the inline-XBRL primary document.

    Inline filings carry an extracted instance named ``*_htm.xml``; filings from before inline
    XBRL carry a plain ``*.xml`` instance beside their linkbases and rendered ``R*.xml`` pages.
    """
    names = [item["name"] for item in index.get("directory", {}).get("item", [])]
    extracted = [n for n in names if n.endswith("_htm.xml")]
    plain = [
        n
        for n in names
        if n.endswith(".xml") and not n.endswith(_NOT_INSTANCES) and not _RENDERED.match(n)
    ]
    for candidates in (extracted, plain, [primary_document] if primary_document else []):
        if candidates:
            return candidates[0]
    raise ValueError("the filing folder lists no XBRL instance and no primary document")


@dataclass(frozen=True)
class FilingDocument:
    """A 10-K or 10-Q with its folder listing and its fetched XBRL document."""

    accession: str
    form: str
    filed: date
    index: Fetched
    fetched: Fetched


@dataclass(frozen=True)
class CompanyDocuments:
    """Everything fetched for one company."""

    company: Company
    submissions: Fetched
    overflow_pages: list[Fetched]
    companyfacts: Fetched
    filings: pl.DataFrame
    filing_documents: list[FilingDocument]

    def all_fetched(self) -> Iterator[Fetched]:
        yield self.submissions
        yield from self.overflow_pages
        yield self.companyfacts
        for doc in self.filing_documents:
            yield doc.index
            yield doc.fetched


def company_documents(
    client: SecClient,
    company: Company,
    since: date,
    log: Callable[[str], None] = lambda _m: None,
    archives: ArchiveDocuments | None = None,
) -> CompanyDocuments:
    """Fetch (or, offline, read from raw/) every SEC document capex-watch uses for ``company``.

    With ``archives`` (CAPEX_UNIVERSE=all), submissions and companyfacts come from SEC's bulk
    archives, and are requested one by one only for a company the archives lack. Fails on
    the first document that cannot be had, naming its URL: a company's load is all or nothing.
    """
    bulk_submissions = archives.submissions_of(company.cik) if archives else None
    submissions = bulk_submissions or client.submissions(company.cik)
    page = archives.submissions_page if bulk_submissions else client.submissions_page
    with document_errors(submissions.document.url, "submissions document"):
        names = overflow_pages_needed(submissions.parsed, since)
    pages = [page(name) for name in names]
    with document_errors(submissions.document.url, "submissions (or overflow page)"):
        filings = filings_frame(
            submissions.parsed, [p.parsed for p in pages], company.ticker, company.cik
        )
    companyfacts = (
        archives.companyfacts_of(company.cik) if archives else None
    ) or client.companyfacts(company.cik)
    periodic = periodic_filings(filings, since)
    documents = []
    for number, filing in enumerate(periodic.iter_rows(named=True), start=1):
        index = client.filing_index(company.cik, filing["accession"])
        with document_errors(index.document.url, "filing index"):
            name = xbrl_document_name(index.parsed, filing["primary_document"])
        fetched = client.filing_document(company.cik, filing["accession"], name)
        documents.append(
            FilingDocument(filing["accession"], filing["form"], filing["filed"], index, fetched)
        )
        log(
            f"{company.ticker}: filing {number}/{periodic.height} {filing['form']} "
            f"{filing['accession']} ({fetched.document.bytes:,} bytes)"
        )
    return CompanyDocuments(company, submissions, pages, companyfacts, filings, documents)


def fetch_archives(client: SecClient) -> ArchiveDocuments:
    """SEC's two bulk archives, fetched (or, offline, read) into raw/, opened for reading."""
    facts = client.www.download(COMPANYFACTS_ARCHIVE, archive_summary)
    submissions = client.www.download(SUBMISSIONS_ARCHIVE, archive_summary)
    return ArchiveDocuments(facts, submissions)


def stored_archives(settings: Settings, store: RawStore) -> ArchiveDocuments:
    """The archives as raw/ holds them (no network): what the landing steps read."""
    return fetch_archives(SecClient(settings, store, offline=True))
