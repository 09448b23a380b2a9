"""SEC's nightly bulk archives: every filer's companyfacts and submissions in two zips.

* ``{CAPEX_SEC_WWW_URL}/Archives/edgar/daily-index/xbrl/companyfacts.zip``
* ``{CAPEX_SEC_WWW_URL}/Archives/edgar/daily-index/bulkdata/submissions.zip``

Each holds one ``CIK##########.json`` per company (the same document as the per-company
API); submissions also holds the overflow pages ``CIK##########-submissions-001.json``.

The archives are opened in place from raw/ (never extracted whole, never read whole into
memory). Before anything is read, :func:`open_archive` refuses a zip that is not one (a
truncated download: the central directory at its end is missing) and a zip bomb (a member
or a total that expands past sane limits). A member that is empty, not JSON or of the
wrong shape is reported by name and skipped; the others land.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.core.http import Fetched
from pipelines.core.warehouse import set_threads
from pipelines.sec.companyfacts import CompanyFacts, normalize_many, parse_companyfacts
from pipelines.sec.submissions import company_row, filings_frame, overflow_pages_needed

COMPANYFACTS_ARCHIVE = "/Archives/edgar/daily-index/xbrl/companyfacts.zip"
SUBMISSIONS_ARCHIVE = "/Archives/edgar/daily-index/bulkdata/submissions.zip"

# SEC's JSON deflates about 10-20x; a bomb expands 1,000x and more. The largest companyfacts
# document is tens of MB; the whole companyfacts archive expands to under 20 GB today.
MAX_RATIO = 100
MAX_MEMBER_BYTES = 1 << 30
MAX_TOTAL_BYTES = 200 << 30
# DuckDB while landing the universe. memory_limit: the whole archive goes in one transaction,
# and DuckDB spills to disk past this instead of growing with the number of companies. FSST
# off: DuckDB tries it on every string column of every row group and keeps dictionary
# compression anyway (these columns repeat); not trying it makes the insert ~10% cheaper and
# the file no larger. 512 MB rather than 1 GB: as fast, and the landing's peak stays ~1.2 GB
# (bench/bench_bulk.py).
DUCKDB_SETTINGS = {"memory_limit": "512MB", "disabled_compression_methods": "fsst"}
# A batch's insert is one pipeline, which one thread runs either way; with two, DuckDB's worker
# often took it while the calling thread waited by polling (perf: ~10% of the landing's CPU in
# mutex lock/unlock under PendingQueryResult::ExecuteTask), CPU the reading thread needs. With
# one: 18% less CPU.
LANDING_THREADS = 1


def tune_for_landing(con) -> None:
    """Apply :data:`DUCKDB_SETTINGS` and :data:`LANDING_THREADS` to ``con``, the connection
    that lands the archive."""
    for setting, value in DUCKDB_SETTINGS.items():
        con.execute(f"SET {setting} = '{value}'")
    set_threads(con, LANDING_THREADS)


# JSON per batch: large enough that DuckDB writes whole row groups (~200,000 rows), small
# enough that the batches in flight stay far below the memory target. 32 MB landed 1,000
# companies with the least CPU of 16, 32 and 64 MB.
BATCH_BYTES = 32 << 20
# Members below this size are not held to the ratio (tiny JSON compresses oddly well).
_RATIO_FLOOR_BYTES = 1 << 20

_MEMBER = re.compile(r"^CIK(\d{10})\.json$")
_OVERFLOW = re.compile(r"^CIK(\d{10})-submissions-\d+\.json$")


class ArchiveError(ValueError):
    """A bulk archive cannot be used at all (corrupt, truncated, or a zip bomb)."""


@dataclass(frozen=True)
class Limits:
    """How far an archive may expand before it is refused as a zip bomb."""

    max_ratio: float = MAX_RATIO
    max_member_bytes: int = MAX_MEMBER_BYTES
    max_total_bytes: int = MAX_TOTAL_BYTES


def open_archive(path: Path, limits: Limits = Limits()) -> zipfile.ZipFile:
    """Open a bulk archive after checking it is a zip within ``limits``.

    Raises :class:`ArchiveError` naming the file and what to do.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(
            f"{path}: not a readable zip archive ({exc}); the download is probably truncated "
            "or corrupt. Fetch it again (a run without CAPEX_OFFLINE=1)"
        ) from exc
    try:
        check_limits(archive, limits, path)
    except ArchiveError:
        archive.close()
        raise
    return archive


def check_limits(archive: zipfile.ZipFile, limits: Limits, path: Path | str) -> None:
    """Raise :class:`ArchiveError` when a member or the whole archive expands too far."""
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        too_big = info.file_size > limits.max_member_bytes
        bomb = info.file_size > _RATIO_FLOOR_BYTES and ratio > limits.max_ratio
        if too_big or bomb:
            raise ArchiveError(
                f"{path}: member {info.filename} expands to {info.file_size:,} bytes "
                f"({ratio:,.0f}x its compressed size); refused as a possible zip bomb "
                f"(limits: {limits.max_member_bytes:,} bytes, {limits.max_ratio:g}x)"
            )
    if total > limits.max_total_bytes:
        raise ArchiveError(
            f"{path}: expands to {total:,} bytes, past the {limits.max_total_bytes:,}-byte "
            "limit; refused as a possible zip bomb"
        )


def archive_summary(path: Path) -> dict:
    """A file validator for downloads: the archive opens and is within limits."""
    with open_archive(path) as archive:
        infos = archive.infolist()
        return {"members": len(infos), "expanded_bytes": sum(i.file_size for i in infos)}


def company_members(archive: zipfile.ZipFile) -> dict[int, zipfile.ZipInfo]:
    """The ``CIK##########.json`` members by CIK (overflow pages and other files left out)."""
    members = {}
    for info in archive.infolist():
        match = _MEMBER.match(info.filename)
        if match:
            members[int(match.group(1))] = info
    return members


def overflow_members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The submissions overflow pages by file name."""
    return {i.filename: i for i in archive.infolist() if _OVERFLOW.match(i.filename)}


class MemberError(ValueError):
    """One member of an archive is unusable; the message names it."""


def member_body(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, else :class:`MemberError` when it is empty.

    A CRC mismatch (a corrupt archive, not a bad member) raises :class:`ArchiveError`.
    """
    try:
        body = archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ArchiveError(
            f"{archive.filename}: member {info.filename} is corrupt ({exc}); fetch the "
            "archive again"
        ) from exc
    if not body.strip():
        raise MemberError(f"{info.filename}: empty member")
    return body


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, required_key: str) -> dict:
    """A member parsed as a JSON object holding ``required_key``, else :class:`MemberError`."""
    body = member_body(archive, info)
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise MemberError(f"{info.filename}: malformed JSON ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get(required_key), dict):
        raise MemberError(f"{info.filename}: not a JSON object with a {required_key!r} object")
    return document


def read_companyfacts(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> CompanyFacts:
    """A companyfacts member decoded down to its fact lists, else :class:`MemberError`."""
    body = member_body(archive, info)
    try:
        return parse_companyfacts(body)
    except ValueError as exc:
        raise MemberError(f"{info.filename}: {exc}") from exc


@dataclass
class SubmissionsArchive:
    """submissions.zip opened for reading: each company's document with its overflow pages."""

    archive: zipfile.ZipFile
    members: dict[int, zipfile.ZipInfo] = field(init=False)
    overflow: dict[str, zipfile.ZipInfo] = field(init=False)

    def __post_init__(self) -> None:
        self.members = company_members(self.archive)
        self.overflow = overflow_members(self.archive)

    def document(self, cik: int) -> dict | None:
        """The company's submissions document, None when the archive lacks it."""
        info = self.members.get(cik)
        return None if info is None else read_member(self.archive, info, "filings")

    def page(self, name: str) -> dict:
        """An overflow page (``filings.files`` names it)."""
        info = self.overflow.get(name)
        if info is None:
            raise MemberError(f"{name}: overflow page listed but not in the archive")
        page = json.loads(self.archive.read(info))
        if not isinstance(page, dict) or "accessionNumber" not in page:
            raise MemberError(f"{name}: not a submissions overflow page")
        return page

    def tickers(self) -> dict[int, str | None]:
        """Each company's first listed ticker (None when it has none), by CIK.

        Reads only the head of each member: ``tickers`` comes before the filings.
        """
        found: dict[int, str | None] = {}
        for cik, info in self.members.items():
            found[cik] = _first_ticker(self.archive, info)
        return found


_TICKERS = re.compile(rb'"tickers"\s*:\s*\[\s*(?:"([^"]*)")?')


def _first_ticker(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    with archive.open(info) as handle:
        head = handle.read(4096)
    match = _TICKERS.search(head)
    if match is None:
        try:
            document = json.loads(archive.read(info))
            listed = document.get("tickers") or [None]
            return listed[0].upper() if listed[0] else None
        except (ValueError, AttributeError, TypeError):
            return None
    return match.group(1).decode().upper() if match.group(1) else None


def company_submissions(
    submissions: SubmissionsArchive, cik: int, ticker: str | None, since
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """staging.filings and staging.companies rows of one company from the archive."""
    document = submissions.document(cik)
    if document is None:
        raise MemberError(f"CIK{cik:010d}.json: not in the submissions archive")
    pages = [submissions.page(name) for name in overflow_pages_needed(document, since)]
    try:
        return (
            filings_frame(document, pages, ticker, cik),
            company_row(document, ticker, cik),
        )
    except (AttributeError, TypeError, KeyError, ValueError, pl.exceptions.PolarsError) as exc:
        raise MemberError(
            f"CIK{cik:010d}.json: submissions of an unexpected shape ({exc})"
        ) from exc


def iter_members(
    archive: zipfile.ZipFile, ciks: set[int] | None
) -> Iterator[tuple[int, zipfile.ZipInfo]]:
    """The company members, by CIK order, limited to ``ciks`` when given."""
    members = company_members(archive)
    for cik in sorted(members):
        if ciks is None or cik in ciks:
            yield cik, members[cik]


@dataclass(frozen=True)
class FactsBatch:
    """staging.facts rows of some companies of the archive, and the members skipped."""

    frame: pl.DataFrame | None
    landed: list[int]
    skipped: dict[str, str]


# One companyfacts member of a batch: the member, its CIK and its ticker.
Member = tuple[zipfile.ZipInfo, int, str | None]


def _normalize_members(archive: zipfile.ZipFile, members: list[Member]) -> FactsBatch:
    """The companyfacts ``members`` of ``archive`` as one frame of facts.

    A bad member is left out and reported in ``skipped`` (name → reason).
    """
    documents, names, skipped = [], [], {}
    for info, cik, ticker in members:
        try:
            documents.append((read_companyfacts(archive, info), ticker, cik))
            names.append(info.filename)
        except MemberError as exc:
            skipped[info.filename] = str(exc)
    try:
        frame = normalize_many(documents)
    except ValueError:
        # some member's facts are of the wrong shape: find it, and land the others
        frames, read = [], []
        for document, name in zip(documents, names, strict=True):
            try:
                frames.append(normalize_many([document]))
                read.append(document)
            except ValueError as exc:
                skipped[name] = f"{name}: {exc}"
        documents = read
        frame = pl.concat(frames, how="vertical") if frames else None
    landed = [cik for _document, _ticker, cik in documents]
    return FactsBatch(frame if landed else None, landed, skipped)


def plan_batches(
    archive: zipfile.ZipFile,
    tickers: dict[int, str | None],
    ciks: set[int] | None,
    batch_bytes: int,
) -> list[list[Member]]:
    """Members grouped into batches of about ``batch_bytes`` of JSON each, by CIK order."""
    batches: list[list[Member]] = [[]]
    size = 0
    for cik, info in iter_members(archive, ciks):
        if size >= batch_bytes:
            batches.append([])
            size = 0
        batches[-1].append((info, cik, tickers.get(cik)))
        size += info.file_size
    return [b for b in batches if b]


def companyfacts_batches(
    path: Path,
    tickers: dict[int, str | None],
    ciks: set[int] | None = None,
    *,
    ahead: int = 1,
    batch_bytes: int = BATCH_BYTES,
    limits: Limits = Limits(),
) -> Iterator[FactsBatch]:
    """Every companyfacts member of the archive at ``path`` as batches of staging.facts rows.

    ``ciks`` limits the companies (None: all). The archive is opened (and checked against
    ``limits``) once. While the caller lands one batch, ``ahead`` more are read and
    normalized in threads (inflating, polars and DuckDB release the GIL, so reading and
    landing use both cores; zipfile serializes the threads' reads of the one file); memory
    stays about ``ahead`` + 2 batches whatever the size of the archive.
    """
    with (
        open_archive(path, limits) as archive,
        ThreadPoolExecutor(max(1, ahead), thread_name_prefix="capex-bulk") as pool,
    ):
        pending: deque[Future[FactsBatch]] = deque()
        for members in plan_batches(archive, tickers, ciks, batch_bytes):
            pending.append(pool.submit(_normalize_members, archive, members))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class ArchiveDocuments:
    """The two stored archives, read as per-company documents for the companies followed.

    A document read from an archive is a :class:`Fetched` whose ``document`` is the
    archive's raw/ version, so lineage (raw.manifest) names the file it came from.
    """

    def __init__(self, companyfacts: Fetched, submissions: Fetched, limits: Limits = Limits()):
        self.companyfacts_archive = companyfacts
        self.submissions_archive = submissions
        self._facts = open_archive(companyfacts.document.path, limits)
        self._facts_members = company_members(self._facts)
        self.submissions = SubmissionsArchive(open_archive(submissions.document.path, limits))

    def __enter__(self) -> ArchiveDocuments:
        return self

    def __exit__(self, *_exc) -> None:
        self._facts.close()
        self.submissions.archive.close()

    def submissions_of(self, cik: int) -> Fetched | None:
        """The company's submissions document, None when the archive lacks the company."""
        document = self.submissions.document(cik)
        if document is None:
            return None
        return Fetched(self.submissions_archive.document, document, False)

    def submissions_page(self, name: str) -> Fetched:
        return Fetched(self.submissions_archive.document, self.submissions.page(name), False)

    def companyfacts_of(self, cik: int) -> Fetched | None:
        """The company's companyfacts document, None when the archive lacks the company."""
        info = self._facts_members.get(cik)
        if info is None:
            return None
        document = read_companyfacts(self._facts, info)
        return Fetched(self.companyfacts_archive.document, document, False)

    def tickers(self) -> dict[int, str | None]:
        """Each company's ticker (None without one), by CIK, for every company of both."""
        found: dict[int, str | None] = dict.fromkeys(self._facts_members)
        found.update(self.submissions.tickers())
        return found
