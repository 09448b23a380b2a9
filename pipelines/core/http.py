"""The one HTTP client every source uses: polite, bounded, and landing bodies in raw/.

A :class:`Fetcher` sends each request with a User-Agent, a timeout and conditional-GET
validators, waits on a rate limiter shared by every process on the machine, retries 429,
5xx and connection errors (honouring ``Retry-After``) within a bounded number of attempts
and seconds, checks the body is what the caller expected, and only then stores it in raw/.
In offline mode it answers from raw/ alone and never opens a socket.
"""

from __future__ import annotations

import email.utils
import fcntl
import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import polars as pl
import requests
import urllib3
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
)

from pipelines.core.config import DEFAULT_MAX_BODY_BYTES, Settings
from pipelines.core.rawstore import MissingRawDocument, RawDocument, RawStore, document_key


class FetchError(RuntimeError):
    """A document could not be fetched or was not what was expected. Names the URL."""

    def __init__(self, url: str, cause: str):
        super().__init__(f"{url}: {cause}")
        self.url = url
        self.cause = cause


# What a parser may raise on a hostile or broken document (wrong types, missing keys, absurd
# numbers); anything else is a bug of ours and stays a crash with its traceback.
DOCUMENT_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    ArithmeticError,
    RecursionError,
    pl.exceptions.PolarsError,
)


@contextmanager
def document_errors(url: str, what: str) -> Iterator[None]:
    """Turn a parser's failure on a malformed document into one error naming its URL."""
    try:
        yield
    except FetchError:
        raise
    except DOCUMENT_ERRORS as exc:
        if url in str(exc):  # already names the document (XbrlParseError, PriceFormatError)
            raise
        raise FetchError(url, f"malformed {what} ({type(exc).__name__}: {exc})") from exc


class _Retryable(Exception):
    def __init__(self, url: str, cause: str, retry_after: float | None = None):
        super().__init__(f"{url}: {cause}")
        self.url = url
        self.cause = cause
        self.retry_after = retry_after


class RateLimiter:
    """At most ``rate`` acquisitions per second across every process sharing ``lock_path``.

    The next free slot is kept in the lock file itself; a caller takes the slot under an
    exclusive ``flock`` and sleeps until it comes, so threads and processes queue fairly.
    """

    def __init__(self, lock_path: Path, rate: float):
        self.lock_path = lock_path
        self.interval = 1.0 / rate

    def acquire(self) -> None:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.seek(0)
                text = handle.read().strip()
                next_free = float(text) if text else 0.0
                now = time.time()
                slot = max(now, next_free)
                handle.seek(0)
                handle.truncate()
                handle.write(repr(slot + self.interval))
                handle.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        delay = slot - time.time()
        if delay > 0:
            time.sleep(delay)


def _unresolvable_host(error: requests.ConnectionError) -> bool:
    """A DNS failure: retrying within seconds will not help, so it is not retried."""
    reason = getattr(error.args[0] if error.args else None, "reason", None)
    return isinstance(reason, urllib3.exceptions.NameResolutionError)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


Validator = Callable[[bytes, str | None], Any]
FileValidator = Callable[[Path], Any]
# A URL policy: returns why ``url`` may not be fetched, or None when it may.
UrlGuard = Callable[[str], str | None]

MAX_REDIRECTS = 10
_CHUNK = 1 << 16


class BodyTooLarge(ValueError):
    """A response body beyond CAPEX_MAX_BODY_BYTES (read no further than the limit)."""


class RefusedUrl(requests.RequestException):
    """A redirect to a URL the source's guard refuses (file://, another local port...)."""


class GuardedSession(requests.Session):
    """A session that checks every redirect target against ``guard`` before following it."""

    def __init__(self, guard: UrlGuard | None = None):
        super().__init__()
        self.guard = guard

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is not None:
            absolute = urljoin(resp.url, target)
            scheme = urlsplit(absolute).scheme.lower()
            why = f"{scheme}:// is not http(s)" if scheme not in {"http", "https"} else None
            why = why or (self.guard(absolute) if self.guard else None)
            if why:
                raise RefusedUrl(f"{absolute}: {why}")
        return target


def _read_limited(response: requests.Response, limit: int) -> bytes:
    """The (decoded) body of a streamed response, refusing more than ``limit`` bytes."""
    declared = response.headers.get("Content-Length", "")
    too_large = (
        f"body larger than CAPEX_MAX_BODY_BYTES={limit:,} bytes; raise that setting if this "
        "document is really that big"
    )
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise BodyTooLarge(f"{too_large} (Content-Length {int(declared):,})")
    chunks, size = [], 0
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > limit:
            response.close()
            raise BodyTooLarge(too_large)
        chunks.append(chunk)
    body = b"".join(chunks)
    response._content = body  # later reads of .content / .text see the body read here
    return body


def reject_html(body: bytes, content_type: str | None) -> None:
    """Raise ValueError when a body expected to be JSON is an HTML (error) page."""
    head = body[:200].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or "html" in (content_type or ""):
        raise ValueError(f"expected JSON but got an HTML page (Content-Type {content_type})")


def expect_json(body: bytes, content_type: str | None) -> Any:
    """Parse ``body`` as JSON, naming an HTML error page or a truncated body for what it is."""
    reject_html(body, content_type)
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON ({exc}; {len(body)} bytes)") from exc


def _stream_body(response: requests.Response, path: Path, chunk: int = 1 << 20) -> int:
    """Write a streamed response's body to ``path`` (truncating it); returns its size."""
    size = 0
    with open(path, "wb") as handle:
        for block in response.iter_content(chunk_size=chunk):
            handle.write(block)
            size += len(block)
    return size


@dataclass(frozen=True)
class Fetched:
    """A fetched (or, offline, stored) document and what the validator made of it."""

    document: RawDocument
    parsed: Any
    downloaded: bool


class Fetcher:
    """HTTP GET for one source (a base URL), landing every body in raw/ under ``source``."""

    def __init__(
        self,
        source: str,
        base_url: str,
        store: RawStore,
        *,
        user_agent: str | None,
        requests_per_second: float,
        offline: bool = False,
        timeout: float = 30.0,
        max_attempts: int = 6,
        max_retry_seconds: float = 120.0,
        user_agent_help: str | None = None,
        rate_key: str | None = None,
        session: requests.Session | None = None,
        log: Callable[[str], None] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        status_hints: Mapping[int, str] | None = None,
        url_guard: UrlGuard | None = None,
        secret_params: Mapping[str, str] | None = None,
    ):
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.store = store
        self.user_agent = user_agent
        self.user_agent_help = user_agent_help
        self.offline = offline
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_retry_seconds = max_retry_seconds
        # Sources that share a server's limit (SEC's two hosts) share one ``rate_key``.
        lock_name = f"{rate_key or source}.rate"
        self.limiter = RateLimiter(store.root / ".locks" / lock_name, requests_per_second)
        self.max_body_bytes = max_body_bytes
        # What a 4xx means for this source (a 404 from SEC is a wrong CIK, from the ECB a
        # wrong CAPEX_FX_URL), added to the error.
        self.status_hints = dict(status_hints or {})
        self.session = session or GuardedSession(url_guard)
        self.session.max_redirects = MAX_REDIRECTS
        # Query parameters added only on the wire (an API key): never part of the URL that
        # names the document in raw/, in errors or in logs.
        self.secret_params = dict(secret_params or {})
        self.log = log or (lambda _message: None)
        self.bytes_downloaded = 0
        self.requests_sent = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, source: str, base_url: str, store: RawStore, **options: Any
    ) -> Fetcher:
        """A fetcher whose offline mode, timeout, retry budget and body limit are the
        settings' (CAPEX_OFFLINE, CAPEX_HTTP_*, CAPEX_MAX_BODY_BYTES); ``options`` give the
        source's own (user agent, rate, hints...) and may override those."""
        common = dict(
            offline=settings.offline,
            timeout=settings.http_timeout,
            max_attempts=settings.http_max_attempts,
            max_retry_seconds=settings.http_max_retry_seconds,
            max_body_bytes=settings.max_body_bytes,
        )
        return cls(source, base_url, store, **{**common, **options})

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (already-absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, validate: Validator | None = None) -> Fetched:
        """Fetch ``path`` (or read it from raw/ when offline) and validate it.

        Raises :class:`FetchError` naming the URL when the document cannot be had or fails
        ``validate``; nothing is stored in that case.
        """
        url = self.url(path)
        key = document_key(self.source, url)
        if self.offline:
            try:
                doc = self.store.require_latest(key, url)
            except MissingRawDocument as exc:
                raise FetchError(url, str(exc)) from exc
            return Fetched(doc, self._validate(url, doc.read(), doc.content_type, validate), False)
        if not self.user_agent:
            raise FetchError(url, self.user_agent_help or "no User-Agent is configured")
        previous = self.store.latest(key)
        response = self._send(url, previous)
        if response.status_code == 304 and previous is not None:
            body = previous.read()
            return Fetched(
                previous, self._validate(url, body, previous.content_type, validate), False
            )
        content_type = response.headers.get("Content-Type")
        parsed = self._validate(url, response.content, content_type, validate)
        doc = self.store.put(
            key,
            url,
            response.content,
            status=response.status_code,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=content_type,
        )
        return Fetched(doc, parsed, True)

    def download(self, path: str, validate_file: FileValidator | None = None) -> Fetched:
        """Fetch ``path`` streamed to a file in raw/, never holding the body in memory.

        For large documents (SEC's bulk archives). Same conditional GET, retries and offline
        behaviour as :meth:`get`; ``validate_file`` checks the file before it is stored
        (and, on a 304 or offline, the stored version).
        """
        url = self.url(path)
        key = document_key(self.source, url)
        if self.offline:
            try:
                doc = self.store.require_latest(key, url)
            except MissingRawDocument as exc:
                raise FetchError(url, str(exc)) from exc
            return Fetched(doc, self._validate_file(url, doc.path, validate_file), False)
        if not self.user_agent:
            raise FetchError(url, self.user_agent_help or "no User-Agent is configured")
        previous = self.store.latest(key)
        with self.store.incoming(key) as body_file:
            response = self._send(url, previous, stream_to=body_file)
            if response.status_code == 304 and previous is not None:
                parsed = self._validate_file(url, previous.path, validate_file)
                return Fetched(previous, parsed, False)
            parsed = self._validate_file(url, body_file, validate_file)
            doc = self.store.put_file(
                key,
                url,
                body_file,
                status=response.status_code,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                content_type=response.headers.get("Content-Type"),
            )
        return Fetched(doc, parsed, True)

    @staticmethod
    def _validate_file(url: str, body_file: Path, validate: FileValidator | None):
        if validate is None:
            return None
        try:
            return validate(body_file)
        except Exception as exc:  # any reader error becomes a FetchError naming the URL
            raise FetchError(url, str(exc)) from exc

    def get_json(self, path: str) -> Fetched:
        return self.get(path, expect_json)

    @staticmethod
    def _validate(url: str, body: bytes, content_type: str | None, validate: Validator | None):
        if validate is None:
            return None
        try:
            return validate(body, content_type)
        except Exception as exc:  # any parser error becomes a FetchError naming the URL
            raise FetchError(url, str(exc)) from exc

    def _send(
        self, url: str, previous: RawDocument | None, stream_to: Path | None = None
    ) -> requests.Response:
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        if previous is not None:
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified

        started = time.monotonic()

        def attempt() -> requests.Response:
            self.limiter.acquire()
            self.requests_sent += 1
            try:
                response = self.session.get(
                    url,
                    params=self.secret_params or None,
                    headers=headers,
                    timeout=self.timeout,
                    stream=True,
                )
                if stream_to is None or response.status_code != 200:
                    # reads the body: a short read raises here
                    body = _read_limited(response, self.max_body_bytes)
                    size = len(body)
                else:  # streamed to disk as received (bulk archives), never held in memory
                    body, size = b"", _stream_body(response, stream_to)
            except BodyTooLarge as exc:
                raise FetchError(url, str(exc)) from None
            except RefusedUrl as exc:
                raise FetchError(url, f"refused a redirect: {self.redact(str(exc))}") from None
            except requests.TooManyRedirects:
                raise FetchError(
                    url, f"redirect loop: more than {MAX_REDIRECTS} redirects; check the URL"
                ) from None
            except requests.Timeout as exc:
                raise _Retryable(url, f"timed out after {self.timeout}s") from exc
            except requests.ConnectionError as exc:
                text = self.redact(str(exc))
                if _unresolvable_host(exc):
                    raise FetchError(
                        url,
                        "cannot resolve the host name: no network here, or a wrong base URL "
                        "(check the CAPEX_*_URL settings; CAPEX_OFFLINE=1 builds from raw/)",
                    ) from (None if self.secret_params else exc)
                raise _Retryable(url, f"connection failed or body truncated ({text})") from None
            except requests.exceptions.ChunkedEncodingError as exc:
                raise _Retryable(url, f"body truncated ({self.redact(str(exc))})") from None
            except requests.RequestException as exc:  # undecodable body, bad URL...
                text = self.redact(str(exc))
                raise FetchError(url, f"request failed ({type(exc).__name__}: {text})") from None
            return self._answered(url, response, body, size, started)

        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_retry_seconds),
            wait=self._wait,
            reraise=True,
            before_sleep=self._log_retry,
        )
        try:
            return retrying(attempt)
        except _Retryable as exc:
            raise FetchError(
                url,
                f"{exc.cause}; gave up after {self.max_attempts} attempts or "
                f"{self.max_retry_seconds:.0f}s of retrying. Try again later",
            ) from exc

    def _answered(
        self, url: str, response: requests.Response, body: bytes, size: int, started: float
    ) -> requests.Response:
        """The response of one attempt, or the error its status means (retryable or not)."""
        status = response.status_code
        if status == 429 or status >= 500:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            budget_left = self.max_retry_seconds - (time.monotonic() - started)
            if wait is not None and wait > budget_left:
                raise FetchError(
                    url,
                    f"HTTP {status} with Retry-After {wait:.0f}s, beyond the "
                    f"{self.max_retry_seconds:.0f}s retry budget; try again later",
                )
            raise _Retryable(url, f"HTTP {status}", wait)
        if status == 304:
            return response
        if status >= 400:
            hint = f" ({self.status_hints[status]})" if status in self.status_hints else ""
            raise FetchError(url, f"HTTP {status}{hint}{self._short_body(body)}")
        self.bytes_downloaded += size
        return response

    def _short_body(self, body: bytes) -> str:
        """A short JSON error body (an API's error object), to quote in the error."""
        text = body.decode("utf-8", errors="replace").strip()
        if not text.startswith("{") or len(text) > 300:
            return ""
        return f"; the server said: {self.redact(text)}"

    def redact(self, text: str) -> str:
        """``text`` with every secret parameter's value replaced by ``***``."""
        for value in self.secret_params.values():
            if value:
                text = text.replace(value, "***").replace(quote(value, safe=""), "***")
        return text

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        backoff = min(30.0, 0.5 * 2 ** (state.attempt_number - 1))
        if isinstance(error, _Retryable) and error.retry_after is not None:
            backoff = error.retry_after
        # never sleep past the overall retry budget
        elapsed = state.seconds_since_start or 0.0
        return max(0.0, min(backoff, self.max_retry_seconds - elapsed))

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        self.log(f"retrying after {error} (attempt {state.attempt_number}, waiting {wait:.1f}s)")
