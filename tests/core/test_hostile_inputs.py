"""Hostile documents and servers: one test per attack, each refused with a clear error.

Every test runs the real code (Fetcher, XBRL parser, ECB parser, news crawler) against a
local server on 127.0.0.1 or a crafted body, and records its fault class for RELIABILITY.md.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from pipelines.cli import build_parser
from pipelines.core.config import ConfigError, load_settings
from pipelines.core.http import Fetcher, FetchError
from pipelines.core.rawstore import RawStore
from pipelines.core.warehouse import Warehouse
from pipelines.market.ecb import MAX_CSV_BYTES, fetch_ecb_rates, parse_ecb_rates
from pipelines.market.stooq import prices_fetcher
from pipelines.news.crawler import NewsConfig, NewsCrawler
from pipelines.sec.client import SecClient
from pipelines.sec.xbrl import XbrlParseError, parse_xbrl

UA = "capex-watch tests tests@example.com"

INSTANCE_HEAD = (
    '<xbrli:xbrl xmlns:xbrli="http://www.xbrl.org/2003/instance" '
    'xmlns:us-gaap="http://fasb.org/us-gaap/2024" '
    'xmlns:iso4217="http://www.xbrl.org/2003/iso4217">'
    '<xbrli:context id="c1"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">'
    "0000000001</xbrli:identifier></xbrli:entity><xbrli:period>"
    "<xbrli:startDate>2024-01-01</xbrli:startDate><xbrli:endDate>2024-03-31</xbrli:endDate>"
    "</xbrli:period></xbrli:context>"
    '<xbrli:unit id="usd"><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unit>'
)


def fetcher(server: HTTPServer, tmp_path: Path, **kwargs) -> Fetcher:
    options = dict(user_agent=UA, requests_per_second=50, max_attempts=2, max_retry_seconds=5)
    options.update(kwargs)
    return Fetcher("test", server.url_for(""), RawStore(tmp_path / "raw"), **options)


def test_xbrl_entity_expansion_is_not_expanded(reliability, tmp_path):
    """Billion laughs: nine levels of ten references would be 10^9 copies of 'lol'."""
    reliability.record(
        "XML entity expansion (billion laughs) in XBRL",
        1,
        "not expanded; clear error naming the URL",
    )
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    body = (
        f'<?xml version="1.0"?><!DOCTYPE xbrl [{"".join(entities)}]>{INSTANCE_HEAD}'
        '<us-gaap:Revenues contextRef="c1" unitRef="usd" decimals="0">&lol9;</us-gaap:Revenues>'
        "</xbrli:xbrl>"
    ).encode()
    url = "https://www.sec.gov/Archives/edgar/data/1/laughs_htm.xml"
    try:
        document = parse_xbrl(body, url=url)
    except XbrlParseError as exc:
        assert url in str(exc)
    else:  # parsed without expanding: the fact has no readable value, so no fact at all
        assert document.facts.height == 0
    # an entity whose expansion would be a valid number shows that nothing is expanded
    number = (
        f'<?xml version="1.0"?><!DOCTYPE xbrl [<!ENTITY n "4242">]>{INSTANCE_HEAD}'
        '<us-gaap:Revenues contextRef="c1" unitRef="usd" decimals="0">&n;</us-gaap:Revenues>'
        "</xbrli:xbrl>"
    ).encode()
    try:
        values = parse_xbrl(number, url=url).facts["value"].to_list()
    except XbrlParseError:
        values = []
    assert 4242 not in [int(v) for v in values]


def test_xbrl_external_entities_are_neither_read_nor_fetched(
    reliability, httpserver: HTTPServer, tmp_path
):
    """An external entity naming a local file and one naming a URL: neither is resolved."""
    reliability.record(
        "XML external entities (file and network) in XBRL",
        2,
        "no file read, no request sent",
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("123456789")
    httpserver.expect_request("/evil.dtd").respond_with_data("987654321")
    for system in (secret.as_uri(), httpserver.url_for("/evil.dtd")):
        body = (
            f'<?xml version="1.0"?><!DOCTYPE xbrl [<!ENTITY x SYSTEM "{system}">]>'
            f"{INSTANCE_HEAD}"
            '<us-gaap:Revenues contextRef="c1" unitRef="usd" decimals="0">&x;</us-gaap:Revenues>'
            "</xbrli:xbrl>"
        ).encode()
        try:
            document = parse_xbrl(body, url="https://www.sec.gov/x_htm.xml")
        except XbrlParseError as exc:
            assert "123456789" not in str(exc) and "987654321" not in str(exc)
        else:
            values = [str(v) for v in document.facts["value"].to_list()]
            assert not any("123456789" in v or "987654321" in v for v in values)
    assert httpserver.log == [], "the parser must not fetch external entities"


def test_ecb_zip_bomb_is_refused(reliability):
    """A zip whose CSV unpacks to far more than any real rates file."""
    reliability.record("zip bomb (ECB rates zip)", 1, "refused before unpacking it all")
    buffer = io.BytesIO()
    zeros = b"0" * (1 << 20)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("eurofxref-hist.csv", "w") as member,
    ):
        member.write(b"Date,USD,\n")
        for _ in range(MAX_CSV_BYTES // len(zeros) + 2):
            member.write(zeros)
    body = buffer.getvalue()
    assert len(body) < MAX_CSV_BYTES // 100  # it is small packed
    with pytest.raises(ValueError, match="zip bomb"):
        parse_ecb_rates(body)


def test_body_larger_than_the_limit_is_refused(reliability, httpserver: HTTPServer, tmp_path):
    """Declared too large (Content-Length) and streamed too large (chunked, no length)."""
    reliability.record(
        "body larger than CAPEX_MAX_BODY_BYTES",
        2,
        "refused naming the URL and the setting; nothing stored",
    )
    httpserver.expect_request("/declared.json").respond_with_data(b"[" + b"1," * 5000 + b"1]")

    def chunked(_request: Request) -> Response:
        return Response((b"x" * 1024 for _ in range(64)), content_type="application/json")

    httpserver.expect_request("/streamed.json").respond_with_handler(chunked)
    client = fetcher(httpserver, tmp_path, max_body_bytes=4096)
    for path in ("/declared.json", "/streamed.json"):
        with pytest.raises(FetchError, match=rf"{path}: body larger than CAPEX_MAX_BODY_BYTES"):
            client.get_json(path)
    assert not (tmp_path / "raw" / "test").exists()
    with pytest.raises(ConfigError, match="CAPEX_MAX_BODY_BYTES"):
        load_settings({"CAPEX_MAX_BODY_BYTES": "lots"})
    assert load_settings({"CAPEX_MAX_BODY_BYTES": "2048"}).max_body_bytes == 2048


def test_redirect_loop_is_a_clear_error(reliability, httpserver: HTTPServer, tmp_path):
    reliability.record("redirect loop", 1, "clear error naming the URL; bounded requests")
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    client = fetcher(httpserver, tmp_path)
    with pytest.raises(FetchError, match=r"/a: redirect loop: more than 10 redirects"):
        client.get("/a")
    assert len(httpserver.log) <= 12


def test_feed_links_to_files_and_other_local_ports_are_refused(reliability, tmp_path):
    """A feed on the configured source links to file://, to another port of 127.0.0.1 and
    redirects an article there: none of it is fetched, each is reported."""
    reliability.record(
        "feed linking to file:// or other local ports (SSRF)",
        3,
        "refused and reported; no request reaches the other port",
    )
    site, other = HTTPServer(host="127.0.0.1", port=0), HTTPServer(host="127.0.0.1", port=0)
    site.start()
    other.start()
    try:
        other.expect_request("/admin").respond_with_data("<html><body>secret</body></html>")
        feed = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            "<item><title>a</title><link>file:///etc/passwd</link></item>"
            f"<item><title>b</title><link>{other.url_for('/admin')}</link></item>"
            f"<item><title>c</title><link>{site.url_for('/moved')}</link></item>"
            "</channel></rss>"
        )
        site.expect_request("/robots.txt").respond_with_data("", status=404)
        site.expect_request("/feed.rss").respond_with_data(feed, content_type="application/rss+xml")
        site.expect_request("/moved").respond_with_data(
            "", status=302, headers={"Location": other.url_for("/admin")}
        )
        settings = replace(load_settings({}), raw_dir=tmp_path / "raw", news_requests_per_second=50)
        source = site.url_for("/feed.rss")
        crawler = NewsCrawler(settings, RawStore(tmp_path / "raw"), NewsConfig((source,)))
        report = crawler.crawl()
        skipped = dict(report.skipped)
        failed = dict(report.failed)
        assert skipped["file:///etc/passwd"].startswith("refused: file:// links")
        assert "not a public address" in skipped[other.url_for("/admin")]
        assert "refused a redirect" in failed[site.url_for("/moved")]
        assert other.log == [], "nothing may reach a port that is not a configured source"
        assert [p.url for p in report.pages] == []
    finally:
        site.stop()
        other.stop()


def test_each_source_gives_its_own_404_hint(reliability, httpserver: HTTPServer, tmp_path):
    """Regression: a 404 from the ECB said 'is the CIK or ticker right?' (issue 12)."""
    reliability.record("HTTP 404 per source", 4, "a hint that fits the source")
    httpserver.expect_request(re.compile(r"^/.*")).respond_with_data("nope", status=404)
    base = httpserver.url_for("").rstrip("/")
    settings = replace(
        load_settings({}),
        sec_user_agent=UA,
        sec_data_url=base,
        sec_www_url=base,
        prices_url=base,
        fx_url=f"{base}/missing",
        raw_dir=tmp_path / "raw",
        http_max_attempts=1,
    )
    store = RawStore(tmp_path / "raw")
    with pytest.raises(FetchError, match=r"eurofxref-hist.zip: HTTP 404 \(no eurofxref"):
        fetch_ecb_rates(settings, store)
    with pytest.raises(FetchError, match=r"HTTP 404 \(is the CIK or ticker right\?\)"):
        SecClient(settings, store).data.get("/missing")
    with pytest.raises(FetchError, match=r"HTTP 404 \(is the symbol right\?"):
        prices_fetcher(settings, store).get("/missing")
    crawler = NewsCrawler(settings, store, NewsConfig((f"{base}/missing",)))
    with pytest.raises(FetchError, match=r"HTTP 404 \(the page is gone or moved"):
        crawler.fetcher(f"{base}/missing").get("/missing")


def test_each_source_explains_a_403_its_own_way(reliability, httpserver: HTTPServer, tmp_path):
    """SEC's 403 is about the User-Agent or the rate; a news site's is a refused crawler."""
    reliability.record("HTTP 403 per source", 3, "a hint that fits the source")
    httpserver.expect_request(re.compile(r"^/.*")).respond_with_data("no", status=403)
    base = httpserver.url_for("").rstrip("/")
    settings = replace(
        load_settings({}),
        sec_user_agent=UA,
        sec_data_url=base,
        sec_www_url=base,
        prices_url=base,
        raw_dir=tmp_path / "raw",
        http_max_attempts=1,
    )
    store = RawStore(tmp_path / "raw")
    with pytest.raises(FetchError, match=r"HTTP 403 \(SEC refuses a User-Agent"):
        SecClient(settings, store).data.get("/denied")
    with pytest.raises(FetchError, match=r"HTTP 403 \(Stooq refuses the download"):
        prices_fetcher(settings, store).get("/denied")
    crawler = NewsCrawler(settings, store, NewsConfig((f"{base}/denied",)))
    with pytest.raises(FetchError, match=r"HTTP 403 \(the site refuses our crawler"):
        crawler.fetcher(f"{base}/denied").get("/denied")


def test_ui_binds_to_localhost_by_default(reliability):
    reliability.record("UI exposed to the network", 1, "binds 127.0.0.1 unless told otherwise")
    assert build_parser().parse_args(["ui"]).host == "127.0.0.1"


def test_files_are_created_without_world_write_bits(reliability, tmp_path):
    """Even under umask 0, raw/ and the warehouse files are not world-writable."""
    reliability.record("world-writable data files", 1, "no o+w bit under umask 0")
    previous = os.umask(0)
    try:
        store = RawStore(tmp_path / "raw")
        store.put("test/doc", "https://example.com/doc", b"{}")
        warehouse = Warehouse(
            tmp_path / "warehouse" / ".build" / "capex.duckdb",
            tmp_path / "warehouse" / "capex.duckdb",
        )
        with warehouse.connect() as con:
            con.execute("CREATE TABLE raw.t AS SELECT 1 AS x")
        warehouse.publish()
    finally:
        os.umask(previous)
    paths = [p for p in tmp_path.rglob("*") if p != tmp_path]
    assert len(paths) > 6
    writable = [str(p) for p in paths if p.stat().st_mode & stat.S_IWOTH]
    assert writable == []
