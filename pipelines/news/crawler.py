"""News sources: RSS/Atom feeds and article pages, fetched politely into raw/.

Sources are the URLs of ``CAPEX_NEWS_SOURCES`` plus those of the ``CAPEX_NEWS_CONFIG`` file
(TOML)::

    sources = [
      "https://www.example-news.com/technology/rss.xml",
      "https://ir.example.com/news/2024/q2-results.html",
    ]
    [hosts."www.example-news.com"]
    requests_per_second = 0.2          # optional, per host (default CAPEX_NEWS_RATE)

A source whose body parses as RSS or Atom is a feed and its items' links are followed; any
other source is an article. Every request goes through :class:`pipelines.core.http.Fetcher`: one
per host, named ``news-<host>`` in raw/, with the news User-Agent, the host's rate limit,
timeouts and bounded retries, and after a check against the host's robots.txt (fetched the
same way; RFC 9309: a 4xx robots.txt allows everything, an unreachable one allows nothing; a
Crawl-delay lowers the host's rate). Feeds roll items off, so the articles of a feed are the
union over every version of it raw/ holds: articles seen once stay, and an offline rebuild
(``CAPEX_OFFLINE=1``) finds exactly the same pages without a socket.
"""

from __future__ import annotations

import hashlib
import ipaddress
import tomllib
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import polars as pl
from lxml import etree

from pipelines.core.config import ConfigError, Settings
from pipelines.core.http import Fetcher, FetchError, RateLimiter
from pipelines.core.rawstore import RawDocument, RawStore, document_key
from pipelines.core.tables import NEWS_ARTICLES
from pipelines.news.article_html import (
    MAX_PAGE_BYTES,
    NoArticleBody,
    extract_article,
    parse_datetime,
)


@dataclass(frozen=True)
class NewsConfig:
    """The news sources to read and per-host request rates."""

    sources: tuple[str, ...]
    host_rates: dict[str, float] = field(default_factory=dict)


def read_news_config(path: Path) -> NewsConfig:
    """Parse a CAPEX_NEWS_CONFIG file; raises :class:`ConfigError` naming the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"CAPEX_NEWS_CONFIG={path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"CAPEX_NEWS_CONFIG={path} is not valid TOML: {exc}") from exc
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ConfigError(
            f"{path}: 'sources' must be a list of URLs, e.g. sources = [\"https://...\"]"
        )
    rates = {}
    for host, table in (data.get("hosts") or {}).items():
        rate = (table or {}).get("requests_per_second")
        if not isinstance(rate, int | float) or rate <= 0:
            raise ConfigError(
                f"{path}: hosts.{host!r}.requests_per_second must be a positive number"
            )
        rates[host.lower()] = float(rate)
    return NewsConfig(tuple(s.strip() for s in sources if s.strip()), rates)


def news_config(settings: Settings) -> NewsConfig:
    """Sources from CAPEX_NEWS_SOURCES then the config file, each URL once, checked."""
    file_config = read_news_config(settings.news_config) if settings.news_config else None
    urls = list(settings.news_sources) + list(file_config.sources if file_config else ())
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError(
                f"news source {url!r} is not an http(s) URL; check CAPEX_NEWS_SOURCES / "
                "CAPEX_NEWS_CONFIG"
            )
    return NewsConfig(tuple(dict.fromkeys(urls)), file_config.host_rates if file_config else {})


# --- feeds --------------------------------------------------------------------------------

_ATOM = "{http://www.w3.org/2005/Atom}"
_RSS1 = "{http://purl.org/rss/1.0/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed: the article link and what the feed says of it."""

    url: str
    title: str | None
    published: str | None


def parse_feed(body: bytes, base_url: str) -> list[FeedItem] | None:
    """The items of an RSS 2.0, RSS 1.0 or Atom feed; None when ``body`` is not a feed."""
    head = body[:512].lstrip().lower()
    if not head.startswith(b"<?xml") and not head.startswith((b"<rss", b"<feed", b"<rdf")):
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return None
    tag = etree.QName(root).localname.lower()
    items: list[FeedItem] = []

    def text(node, *names) -> str | None:
        for name in names:
            child = node.find(name)
            if child is not None and (child.text or "").strip():
                return child.text.strip()
        return None

    if tag == "rss":
        for item in root.iter("item"):
            link = text(item, "link")
            guid = item.find("guid")
            if not link and guid is not None and guid.get("isPermaLink", "true") == "true":
                link = (guid.text or "").strip() or None
            if link:
                items.append(
                    FeedItem(urljoin(base_url, link), text(item, "title"), text(item, "pubDate"))
                )
    elif tag == "feed":
        for entry in root.iter(f"{_ATOM}entry"):
            link = None
            for candidate in entry.findall(f"{_ATOM}link"):
                if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                    link = candidate.get("href")
                    break
            if link:
                items.append(
                    FeedItem(
                        urljoin(base_url, link),
                        text(entry, f"{_ATOM}title"),
                        text(entry, f"{_ATOM}published", f"{_ATOM}updated"),
                    )
                )
    elif tag == "rdf":
        for item in root.iter(f"{_RSS1}item"):
            link = text(item, f"{_RSS1}link") or item.get(f"{_RDF}about")
            if link:
                items.append(FeedItem(urljoin(base_url, link), text(item, f"{_RSS1}title"), None))
    else:
        return None
    return items


def expect_page(body: bytes, content_type: str | None) -> None:
    """Reject what cannot be an HTML page or a feed (empty bodies, PDFs, images)."""
    if not body.strip():
        raise ValueError("empty body")
    if len(body) > MAX_PAGE_BYTES:
        raise ValueError(
            f"a page of {len(body):,} bytes is larger than any news article or feed "
            f"({MAX_PAGE_BYTES:,} at most)"
        )
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind and not (kind.endswith(("html", "xml")) or kind.startswith("text/")):
        raise ValueError(f"expected an HTML page or a feed, got Content-Type {content_type}")


# --- crawling -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """An article page as raw/ holds it, and how it was reached."""

    url: str
    source: str  # the host it was fetched from
    document: RawDocument
    feed_title: str | None = None
    feed_published: str | None = None


@dataclass
class CrawlReport:
    """What a crawl found, skipped and failed on (for the asset's metadata and log)."""

    pages: list[Page] = field(default_factory=list)
    feeds: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (url, why)
    failed: list[tuple[str, str]] = field(default_factory=list)
    requests_sent: int = 0
    bytes_downloaded: int = 0
    documents: list[str] = field(default_factory=list)  # raw/ keys touched


NEWS_STATUS_HINTS = {
    401: "the site wants a log-in: leave it out of CAPEX_NEWS_SOURCES / CAPEX_NEWS_CONFIG",
    403: "the site refuses our crawler (CAPEX_NEWS_USER_AGENT); leave it out or ask for access",
    404: "the page is gone or moved; check CAPEX_NEWS_SOURCES / CAPEX_NEWS_CONFIG",
    410: "the site removed the page for good",
}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:  # a port out of range: matches no source
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def host_source(url: str) -> str:
    """The raw/ source name of a URL's host, e.g. 'news-www.example.com'."""
    return f"news-{(urlsplit(url).hostname or 'unknown').lower()}"


class NewsCrawler:
    """Fetches the configured sources and their articles, one :class:`Fetcher` per host."""

    def __init__(
        self,
        settings: Settings,
        store: RawStore,
        config: NewsConfig | None = None,
        log: Callable[[str], None] | None = None,
    ):
        self.settings = settings
        self.store = store
        self.config = config or news_config(settings)
        self.log = log or (lambda _message: None)
        self._fetchers: dict[str, Fetcher] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self.report = CrawlReport()

    def fetcher(self, url: str) -> Fetcher:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._fetchers:
            host = (parts.hostname or "").lower()
            self._fetchers[origin] = Fetcher.from_settings(
                self.settings,
                host_source(url),
                origin,
                self.store,
                user_agent=self.settings.news_user_agent,
                requests_per_second=self.config.host_rates.get(
                    host, self.settings.news_requests_per_second
                ),
                user_agent_help="set CAPEX_NEWS_USER_AGENT",
                log=self.log,
                status_hints=NEWS_STATUS_HINTS,
                url_guard=self.refused,
            )
        return self._fetchers[origin]

    def refused(self, url: str) -> str | None:
        """Why a link (from a feed, or a redirect) may not be fetched, or None when it may.

        Only http(s) is followed, and a link to a loopback, private or link-local address is
        followed only to the origin of a configured source: a hostile feed must not make the
        crawler read file:// or probe other services on this machine or network.
        """
        parts = urlsplit(url)
        if parts.scheme.lower() not in {"http", "https"}:
            return f"{parts.scheme or 'a relative'}:// links are not followed (http(s) only)"
        host = (parts.hostname or "").lower()
        if _origin(url) in {_origin(source) for source in self.config.sources}:
            return None
        if host == "localhost" or host.endswith(".localhost"):
            return "links to localhost are followed only to a configured source"
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return None  # a host name: public as far as we can tell without resolving it
        if not address.is_global:
            return f"{host} is not a public address and not a configured source's origin"
        return None

    def allowed(self, url: str) -> bool:
        """Whether the host's robots.txt lets our User-Agent fetch ``url``."""
        if self.settings.offline:
            return True  # nothing is fetched: raw/ holds only what was allowed then
        fetcher = self.fetcher(url)
        if fetcher.base_url not in self._robots:
            robots = urllib.robotparser.RobotFileParser()
            try:
                fetched = fetcher.get("/robots.txt")
                self._note(fetched)
                robots.parse(fetched.document.read().decode("utf-8", "replace").splitlines())
                delay = robots.crawl_delay(self.settings.news_user_agent)
                if delay:
                    rate = min(1.0 / float(delay), 1.0 / fetcher.limiter.interval)
                    fetcher.limiter = RateLimiter(fetcher.limiter.lock_path, rate)
            except FetchError as exc:
                if exc.cause.startswith("HTTP 4"):
                    robots.allow_all = True  # no robots.txt: everything is allowed
                else:
                    self.log(f"robots.txt of {fetcher.base_url} unreachable ({exc.cause}): skip")
                    robots = None
            self._robots[fetcher.base_url] = robots
        robots = self._robots[fetcher.base_url]
        return robots is not None and robots.can_fetch(self.settings.news_user_agent, url)

    def _note(self, fetched) -> None:
        self.report.documents.append(fetched.document.key)

    def _get(self, url: str):
        fetched = self.fetcher(url).get(url, expect_page)
        self._note(fetched)
        return fetched

    def crawl(self) -> CrawlReport:
        """Fetch every source (and the articles of feeds); returns the pages raw/ holds."""
        seen: set[str] = set()
        for source in self.config.sources:
            if not self.allowed(source):
                self.report.skipped.append((source, "disallowed by robots.txt"))
                continue
            try:
                fetched = self._get(source)
            except FetchError as exc:
                self.report.failed.append((source, exc.cause))
                self.log(f"news source {source} failed: {exc.cause}; using what raw/ holds")
                fetched = None
            versions = self.store.versions(document_key(host_source(source), source))
            latest_body = fetched.document.read() if fetched else None
            items = parse_feed(latest_body, source) if latest_body is not None else None
            if items is None and latest_body is None and versions:
                items = parse_feed(versions[-1].read(), source)
            if items is None:
                if fetched is not None:
                    self._add(Page(source, urlsplit(source).hostname or "", fetched.document), seen)
                continue
            self.report.feeds += 1
            current = {item.url for item in items}
            # items of older versions of the feed: articles seen once stay
            older: dict[str, FeedItem] = {}
            for version in versions:
                for item in parse_feed(version.read(), source) or []:
                    older.setdefault(item.url, item)
            for item in items + [i for u, i in older.items() if u not in current]:
                if item.url in seen:
                    continue
                self._article(item, fetch=item.url in current, seen=seen)
        self.report.requests_sent = sum(f.requests_sent for f in self._fetchers.values())
        self.report.bytes_downloaded = sum(f.bytes_downloaded for f in self._fetchers.values())
        return self.report

    def _article(self, item: FeedItem, fetch: bool, seen: set[str]) -> None:
        host = urlsplit(item.url).hostname or ""
        document = None
        if fetch:
            why = self.refused(item.url)
            if why:
                self.report.skipped.append((item.url, f"refused: {why}"))
                return
            if not self.allowed(item.url):
                self.report.skipped.append((item.url, "disallowed by robots.txt"))
                return
            try:
                document = self._get(item.url).document
            except FetchError as exc:
                self.report.failed.append((item.url, exc.cause))
                self.log(f"article {item.url} failed: {exc.cause}")
        if document is None:
            document = self.store.latest(document_key(host_source(item.url), item.url))
            if document is None:
                return
            self.report.documents.append(document.key)
        self._add(Page(item.url, host, document, item.title, item.published), seen)

    def _add(self, page: Page, seen: set[str]) -> None:
        if page.url not in seen:
            seen.add(page.url)
            self.report.pages.append(page)


# --- pages → articles ---------------------------------------------------------------------

ARTICLE_SCHEMA = NEWS_ARTICLES.columns


@dataclass
class ArticleBuild:
    """Articles extracted from pages, and what was left out and why."""

    articles: pl.DataFrame
    no_body: list[tuple[str, str]]  # (url, reason): reported, never stored empty
    duplicates: list[tuple[str, str]]  # (url, article_id it duplicates)


def build_articles(pages: list[Page]) -> ArticleBuild:
    """Extract each page; keep one article per canonical URL and per body text.

    Of duplicates the earliest published (then the smallest canonical URL) is kept, so the
    choice does not depend on crawl order. ``article_id`` is a hash of the canonical URL.
    """
    extracted = []
    no_body = []
    for page in pages:
        try:
            article = extract_article(page.document.read(), page.url)
        except NoArticleBody as exc:
            no_body.append((page.url, str(exc)))
            continue
        published = article.published_at or parse_datetime(page.feed_published)
        extracted.append((page, article, published))
    far_future = datetime.max.replace(tzinfo=UTC)
    extracted.sort(key=lambda e: (e[2] or far_future, e[1].canonical_url))
    rows, by_url, by_body, duplicates = [], {}, {}, []
    for page, article, published in extracted:
        body_key = hashlib.sha256(" ".join(article.body_text.split()).encode()).hexdigest()
        article_id = hashlib.sha256(article.canonical_url.encode()).hexdigest()[:16]
        first = by_url.get(article.canonical_url) or by_body.get(body_key)
        if first is not None:
            duplicates.append((page.url, first))
            continue
        by_url[article.canonical_url] = by_body[body_key] = article_id
        rows.append(
            {
                "article_id": article_id,
                "url": article.canonical_url,
                "title": article.title or page.feed_title,
                "published_at": published,
                "author": article.author,
                "source": page.source,
                "language": article.language,
                "body_text": article.body_text,
            }
        )
    return ArticleBuild(pl.DataFrame(rows, schema=ARTICLE_SCHEMA), no_body, duplicates)
