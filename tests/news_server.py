"""A local news site on 127.0.0.1 serving the hand-written pages of tests/fixtures/news."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

NEWS = Path(__file__).parent / "fixtures" / "news"
HTML = "text/html; charset=utf-8"


def ecb_zip(csv_text: str) -> bytes:
    """The hand-made rates CSV packed like the ECB's eurofxref-hist.zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("eurofxref-hist.csv", csv_text)
    return buffer.getvalue()


def press_release_mirror() -> bytes:
    """The press release as a second site carries it: same text, no canonical link."""
    page = (NEWS / "pressrelease_nvidia_q2_fy2025.html").read_text(encoding="utf-8")
    start = page.index('<link rel="canonical"')
    end = page.index(">", start) + 1
    return (page[:start] + page[end:]).encode()


class NewsSite:
    """Routes of the local news site; records every path requested."""

    def __init__(self, server: HTTPServer):
        self.server = server
        self.base = server.url_for("").rstrip("/")
        self.requests: list[str] = []
        self.routes: dict[str, tuple[bytes, str]] = {}
        feed = lambda name: (  # noqa: E731
            (NEWS / "feeds" / name).read_text(encoding="utf-8").replace("{{BASE}}", self.base)
        ).encode()
        page = lambda name: (NEWS / name).read_bytes()  # noqa: E731
        self.routes.update(
            {
                "/robots.txt": ((NEWS / "robots.txt").read_bytes(), "text/plain"),
                "/feeds/technology.rss": (feed("technology.rss"), "application/rss+xml"),
                "/feeds/releases.atom": (feed("releases.atom"), "application/atom+xml"),
                "/technology/alphabet-quarterly-sales-cloud-2024-07-23/": (
                    page("newswire_alphabet_q2_2024.html"),
                    HTML,
                ),
                "/blog/big-tech-spending-spree": (page("blog_alphabet_capex_2024.html"), HTML),
                "/technology/index.html": (page("index_page.html"), HTML),
                "/private/chip-stocks": (page("newswire_alphabet_q2_2024.html"), HTML),
                "/news/home/20240828/nvidia-second-quarter-fiscal-2025/": (
                    page("pressrelease_nvidia_q2_fy2025.html"),
                    HTML,
                ),
                "/mirror/nvidia-q2-fy2025.html": (press_release_mirror(), HTML),
                "/zh/nvda-q2-fy2025": (page("futu_nvidia_zh.html"), HTML),
                "/notes/2025-wrap": (page("research_note_2025_wrap.html"), HTML),
                "/stats/eurofxref/eurofxref-hist.zip": (
                    ecb_zip((NEWS / "eurofxref-hist.csv").read_text()),
                    "application/zip",
                ),
            }
        )
        server.expect_request(_ANY).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        self.requests.append(request.path)
        if request.path not in self.routes:
            return Response("not found", status=404)
        body, content_type = self.routes[request.path]
        return Response(body, content_type=content_type)

    @property
    def sources(self) -> list[str]:
        """Two feeds and one article URL."""
        return [
            f"{self.base}/feeds/technology.rss",
            f"{self.base}/feeds/releases.atom",
            f"{self.base}/notes/2025-wrap",
        ]


_ANY = re.compile(r"^/.*")
