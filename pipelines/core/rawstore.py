"""raw/: every fetched document exactly as received, never rewritten.

Layout: one folder per document key (a source name and the URL's path and query, never the
host, so a local test server and the live service land in the same place), holding each
distinct version as ``<fetched_at>_<sha256[:16]>.body`` beside a ``.meta.json`` sidecar with
the URL, time, HTTP status, digest, size and validators (ETag / Last-Modified). The sidecars
make raw/ self-describing: the warehouse's ``raw.manifest`` and every later table can be
rebuilt from this folder alone.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class RawDocument:
    """One stored version of a fetched document."""

    key: str
    url: str
    fetched_at: str
    status: int
    sha256: str
    bytes: int
    etag: str | None
    last_modified: str | None
    content_type: str | None
    path: Path

    def read(self) -> bytes:
        return self.path.read_bytes()

    def manifest_row(self) -> dict:
        row = asdict(self)
        row["path"] = str(self.path)
        return row


class MissingRawDocument(LookupError):
    """Offline mode asked for a document that raw/ does not hold."""


_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")
#: Query parameters that are credentials, never part of a key (a file name in raw/).
SECRET_PARAMETERS = frozenset({"apikey", "api_key", "crumb"})


def _public_query(query: str) -> str:
    """``query`` without its credential parameters (the others untouched, in order)."""
    kept = [p for p in query.split("&") if p.split("=", 1)[0].lower() not in SECRET_PARAMETERS]
    return "&".join(kept)


def document_key(source: str, url: str) -> str:
    """Return the storage key of ``url`` for ``source``: host-independent and path-safe.

    Credential parameters (:data:`SECRET_PARAMETERS`) are left out of the key.
    """
    parts = urlsplit(url)
    segments = [_UNSAFE.sub("_", s) for s in parts.path.split("/") if s and s not in {".", ".."}]
    query = _public_query(parts.query)
    if query:
        segments.append("q_" + _UNSAFE.sub("_", query))
    return "/".join([source, *segments]) if segments else f"{source}/_root"


def forbid_world_write() -> None:
    """Mask the world-write bit for every file and folder this process creates.

    raw/, the warehouse and the reports are data others may read but nobody else may
    change, whatever umask the process was started with.
    """
    current = os.umask(0o022)
    os.umask(current | 0o002)


class RawStore:
    """Append-only store of fetched bodies under ``root``."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        forbid_world_write()

    def _folder(self, key: str) -> Path:
        return self.root / key

    def versions(self, key: str) -> list[RawDocument]:
        """Every stored version of ``key``, oldest first."""
        folder = self._folder(key)
        if not folder.is_dir():
            return []
        docs = []
        for meta_path in sorted(folder.glob("*.meta.json")):
            meta = json.loads(meta_path.read_text())
            body = meta_path.with_name(meta_path.name.removesuffix(".meta.json") + ".body")
            docs.append(RawDocument(key=key, path=body, **meta))
        return docs

    def latest(self, key: str) -> RawDocument | None:
        """The most recently fetched version of ``key``, or None."""
        versions = self.versions(key)
        return versions[-1] if versions else None

    def require_latest(self, key: str, url: str) -> RawDocument:
        doc = self.latest(key)
        if doc is None:
            raise MissingRawDocument(
                f"offline mode: {url} is not in {self.root}/ (key {key}); "
                "run once without CAPEX_OFFLINE=1 to fetch it"
            )
        return doc

    def put(
        self,
        key: str,
        url: str,
        body: bytes,
        *,
        status: int = 200,
        etag: str | None = None,
        last_modified: str | None = None,
        content_type: str | None = None,
    ) -> RawDocument:
        """Store ``body`` as a new version of ``key``; an identical latest version is reused."""
        digest = hashlib.sha256(body).hexdigest()
        latest = self.latest(key)
        if latest is not None and latest.sha256 == digest:
            return latest
        meta = self._meta(url, digest, len(body), status, etag, last_modified, content_type)
        stem = f"{meta['fetched_at'].replace(':', '').replace('-', '')}_{digest[:16]}"
        folder = self._folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        body_path = folder / f"{stem}.body"
        with _locked(folder):
            _sweep_folder(folder)  # what a writer killed here before left behind
            _write_atomically(body_path, body)
            # The sidecar goes last: a version exists only once both files are complete.
            _write_atomically(folder / f"{stem}.meta.json", json.dumps(meta, indent=1).encode())
        return RawDocument(key=key, path=body_path, **meta)

    @contextmanager
    def incoming(self, key: str) -> Iterator[Path]:
        """A temporary file in ``key``'s folder to stream a body into, removed unless adopted.

        Pass it to :meth:`put_file` inside the block; a body that fails half-way never
        becomes a version.
        """
        folder = self._folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        # Held while the body streams in, so a sweep in another process never takes it.
        with _locked(folder):
            _sweep_folder(folder)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=_TMP_PREFIX, suffix=".body")
            os.close(fd)
            try:
                yield Path(tmp)
            finally:
                Path(tmp).unlink(missing_ok=True)

    def put_file(
        self,
        key: str,
        url: str,
        body_file: Path,
        *,
        status: int = 200,
        etag: str | None = None,
        last_modified: str | None = None,
        content_type: str | None = None,
    ) -> RawDocument:
        """Store the file ``body_file`` (from :meth:`incoming`) as a new version of ``key``.

        The file is moved, never read into memory; an identical latest version is reused.
        """
        digest, size = file_sha256(body_file)
        latest = self.latest(key)
        if latest is not None and latest.sha256 == digest:
            return latest
        with open(body_file, "rb") as handle:
            os.fsync(handle.fileno())
        meta = self._meta(url, digest, size, status, etag, last_modified, content_type)
        stem = f"{meta['fetched_at'].replace(':', '').replace('-', '')}_{digest[:16]}"
        body_path = self._folder(key) / f"{stem}.body"
        os.replace(body_file, body_path)
        sidecar = json.dumps(meta, indent=1).encode()
        _write_atomically(body_path.with_name(f"{stem}.meta.json"), sidecar)
        return RawDocument(key=key, path=body_path, **meta)

    @staticmethod
    def _meta(url, digest, size, status, etag, last_modified, content_type) -> dict:
        return {
            "url": url,
            "fetched_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "status": status,
            "sha256": digest,
            "bytes": size,
            "etag": etag,
            "last_modified": last_modified,
            "content_type": content_type,
        }

    def sweep_partial(self) -> list[Path]:
        """Remove what a killed writer left behind: temporary files, bodies without sidecar.

        Each folder is swept under the same lock :meth:`put` holds, so a writer still at work
        in another process is never disturbed. Returns the removed paths.
        """
        if not self.root.is_dir():
            return []
        folders = {path.parent for path in self.root.rglob(f"{_TMP_PREFIX}*")}
        folders |= {
            body.parent for body in self.root.rglob("*.body") if not _meta_of(body).exists()
        }
        removed: list[Path] = []
        for folder in sorted(folders):
            with _locked(folder):
                removed += _sweep_folder(folder)
        return removed

    def keys_under(self, prefix: str) -> list[str]:
        """The keys directly below the folder ``prefix`` that hold at least one version."""
        folder = self._folder(prefix)
        if not folder.is_dir():
            return []
        return sorted(
            f"{prefix.rstrip('/')}/{child.name}"
            for child in folder.iterdir()
            if child.is_dir() and any(child.glob("*.meta.json"))
        )

    def all_documents(self) -> list[RawDocument]:
        """Every version of every document (for rebuilding the manifest)."""
        docs = []
        for meta_path in sorted(self.root.rglob("*.meta.json")):
            key = meta_path.parent.relative_to(self.root).as_posix()
            meta = json.loads(meta_path.read_text())
            body = meta_path.with_name(meta_path.name.removesuffix(".meta.json") + ".body")
            docs.append(RawDocument(key=key, path=body, **meta))
        return docs


def file_sha256(path: Path, chunk: int = 1 << 20) -> tuple[str, int]:
    """The sha256 hex digest and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


_TMP_PREFIX = ".tmp-"
_LOCK_NAME = ".lock"


def _meta_of(body: Path) -> Path:
    return body.with_name(body.name.removesuffix(".body") + ".meta.json")


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on one document folder (released by the OS if the holder dies)."""
    with open(folder / _LOCK_NAME, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sweep_folder(folder: Path) -> list[Path]:
    """Under the folder's lock: delete temporary files and bodies whose sidecar never came."""
    stale = list(folder.glob(f"{_TMP_PREFIX}*"))
    stale += [body for body in folder.glob("*.body") if not _meta_of(body).exists()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TMP_PREFIX, suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
