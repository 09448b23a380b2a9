"""A news or press-release page → its title, date, author, language and own text.

Pure functions over the HTML (beautifulsoup4 with lxml). The article's text is taken from the
most specific container the page marks (``itemprop=articleBody``, a JSON-LD ``articleBody``,
``<article>``, the usual body classes, ``<main>``) and, when none is marked, from the block
holding most paragraph text. Inside it, navigation, ads, scripts, share widgets, related-links
boxes, newsletters, disclaimers, bylines, captions and reader comments are removed before the
text is read, block by block. A page with no article text raises :class:`NoArticleBody`
rather than producing an empty row.
"""

from __future__ import annotations

import email.utils
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, Comment, Tag

MIN_BODY_CHARS = 200  # shorter than a short news brief: a teaser, a paywall stub, an index
# News pages are well under 2 MB; extraction reads a few MB a second, so a page far larger is
# refused rather than let a hostile site stall the crawl for minutes.
MAX_PAGE_BYTES = 4 * 1024 * 1024
_HAN = re.compile(r"[\u3400-\u9fff]")


def _weight(text: str) -> int:
    """Length in Latin-character equivalents: a Chinese character carries about a word."""
    return len(text) + 2 * len(_HAN.findall(text))


class NoArticleBody(ValueError):
    """The page has no article text (an index page, a paywall stub, an unknown layout)."""


@dataclass(frozen=True)
class Article:
    """What a page says about itself, and its own text."""

    url: str
    canonical_url: str
    title: str | None
    published_at: datetime | None
    author: str | None
    language: str | None
    body_text: str


# --- dates --------------------------------------------------------------------------------


def parse_datetime(text: str | None) -> datetime | None:
    """ISO 8601 ("2024-07-23T20:05:00-04:00", "2024-07-23"), RFC 2822 (RSS) or 2024年7月23日.

    Returns an aware datetime in UTC (a date or a naive time is read as UTC), or None.
    """
    if not text:
        return None
    text = text.strip()
    cjk = re.match(r"(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2}):(\d{2}))?", text)
    if cjk:
        y, mo, d, h, mi = cjk.groups()
        return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), tzinfo=UTC)
    iso = text.replace("Z", "+00:00").replace("z", "+00:00")
    iso = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", iso)  # +0000 → +00:00
    iso = re.sub(r"^(\d{4}-\d{2}-\d{2}) (\d)", r"\1T\2", iso)
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- URLs ---------------------------------------------------------------------------------

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|ref|src|smid|guccounter)$")


def canonical_url(url: str) -> str:
    """``url`` without fragment, tracking parameters, default port or trailing slash noise."""
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)])
    host = (parts.hostname or "").lower()
    if parts.port and not (
        (parts.scheme == "http" and parts.port == 80)
        or (parts.scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    if path != "/" and path.endswith("/"):
        path = path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), host, path, query, ""))


# --- JSON-LD ------------------------------------------------------------------------------

_ARTICLE_TYPES = {
    "newsarticle",
    "article",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "blogposting",
    "pressrelease",
    "webpage",
}


def _jsonld_objects(soup: BeautifulSoup) -> list[dict]:
    objects: list[dict] = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            objects.append(node)
            if "@graph" in node:
                walk(node["@graph"])

    for script in soup.find_all("script", type=re.compile(r"ld\+json", re.I)):
        try:
            walk(json.loads(script.string or script.get_text() or "null"))
        except json.JSONDecodeError:
            continue  # a broken JSON-LD block is common and not fatal: other sources remain
    return objects


def _jsonld_article(soup: BeautifulSoup) -> dict | None:
    ranked = []
    for obj in _jsonld_objects(soup):
        types = obj.get("@type", [])
        types = [types] if isinstance(types, str) else types
        names = {str(t).lower() for t in types}
        if names & _ARTICLE_TYPES:
            # prefer a real article type over a generic WebPage
            ranked.append((0 if names - {"webpage"} else 1, obj))
    ranked.sort(key=lambda pair: pair[0])
    return ranked[0][1] if ranked else None


def _names(value) -> str | None:
    """A JSON-LD author/person value (string, object or list) as "A, B"."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        names = [n for n in (_names(v) for v in value) if n]
        return ", ".join(dict.fromkeys(names)) or None
    return None


# --- boilerplate --------------------------------------------------------------------------

_DROP_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "aside",
    "footer",
    "form",
    "button",
    "iframe",
    "svg",
    "figure",
    "figcaption",
    "picture",
    "video",
    "audio",
    "input",
    "select",
    "table",  # financial tables need header-aware parsing; sentences come from prose only
]
# class / id tokens that mark a non-article block
_BOILERPLATE = {
    "ad",
    "ads",
    "advert",
    "advertisement",
    "adslot",
    "sponsor",
    "sponsored",
    "promo",
    "share",
    "sharing",
    "social",
    "related",
    "recommended",
    "recirc",
    "newsletter",
    "subscribe",
    "signup",
    "comment",
    "comments",
    "disqus",
    "disclaimer",
    "disclosure",
    "byline",
    "author",
    "breadcrumb",
    "breadcrumbs",
    "tags",
    "topics",
    "caption",
    "credit",
    "cookie",
    "consent",
    "paywall",
    "outbrain",
    "taboola",
    "toolbar",
    "print",
    "more",
    "readmore",
    "trending",
    "popular",
    "widget",
    "sidebar",
    "banner",
    "modal",
    "hidden",
    "sr",
    "visually",
}
# ... and prefixes of such tokens ("relatedposts", "sharedaddy", "advertising")
_BOILERPLATE_PREFIXES = (
    "related",
    "share",
    "social",
    "comment",
    "advert",
    "newsletter",
    "sponsor",
    "promo",
    "disqus",
    "outbrain",
    "taboola",
    "breadcrumb",
    "cookie",
    "paywall",
)
_TOKEN_SPLIT = re.compile(r"[\s_\-]+")
_BOILERPLATE_TEXT = re.compile(
    r"^(advertisement|sponsored|share this (article|story)|read more:|related:|sign up for|"
    r"subscribe to|click here|follow us|广告|免责声明|责任编辑|相关阅读|分享到)",
    re.I,
)
_TRAILER_HEADING = re.compile(
    r"^(about [\w.,&' -]+|forward[- ]looking statements?|cautionary (note|statement)s?\b.*|"
    r"safe harbor.*|disclaimer|important information|media contacts?|investor contacts?|"
    r"免责声明|风险提示|关于[\w\u4e00-\u9fff]+)[:：]?$",
    re.I,
)
_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "br",
    "hr",
    "tr",
}


def _is_boilerplate(tag: Tag) -> bool:
    if tag.attrs is None:
        return False
    if tag.get("hidden") is not None or tag.get("aria-hidden") == "true":
        return True
    if tag.get("role") in {"navigation", "complementary", "banner", "contentinfo"}:
        return True
    style = (tag.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return True
    tokens = set()
    for attr in ("class", "id", "data-component", "data-testid"):
        value = tag.get(attr)
        if not value:
            continue
        for part in value if isinstance(value, list) else [value]:
            tokens.update(t for t in _TOKEN_SPLIT.split(str(part).lower()) if t)
    return bool(tokens & _BOILERPLATE) or any(t.startswith(_BOILERPLATE_PREFIXES) for t in tokens)


def _strip_boilerplate(container: Tag) -> None:
    for node in container.find_all(string=lambda s: isinstance(s, Comment)):
        node.extract()
    for tag in container.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in list(container.find_all(True)):
        if tag.decomposed:
            continue
        if _is_boilerplate(tag):
            tag.decompose()
    # the article's own header holds the title and byline, not body text
    for header in container.find_all("header"):
        header.decompose()
    for heading in container.find_all("h1"):
        heading.decompose()


def _blocks(container: Tag) -> list[str]:
    """The text of ``container`` as blocks: one string per paragraph, heading or list item."""
    blocks: list[str] = []
    buffer: list[str] = []

    def flush():
        text = re.sub(r"\s+", " ", "".join(buffer)).strip()
        buffer.clear()
        if text and not _BOILERPLATE_TEXT.match(text):
            blocks.append(text)

    def walk(node):
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, str):
                buffer.append(str(child))
            elif isinstance(child, Tag):
                if child.name in _BLOCK_TAGS:
                    flush()
                    walk(child)
                    flush()
                else:
                    walk(child)

    walk(container)
    flush()
    # press releases end with boilerplate sections: drop from their heading on
    for index, block in enumerate(blocks):
        if index > 0 and len(block) < 80 and _TRAILER_HEADING.match(block):
            return blocks[:index]
    return blocks


_BODY_SELECTORS = [
    "[itemprop=articleBody]",
    "[data-component=article-body]",
    ".article-body",
    ".article__body",
    ".articleBody",
    ".story-body",
    ".story-content",
    ".entry-content",
    ".post-content",
    ".article-content",
    ".press-release-body",
    ".news-release",
    "#article-body",
    "#articleBody",
    "#content-body",
    "article",
    "[role=main]",
    "main",
]


def _densest_block(soup: BeautifulSoup) -> Tag | None:
    """The element whose direct <p> children hold the most text (for unmarked layouts)."""
    best, best_len = None, 0
    for parent in {p.parent for p in soup.find_all("p") if p.parent is not None}:
        length = sum(len(p.get_text(strip=True)) for p in parent.find_all("p", recursive=False))
        if length > best_len:
            best, best_len = parent, length
    return best


def _meta(soup: BeautifulSoup, *names: str) -> str | None:
    for name in names:
        for attr in ("property", "name", "itemprop", "http-equiv"):
            tag = soup.find("meta", attrs={attr: re.compile(f"^{re.escape(name)}$", re.I)})
            if tag and tag.get("content", "").strip():
                return tag["content"].strip()
    return None


def _language(soup: BeautifulSoup, ld: dict | None, text: str) -> str | None:
    declared = None
    html = soup.find("html")
    if html and html.get("lang"):
        declared = html["lang"]
    declared = (
        declared
        or (ld or {}).get("inLanguage")
        or _meta(soup, "og:locale", "content-language", "language", "dc.language")
    )
    if isinstance(declared, str) and declared.strip():
        return declared.strip().replace("_", "-").split("-")[0].lower()
    # no declaration: tell Chinese from the rest by script
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    letters = len(re.findall(r"[A-Za-z\u4e00-\u9fff]", text))
    if letters == 0:
        return None
    return "zh" if han / letters > 0.3 else "en"


def _refuse_huge_page(html: bytes | str, url: str) -> None:
    if len(html) > MAX_PAGE_BYTES:
        raise NoArticleBody(
            f"{url}: a page of {len(html):,} bytes is larger than any news article "
            f"({MAX_PAGE_BYTES:,} at most): not read"
        )


def extract_article(html: bytes | str, url: str) -> Article:
    """Extract the article on the page at ``url``.

    Raises :class:`NoArticleBody` (naming the URL) when no article text is found, or when the
    page is larger than :data:`MAX_PAGE_BYTES`.
    """
    _refuse_huge_page(html, url)
    soup = BeautifulSoup(html, "lxml")
    ld = _jsonld_article(soup)

    link = soup.find("link", rel=lambda r: r and "canonical" in r)
    canonical = (link.get("href") if link else None) or _meta(soup, "og:url")
    canonical = canonical_url(urljoin(url, canonical) if canonical else url)

    title = (
        _meta(soup, "og:title", "twitter:title")
        or (ld or {}).get("headline")
        or (soup.find("h1").get_text(" ", strip=True) if soup.find("h1") else None)
        or (soup.title.get_text(strip=True) if soup.title else None)
    )
    time_tag = soup.find("time", attrs={"datetime": True})
    published = parse_datetime(
        _meta(
            soup,
            "article:published_time",
            "og:article:published_time",
            "datePublished",
            "pubdate",
            "publishdate",
            "publish-date",
            "parsely-pub-date",
            "sailthru.date",
            "dc.date.issued",
            "dc.date",
            "date",
        )
        or (ld or {}).get("datePublished")
        or (time_tag.get("datetime") if time_tag else None)
        or (ld or {}).get("dateCreated")
    )
    author = (
        _names((ld or {}).get("author"))
        or _meta(soup, "author", "article:author", "parsely-author", "sailthru.author")
        or _byline(soup)
    )

    body_text = ""
    for selector in _BODY_SELECTORS:
        container = soup.select_one(selector)
        if container is None:
            continue
        _strip_boilerplate(container)
        body_text = "\n\n".join(_blocks(container))
        if _weight(body_text) >= MIN_BODY_CHARS:
            break
    if _weight(body_text) < MIN_BODY_CHARS and ld and isinstance(ld.get("articleBody"), str):
        body_text = re.sub(r"[ \t]+", " ", ld["articleBody"]).strip()
    if _weight(body_text) < MIN_BODY_CHARS:
        container = _densest_block(soup)
        if container is not None:
            _strip_boilerplate(container)
            body_text = "\n\n".join(_blocks(container))
    if _weight(body_text) < MIN_BODY_CHARS:
        raise NoArticleBody(
            f"{url}: no article text found (tried articleBody markup, JSON-LD articleBody, "
            f"<article>, common body classes, <main> and the densest paragraph block; best "
            f"had {_weight(body_text)} characters, need {MIN_BODY_CHARS}). If this is an article, "
            "its layout is unknown: add its body selector to news_html._BODY_SELECTORS"
        )
    if isinstance(title, str):
        title = re.sub(r"\s+", " ", title).strip() or None
    return Article(
        url=url,
        canonical_url=canonical,
        title=title,
        published_at=published,
        author=author,
        language=_language(soup, ld, body_text),
        body_text=body_text,
    )


def _byline(soup: BeautifulSoup) -> str | None:
    tag = soup.find(attrs={"rel": "author"}) or soup.select_one(".byline, .author-name, .author")
    if tag is None:
        return None
    text = re.sub(r"^\s*(by|作者[:：]?)\s+", "", tag.get_text(" ", strip=True), flags=re.I)
    return text or None
