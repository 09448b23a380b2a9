"""A local stand-in for SEC EDGAR, serving the recorded documents in ../shared/fixtures/sec.

Routes follow SEC's URL layout (data.sec.gov and www.sec.gov paths on one server). The
recorded documents are served as they are; the glue SEC would also serve but that was not
recorded is made here, by hand:

* submissions for the companies without a recording (GOOGL, AMZN, META), and *trimmed*
  submissions for the others: every non-periodic filing kept, 10-K/10-Q filings kept only when
  their XBRL document is recorded (the others would 404);
* companyfacts for the companies without a recording: an empty ``facts`` object, so their
  facts come from their filing documents alone;
* each filing folder's ``index.json`` listing the recorded document;
* ``/files/company_tickers.json`` with a few entries;
* SEC's bulk archives (``companyfacts.zip``, ``submissions.zip``) once a test builds them with
  :meth:`FakeSec.build_archives`, from the same documents the per-company routes serve.

Responses carry an ETag and honour ``If-None-Match``. ``faults`` lets a test script failures
for a path: a list of (status, headers, body) served before the real document.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.wrappers import Request, Response

COMPANYFACTS_ZIP = "/Archives/edgar/daily-index/xbrl/companyfacts.zip"
SUBMISSIONS_ZIP = "/Archives/edgar/daily-index/bulkdata/submissions.zip"


@dataclass(frozen=True)
class RecordedFiling:
    ticker: str
    cik: int
    accession: str
    form: str
    filed: str
    report_date: str
    primary_document: str
    path: str  # relative to fixtures/sec/filings

    @property
    def document_name(self) -> str:
        return Path(self.path).name

    def facts(self, sec_dir: Path):
        """staging.facts rows (source 'filing') of this recorded filing's XBRL document."""
        from datetime import date

        from pipelines.sec.facts import filing_facts
        from pipelines.sec.xbrl import parse_xbrl

        path = sec_dir / "filings" / self.path
        return filing_facts(
            parse_xbrl(path.read_bytes(), url=str(path)),
            ticker=self.ticker,
            cik=self.cik,
            accession=self.accession,
            form=self.form,
            filed=date.fromisoformat(self.filed),
        )


# From ../shared/fixtures/SOURCES.md. AMZN 2024 and META 2024 accession numbers are not in the
# recordings (SOURCES.md: "not verified offline"); these are EDGAR's numbers for those 10-Ks.
RECORDED_FILINGS = [
    RecordedFiling(
        "AAPL",
        320193,
        "0000320193-23-000106",
        "10-K",
        "2023-11-03",
        "2023-09-30",
        "aapl-20230930.htm",
        "AAPL/10-K_2023-09-30/aapl-20230930_htm.xml",
    ),
    RecordedFiling(
        "AAPL",
        320193,
        "0000320193-24-000081",
        "10-Q",
        "2024-08-02",
        "2024-06-29",
        "aapl-20240629.htm",
        "AAPL/10-Q_2024-06-29/aapl-20240629.htm",
    ),
    RecordedFiling(
        "AAPL",
        320193,
        "0000320193-24-000123",
        "10-K",
        "2024-11-01",
        "2024-09-28",
        "aapl-20240928.htm",
        "AAPL/10-K_2024-09-28/aapl-20240928.htm",
    ),
    RecordedFiling(
        "AMZN",
        1018724,
        "0001018724-23-000004",
        "10-K",
        "2023-02-03",
        "2022-12-31",
        "amzn-20221231.htm",
        "AMZN/10-K_2022-12-31/amzn-20221231_htm.xml",
    ),
    RecordedFiling(
        "AMZN",
        1018724,
        "0001018724-25-000004",
        "10-K",
        "2025-02-07",
        "2024-12-31",
        "amzn-20241231.htm",
        "AMZN/10-K_2024-12-31/amzn-20241231.htm",
    ),
    RecordedFiling(
        "GOOGL",
        1652044,
        "0001652044-25-000014",
        "10-K",
        "2025-02-05",
        "2024-12-31",
        "goog-20241231.htm",
        "GOOGL/10-K_2024-12-31/goog-20241231.htm",
    ),
    RecordedFiling(
        "META",
        1326801,
        "0001326801-25-000017",
        "10-K",
        "2025-01-30",
        "2024-12-31",
        "meta-20241231.htm",
        "META/10-K_2024-12-31/meta-20241231.htm",
    ),
    RecordedFiling(
        "NVDA",
        1045810,
        "0001045810-23-000017",
        "10-K",
        "2023-02-24",
        "2023-01-29",
        "nvda-20230129.htm",
        "NVDA/10-K_2023-01-29/nvda-20230129.htm",
    ),
    RecordedFiling(
        "NVDA",
        1045810,
        "0001045810-25-000023",
        "10-K",
        "2025-02-26",
        "2025-01-26",
        "nvda-20250126.htm",
        "NVDA/10-K_2025-01-26/nvda-20250126.htm",
    ),
    RecordedFiling(
        "TSLA",
        1318605,
        "0001628280-24-002390",
        "10-K",
        "2024-01-29",
        "2023-12-31",
        "tsla-20231231.htm",
        "TSLA/10-K_2023-12-31/tsla-20231231.htm",
    ),
    RecordedFiling(
        "TSLA",
        1318605,
        "0001628280-24-032662",
        "10-Q",
        "2024-07-24",
        "2024-06-30",
        "tsla-20240630.htm",
        "TSLA/10-Q_2024-06-30/tsla-20240630_htm.xml",
    ),
    RecordedFiling(
        "TSLA",
        1318605,
        "0001628280-25-003063",
        "10-K",
        "2025-01-30",
        "2024-12-31",
        "tsla-20241231.htm",
        "TSLA/10-K_2024-12-31/tsla-20241231.htm",
    ),
]

COMPANY_NAMES = {
    320193: ("AAPL", "Apple Inc.", "0926"),
    789019: ("MSFT", "MICROSOFT CORP", "0630"),
    1652044: ("GOOGL", "Alphabet Inc.", "1231"),
    1018724: ("AMZN", "AMAZON COM INC", "1231"),
    1326801: ("META", "Meta Platforms, Inc.", "1231"),
    1045810: ("NVDA", "NVIDIA CORP", "0131"),
    1318605: ("TSLA", "Tesla, Inc.", "1231"),
}


@dataclass
class FakeSec:
    """Routes and state of the stand-in server."""

    sec_dir: Path
    faults: dict[str, list[tuple[int, dict, bytes]]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    extra: dict[str, bytes] = field(default_factory=dict)
    statuses: list[tuple[str, int]] = field(default_factory=list)

    def build_archives(
        self, ciks: list[int], members: dict[str, dict[str, bytes]] | None = None
    ) -> dict[str, bytes]:
        """Serve companyfacts.zip and submissions.zip holding the companies ``ciks``.

        Each company's members are the bodies the per-company routes serve; ``members`` adds
        or replaces members by archive path and member name (a malformed one, a company
        without a ticker). Returns the archives by path, also served from ``extra``.
        """
        contents: dict[str, dict[str, bytes]] = {COMPANYFACTS_ZIP: {}, SUBMISSIONS_ZIP: {}}
        for cik in ciks:
            name = f"CIK{cik:010d}.json"
            facts, subs = self.companyfacts(cik), self.submissions(cik)
            if facts is not None:
                contents[COMPANYFACTS_ZIP][name] = facts
            if subs is not None:
                contents[SUBMISSIONS_ZIP][name] = subs
        for path, extra in (members or {}).items():
            contents[path].update(extra)
        archives = {}
        for path, files in contents.items():
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, body in sorted(files.items()):
                    archive.writestr(name, body)
            archives[path] = buffer.getvalue()
        self.extra.update(archives)
        return archives

    def _recorded(self, cik: int) -> list[RecordedFiling]:
        return [f for f in RECORDED_FILINGS if f.cik == cik]

    def submissions(self, cik: int) -> bytes | None:
        recorded = self._recorded(cik)
        path = self.sec_dir / "submissions" / f"CIK{cik:010d}.json"
        if path.exists():
            document = json.loads(path.read_bytes())
            recent = document["filings"]["recent"]
            keep_accessions = {f.accession for f in recorded}
            keep = [
                i
                for i, (form, accession) in enumerate(
                    zip(recent["form"], recent["accessionNumber"], strict=True)
                )
                if form not in ("10-K", "10-Q") or accession in keep_accessions
            ]
            document["filings"]["recent"] = {k: [v[i] for i in keep] for k, v in recent.items()}
            # overflow pages that were not recorded are left out of the listing
            document["filings"]["files"] = [
                page
                for page in document["filings"].get("files", [])
                if (self.sec_dir / "submissions" / page["name"]).exists()
            ]
            return json.dumps(document).encode()
        if cik not in COMPANY_NAMES:
            return None
        ticker, name, fiscal_year_end = COMPANY_NAMES[cik]
        recent = {
            "accessionNumber": [f.accession for f in recorded],
            "filingDate": [f.filed for f in recorded],
            "reportDate": [f.report_date for f in recorded],
            "form": [f.form for f in recorded],
            "primaryDocument": [f.primary_document for f in recorded],
        }
        return json.dumps(
            {
                "cik": str(cik),
                "name": name,
                "tickers": [ticker],
                "fiscalYearEnd": fiscal_year_end,
                "filings": {"recent": recent, "files": []},
            }
        ).encode()

    def overflow_page(self, path: Path) -> bytes:
        """An overflow page without its 10-K/10-Q filings (none of them was recorded)."""
        page = json.loads(path.read_bytes())
        keep = [i for i, form in enumerate(page["form"]) if form not in ("10-K", "10-Q")]
        return json.dumps({k: [v[i] for i in keep] for k, v in page.items()}).encode()

    def companyfacts(self, cik: int) -> bytes | None:
        path = self.sec_dir / "companyfacts" / f"CIK{cik:010d}.json"
        if path.exists():
            return path.read_bytes()
        if cik not in COMPANY_NAMES:
            return None
        return json.dumps({"cik": cik, "entityName": COMPANY_NAMES[cik][1], "facts": {}}).encode()

    def filing(self, cik: int, folder: str, name: str) -> bytes | None:
        for f in self._recorded(cik):
            if f.accession.replace("-", "") != folder:
                continue
            if name == "index.json":
                items = [
                    {"name": f.document_name, "type": "text.gif", "size": "1"},
                    {"name": "FilingSummary.xml", "type": "text.gif", "size": "1"},
                ]
                return json.dumps(
                    {"directory": {"name": f"/Archives/edgar/data/{cik}/{folder}", "item": items}}
                ).encode()
            if name == f.document_name:
                return (self.sec_dir / "filings" / f.path).read_bytes()
        return None

    def route(self, path: str) -> bytes | None:
        if path in self.extra:
            return self.extra[path]
        parts = path.strip("/").split("/")
        if parts[0] == "submissions" and len(parts) == 2:
            name = parts[1]
            overflow = self.sec_dir / "submissions" / name
            if "-submissions-" in name:
                return self.overflow_page(overflow) if overflow.exists() else None
            return self.submissions(int(name[3:13]))
        if parts[:3] == ["api", "xbrl", "companyfacts"] and len(parts) == 4:
            return self.companyfacts(int(parts[3][3:13]))
        if parts[:3] == ["Archives", "edgar", "data"] and len(parts) == 6:
            return self.filing(int(parts[3]), parts[4], parts[5])
        if path == "/files/company_tickers.json":
            entries = {
                str(i): {"cik_str": cik, "ticker": t, "title": n}
                for i, (cik, (t, n, _)) in enumerate(sorted(COMPANY_NAMES.items()))
            }
            entries["99"] = {"cik_str": 1730168, "ticker": "AVGO", "title": "Broadcom Inc."}
            return json.dumps(entries).encode()
        return None

    def __call__(self, request: Request) -> Response:
        self.hits.append(request.path)
        if not request.headers.get("User-Agent"):
            return Response("User-Agent required", status=403)
        scripted = self.faults.get(request.path)
        if scripted:
            status, headers, body = scripted.pop(0)
            return Response(body, status=status, headers=headers)
        body = self.route(request.path)
        if body is None:
            return Response(
                "<html><body>Not Found</body></html>", status=404, content_type="text/html"
            )
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        if request.headers.get("If-None-Match") == etag:
            self.statuses.append((request.path, 304))
            return Response(status=304, headers={"ETag": etag})
        self.statuses.append((request.path, 200))
        content_type = "application/json" if request.path.endswith(".json") else "text/xml"
        if request.path.endswith(".zip"):
            content_type = "application/zip"
        return Response(body, status=200, headers={"ETag": etag}, content_type=content_type)
