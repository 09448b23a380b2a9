"""raw/: every fetched document exactly as received, never rewritten.

Layout: one folder per document key (a source name and the URL's path and query, never the
host, so a local test server and the live service land in the same place), holding each
distinct version as ``<fetched_at>_<sha256[:16]>.body`` beside a ``.meta.json`` sidecar with
the URL, time, HTTP status, digest, size and validators (ETag / Last-Modified). The sidecars
make raw/ self-describing: the warehouse's ``raw.manifest`` and every later table can be
rebuilt from this folder alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
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


def document_key(source: str, url: str) -> str:
    """Return the storage key of ``url`` for ``source``: host-independent and path-safe."""
    parts = urlsplit(url)
    segments = [_UNSAFE.sub("_", s) for s in parts.path.split("/") if s and s not in {".", ".."}]
    if parts.query:
        segments.append("q_" + _UNSAFE.sub("_", parts.query))
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
        fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        stem = f"{fetched_at.replace(':', '').replace('-', '')}_{digest[:16]}"
        folder = self._folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "url": url,
            "fetched_at": fetched_at,
            "status": status,
            "sha256": digest,
            "bytes": len(body),
            "etag": etag,
            "last_modified": last_modified,
            "content_type": content_type,
        }
        body_path = folder / f"{stem}.body"
        _write_atomically(body_path, body)
        # The sidecar goes last: a version exists only once both files are complete.
        _write_atomically(folder / f"{stem}.meta.json", json.dumps(meta, indent=1).encode())
        return RawDocument(key=key, path=body_path, **meta)

    def all_documents(self) -> list[RawDocument]:
        """Every version of every document (for rebuilding the manifest)."""
        docs = []
        for meta_path in sorted(self.root.rglob("*.meta.json")):
            key = meta_path.parent.relative_to(self.root).as_posix()
            meta = json.loads(meta_path.read_text())
            body = meta_path.with_name(meta_path.name.removesuffix(".meta.json") + ".body")
            docs.append(RawDocument(key=key, path=body, **meta))
        return docs


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
