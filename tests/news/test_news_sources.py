"""News sources: feeds, the config file, robots.txt, fetch failures, ECB rates."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from pytest_httpserver import HTTPServer

from pipelines.core.config import ConfigError, load_settings
from pipelines.core.rawstore import RawStore
from pipelines.market.ecb import parse_ecb_rates
from pipelines.news.crawler import NewsConfig, NewsCrawler, news_config, parse_feed
from tests.news_server import NEWS, ecb_zip


def test_rss_and_atom_feeds_with_relative_links():
    rss = (NEWS / "feeds" / "technology.rss").read_bytes().replace(b"{{BASE}}", b"http://h")
    items = parse_feed(rss, "http://h/feeds/technology.rss")
    assert [i.url for i in items][:3] == [
        "http://h/technology/alphabet-quarterly-sales-cloud-2024-07-23/",
        "http://h/technology/alphabet-quarterly-sales-cloud-2024-07-23/?utm_source=rss&utm_medium=feed",
        "http://h/blog/big-tech-spending-spree",
    ]
    assert items[0].published == "Tue, 23 Jul 2024 20:41:00 GMT"
    atom = (NEWS / "feeds" / "releases.atom").read_bytes().replace(b"{{BASE}}", b"http://h")
    items = parse_feed(atom, "http://h/feeds/releases.atom")
    assert items[0].url == "http://h/news/home/20240828/nvidia-second-quarter-fiscal-2025/"
    assert items[0].published == "2024-08-28T20:20:00Z"
    assert items[2].title == "英伟达第二财季营收300.4亿美元 同比增长122%"


def test_a_recorded_atom_feed_parses(shared_fixtures: Path):
    # SEC's "latest filings" Atom feed (100 entries, ISO-8859-1): a real feed, not news
    body = (shared_fixtures / "news/feeds/sec_edgar_current_filings_atom.xml").read_bytes()
    items = parse_feed(body, "https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent")
    assert len(items) == 100
    assert items[0].url == (
        "https://www.sec.gov/Archives/edgar/data/2074440/000207444026000002/"
        "0002074440-26-000002-index.htm"
    )
    assert items[0].published == "2026-01-12T11:27:39-05:00"


def test_an_html_page_is_not_a_feed():
    assert parse_feed((NEWS / "blog_alphabet_capex_2024.html").read_bytes(), "http://h/") is None
    assert parse_feed(b"<?xml version='1.0'?><html/>", "http://h/") is None


def test_config_file_and_environment_sources(tmp_path):
    config = tmp_path / "news.toml"
    config.write_text(
        'sources = ["https://a.example/feed.xml", "https://b.example/x.html"]\n'
        '[hosts."a.example"]\nrequests_per_second = 0.2\n'
    )
    settings = load_settings(
        {
            "CAPEX_NEWS_SOURCES": "https://b.example/x.html,https://c.example/rss",
            "CAPEX_NEWS_CONFIG": str(config),
        }
    )
    got = news_config(settings)
    assert got.sources == (
        "https://b.example/x.html",
        "https://c.example/rss",
        "https://a.example/feed.xml",
    )
    assert got.host_rates == {"a.example": 0.2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources = [", "is not valid TOML"),
        ("sources = 'https://a'", "'sources' must be a list of URLs"),
        ('sources = []\n[hosts."a"]\nrequests_per_second = 0', "must be a positive number"),
        ('sources = ["ftp://a.example/x"]', r"is not an http\(s\) URL"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, text, message):
    config = tmp_path / "news.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        news_config(load_settings({"CAPEX_NEWS_CONFIG": str(config)}))


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        news_config(load_settings({"CAPEX_NEWS_CONFIG": str(tmp_path / "nope.toml")}))


def _crawler(tmp_path, sources, **env) -> NewsCrawler:
    settings = load_settings(
        {
            "CAPEX_RAW_DIR": str(tmp_path / "raw"),
            "CAPEX_NEWS_RATE": "50",
            "CAPEX_HTTP_MAX_ATTEMPTS": "2",
            "CAPEX_HTTP_MAX_RETRY_SECONDS": "2",
            **env,
        }
    )
    return NewsCrawler(settings, RawStore(settings.raw_dir), NewsConfig(tuple(sources)))


def _page(name: str) -> bytes:
    return (NEWS / name).read_bytes()


def test_without_robots_txt_everything_is_allowed_and_failures_are_reported(
    httpserver: HTTPServer, tmp_path
):
    httpserver.expect_request("/robots.txt").respond_with_data("no", status=404)
    httpserver.expect_request("/a").respond_with_data(
        _page("blog_alphabet_capex_2024.html"), content_type="text/html"
    )
    httpserver.expect_request("/gone").respond_with_data("gone", status=410)
    httpserver.expect_request("/report.pdf").respond_with_data(
        b"%PDF-1.7", content_type="application/pdf"
    )
    crawler = _crawler(
        tmp_path,
        [httpserver.url_for("/a"), httpserver.url_for("/gone"), httpserver.url_for("/report.pdf")],
    )
    report = crawler.crawl()
    assert [p.url for p in report.pages] == [httpserver.url_for("/a")]
    assert [(url.rsplit("/", 1)[1], why) for url, why in report.failed] == [
        ("gone", "HTTP 410 (the site removed the page for good)"),
        ("report.pdf", "expected an HTML page or a feed, got Content-Type application/pdf"),
    ]
    assert report.pages[0].document.key == "news-localhost/a"


def test_unreachable_robots_txt_means_nothing_is_fetched(httpserver: HTTPServer, tmp_path):
    httpserver.expect_request("/robots.txt").respond_with_data("busy", status=503)
    crawler = _crawler(tmp_path, [httpserver.url_for("/a")])
    report = crawler.crawl()
    assert report.pages == []
    assert report.skipped == [(httpserver.url_for("/a"), "disallowed by robots.txt")]
    assert [r.path for r, _ in httpserver.log] == ["/robots.txt", "/robots.txt"]


def test_crawl_delay_lowers_the_host_rate(httpserver: HTTPServer, tmp_path):
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nCrawl-delay: 4\n", content_type="text/plain"
    )
    httpserver.expect_request("/a").respond_with_data(
        _page("blog_alphabet_capex_2024.html"), content_type="text/html"
    )
    crawler = _crawler(tmp_path, [httpserver.url_for("/a")])
    assert crawler.allowed(httpserver.url_for("/a"))
    assert crawler.fetcher(httpserver.url_for("/a")).limiter.interval == pytest.approx(4.0)


def test_ecb_rates_from_zip_and_csv():
    csv_text = (NEWS / "eurofxref-hist.csv").read_text()
    from_zip = parse_ecb_rates(ecb_zip(csv_text))
    from_csv = parse_ecb_rates(csv_text.encode())
    assert from_zip.equals(from_csv)
    assert from_csv.filter(pl.col("currency") == "CYP").height == 0  # all "N/A"
    usd = from_csv.filter(pl.col("currency") == "USD").sort("rate_date")
    assert usd["per_eur"].to_list() == [1.0890, 1.0860, 1.1174, 1.1119, 1.1106]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<!DOCTYPE html><html>Service unavailable</html>", "got an HTML page"),
        (b"Day,EUR\n2024-01-02,1\n", "no Date/USD column"),
        (b"Date,USD,\n2024-13-45,1.1,\n", "malformed ECB rates CSV"),
    ],
)
def test_bad_ecb_files_are_named(body, message):
    with pytest.raises(ValueError, match=message):
        parse_ecb_rates(body)
