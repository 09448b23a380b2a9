"""Article extraction from hand-written pages with the markup of common news and release sites."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.news.article_html import (
    NoArticleBody,
    canonical_url,
    extract_article,
    parse_datetime,
)

PAGES = Path(__file__).parents[1] / "fixtures" / "news"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_news_site_with_json_ld_and_boilerplate():
    art = extract_article(page("newswire_alphabet_q2_2024.html"), "http://127.0.0.1/a?utm_source=x")
    assert art.title == "Alphabet's quarterly sales top forecasts as cloud unit grows"
    assert art.published_at == datetime(2024, 7, 23, 20, 41, tzinfo=UTC)
    assert art.author == "Dana Whitfield, Ravi Menon"
    assert art.language == "en"
    assert art.canonical_url == (
        "https://www.dailyledger.example/technology/alphabet-quarterly-sales-cloud-2024-07-23"
    )
    body = art.body_text
    assert body.startswith("July 23 (Daily Ledger) - Alphabet on Tuesday reported")
    assert "Google Cloud revenue rose 29% to $10.35 billion" in body
    assert "The company's net income rose to $23.62 billion." in body
    assert body.rstrip().endswith("Shares of the company fell 2.5% in extended trading.")
    # nav, scripts, ads, captions, share tools, related links, disclaimer, comments, footer
    for junk in [
        "$1 trillion tracker",
        "$9.99 billion",
        "Advertisement",
        "3.5% APY",
        "2.1 million visitors",
        "Share on X",
        "$19 billion",
        "Reporting by",
        "$100 billion next year",
        "I expected 20%",
        "2 million readers",
        "delayed a minimum",
        "cookies",
        "By Dana Whitfield",
    ]:
        assert junk not in body, junk
    assert len(body.split("\n\n")) == 6


def test_press_release_stops_at_about_and_forward_looking_sections():
    art = extract_article(page("pressrelease_nvidia_q2_fy2025.html"), "http://127.0.0.1/pr")
    assert art.title == "NVIDIA Announces Financial Results for Second Quarter Fiscal 2025"
    assert art.published_at == datetime(2024, 8, 28, 20, 20, tzinfo=UTC)
    assert art.author == "NVIDIA Corporation"
    assert art.language == "en"
    body = art.body_text
    assert "recorded revenue of $30.04 billion" in body
    assert "revenue is expected to be $32.5 billion, plus or minus 2%" in body
    assert "About NVIDIA" not in body
    assert "1,000,000 developers" not in body
    assert "forward-looking" not in body.lower()
    assert "$26,044" not in body  # the financial table
    assert "Share this release" not in body
    assert "408-486-2000" not in body


def test_blog_without_json_ld_uses_meta_tags_and_entry_content():
    art = extract_article(page("blog_alphabet_capex_2024.html"), "http://127.0.0.1/blog/capex")
    assert art.title == "Big Tech's spending spree, in four numbers"  # <h1> before <title>
    assert art.published_at == datetime(2025, 2, 6, tzinfo=UTC)
    assert art.author == "Priya Lang"
    assert art.language == "en"  # undeclared: told by script
    assert art.canonical_url == "http://127.0.0.1/blog/capex"
    body = art.body_text
    assert body.startswith("Alphabet spent $52.5 billion on capital expenditures in 2024")
    assert "under $10 billion in its fiscal 2024" in body
    for junk in ["Share this", "$40 billion bet", "$1 trillion by 2030", "investment advice"]:
        assert junk not in body, junk


def test_chinese_page_with_json_ld_graph_and_comments():
    art = extract_article(page("futu_nvidia_zh.html"), "http://127.0.0.1/zh/nvda")
    assert art.title == "英伟达第二财季营收300.4亿美元 同比增长122%"  # JSON-LD headline
    # 07:12 in Beijing is 23:12 UTC the day before
    assert art.published_at == datetime(2024, 8, 28, 23, 12, tzinfo=UTC)
    assert art.author == "林晓"
    assert art.language == "zh"
    body = art.body_text
    assert body.startswith("$英伟达 (NVDA.US)$ 周三盘后公布2025财年第二季度业绩。")
    assert "营收300.4亿美元，同比增长122%" in body
    for junk in ["开户即送100美元", "免责声明", "400亿美元", "首页"]:
        assert junk not in body, junk


def test_page_without_article_body_is_reported():
    with pytest.raises(NoArticleBody, match=r"http://127.0.0.1/tech: no article text found"):
        extract_article(page("index_page.html"), "http://127.0.0.1/tech")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-07-23T20:41:00Z", datetime(2024, 7, 23, 20, 41, tzinfo=UTC)),
        ("2024-07-23T16:41:00-04:00", datetime(2024, 7, 23, 20, 41, tzinfo=UTC)),
        ("2024-07-23T16:41:00-0400", datetime(2024, 7, 23, 20, 41, tzinfo=UTC)),
        ("2024-07-23", datetime(2024, 7, 23, tzinfo=UTC)),
        ("Tue, 23 Jul 2024 20:41:00 GMT", datetime(2024, 7, 23, 20, 41, tzinfo=UTC)),
        ("Wed, 28 Aug 2024 16:20:00 -0400", datetime(2024, 8, 28, 20, 20, tzinfo=UTC)),
        ("2024年8月29日 07:12", datetime(2024, 8, 29, 7, 12, tzinfo=UTC)),
        ("not a date", None),
        (None, None),
    ],
)
def test_parse_datetime(text, expected):
    assert parse_datetime(text) == expected


def test_canonical_url_drops_tracking_and_fragment():
    assert (
        canonical_url("HTTPS://News.Example.com:443/a/b/?utm_source=rss&id=7&fbclid=z#top")
        == "https://news.example.com/a/b?id=7"
    )
    assert canonical_url("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080/x"
