"""The HTTP client against a real local server: retries, validators, raw/ and offline mode."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Response

from pipelines.core.config import ConfigError, load_settings
from pipelines.core.http import Fetcher, FetchError, RateLimiter, expect_json, parse_retry_after
from pipelines.core.rawstore import RawStore, document_key
from pipelines.sec.client import SecClient, check_user_agent

UA = "capex-watch tests tests@example.com"


def make_fetcher(server: HTTPServer, tmp_path, **kwargs) -> Fetcher:
    options = dict(user_agent=UA, requests_per_second=50, max_attempts=4, max_retry_seconds=20)
    options.update(kwargs)
    return Fetcher("test", server.url_for(""), RawStore(tmp_path / "raw"), **options)


def test_429_with_retry_after_then_200(httpserver: HTTPServer, tmp_path):
    httpserver.expect_ordered_request("/doc.json").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/doc.json").respond_with_json({"ok": 1})
    fetcher = make_fetcher(httpserver, tmp_path)
    started = time.monotonic()
    fetched = fetcher.get_json("/doc.json")
    assert fetched.parsed == {"ok": 1}
    assert time.monotonic() - started >= 1.0, "Retry-After: 1 must be waited out"
    assert fetcher.requests_sent == 2


def test_429_storm_gives_up_with_a_clear_error(httpserver: HTTPServer, tmp_path):
    httpserver.expect_request("/doc.json").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "0"}
    )
    fetcher = make_fetcher(httpserver, tmp_path, max_attempts=3)
    with pytest.raises(FetchError, match=r"/doc.json: HTTP 429; gave up after 3 attempts"):
        fetcher.get_json("/doc.json")
    assert fetcher.requests_sent == 3
    assert not (tmp_path / "raw" / "test").exists(), "nothing may land from a failed fetch"


def test_retry_after_beyond_the_budget_fails_at_once(httpserver: HTTPServer, tmp_path):
    httpserver.expect_request("/doc.json").respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    fetcher = make_fetcher(httpserver, tmp_path, max_retry_seconds=10)
    started = time.monotonic()
    with pytest.raises(FetchError, match="Retry-After 3600s"):
        fetcher.get_json("/doc.json")
    assert time.monotonic() - started < 5


def test_5xx_is_retried(httpserver: HTTPServer, tmp_path):
    httpserver.expect_ordered_request("/doc.json").respond_with_data("oops", status=503)
    httpserver.expect_ordered_request("/doc.json").respond_with_json([1, 2])
    assert make_fetcher(httpserver, tmp_path).get_json("/doc.json").parsed == [1, 2]


def test_404_names_the_url_and_is_not_retried(httpserver: HTTPServer, tmp_path):
    httpserver.expect_request("/missing.json").respond_with_data("nope", status=404)
    fetcher = make_fetcher(httpserver, tmp_path)
    with pytest.raises(FetchError, match=r"/missing.json: HTTP 404"):
        fetcher.get_json("/missing.json")
    assert fetcher.requests_sent == 1


def test_html_error_page_where_json_was_expected(httpserver: HTTPServer, tmp_path):
    httpserver.expect_request("/doc.json").respond_with_data(
        "<!DOCTYPE html><html><body>Your request was blocked</body></html>",
        content_type="text/html",
    )
    with pytest.raises(FetchError, match="expected JSON but got an HTML page"):
        make_fetcher(httpserver, tmp_path).get_json("/doc.json")
    assert not (tmp_path / "raw" / "test").exists()


def test_malformed_json(httpserver: HTTPServer, tmp_path):
    httpserver.expect_request("/doc.json").respond_with_data(
        '{"facts": {', content_type="application/json"
    )
    with pytest.raises(FetchError, match=r"/doc.json: malformed JSON"):
        make_fetcher(httpserver, tmp_path).get_json("/doc.json")


def test_truncated_body_is_an_error_not_a_document(tmp_path):
    """A server that promises 1000 bytes and closes after 20: the body must not land."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def serve():
        listener.settimeout(10)
        try:
            while True:
                conn, _ = listener.accept()
                conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000\r\n\r\n" + b'{"facts": {"us-gaap"'
                )
                conn.close()
        except OSError:
            return

    threading.Thread(target=serve, daemon=True).start()
    fetcher = Fetcher(
        "test",
        f"http://127.0.0.1:{port}",
        RawStore(tmp_path / "raw"),
        user_agent=UA,
        requests_per_second=50,
        max_attempts=2,
        max_retry_seconds=10,
    )
    with pytest.raises(FetchError, match="truncated"):
        fetcher.get_json("/doc.json")
    listener.close()
    assert not (tmp_path / "raw" / "test").exists()


def test_conditional_get_reuses_the_stored_body(httpserver: HTTPServer, tmp_path):
    body = json.dumps({"n": 1})

    def handler(request):
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(body, headers={"ETag": '"v1"'}, content_type="application/json")

    httpserver.expect_request("/doc.json").respond_with_handler(handler)
    fetcher = make_fetcher(httpserver, tmp_path)
    first = fetcher.get_json("/doc.json")
    second = fetcher.get_json("/doc.json")
    assert first.downloaded and not second.downloaded
    assert second.parsed == {"n": 1}
    assert fetcher.bytes_downloaded == len(body)
    versions = RawStore(tmp_path / "raw").versions(first.document.key)
    assert len(versions) == 1 and versions[0].etag == '"v1"'


def test_changed_document_is_kept_beside_the_old_version(httpserver: HTTPServer, tmp_path):
    httpserver.expect_ordered_request("/doc.json").respond_with_json({"v": 1})
    httpserver.expect_ordered_request("/doc.json").respond_with_json({"v": 2})
    fetcher = make_fetcher(httpserver, tmp_path)
    fetcher.get_json("/doc.json")
    fetcher.get_json("/doc.json")
    store = RawStore(tmp_path / "raw")
    versions = store.versions(document_key("test", httpserver.url_for("/doc.json")))
    assert [json.loads(v.read()) for v in versions] == [{"v": 1}, {"v": 2}]


def test_offline_reads_raw_and_never_connects(httpserver: HTTPServer, tmp_path):
    httpserver.expect_oneshot_request("/doc.json").respond_with_json({"v": 1})
    make_fetcher(httpserver, tmp_path).get_json("/doc.json")
    offline = make_fetcher(httpserver, tmp_path, offline=True, user_agent=None)
    assert offline.get_json("/doc.json").parsed == {"v": 1}
    with pytest.raises(FetchError, match="not in .*raw.*run once without CAPEX_OFFLINE=1"):
        offline.get_json("/other.json")
    assert len(httpserver.log) == 1


def test_missing_user_agent_fails_before_any_request(httpserver: HTTPServer, tmp_path):
    settings = load_settings({"CAPEX_SEC_DATA_URL": httpserver.url_for("")})
    with pytest.raises(ConfigError, match="SEC_USER_AGENT is not set.*export SEC_USER_AGENT="):
        SecClient(settings, RawStore(tmp_path / "raw"))
    with pytest.raises(ConfigError, match="no contact e-mail address"):
        check_user_agent("capex-watch")
    assert len(httpserver.log) == 0


def test_user_agent_is_sent(httpserver: HTTPServer, tmp_path):
    httpserver.expect_request("/doc.json", headers={"User-Agent": UA}).respond_with_json({})
    make_fetcher(httpserver, tmp_path).get_json("/doc.json")


def test_rate_limiter_spaces_requests_across_threads(tmp_path):
    limiter = RateLimiter(tmp_path / "rate.lock", rate=20)
    stamps: list[float] = []

    def take():
        for _ in range(5):
            limiter.acquire()
            stamps.append(time.monotonic())

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps.sort()
    # 20 acquisitions at 20/s span at least 19 intervals of 50 ms
    assert stamps[-1] - stamps[0] >= 19 * 0.05 - 0.02
    in_any_second = max(sum(1 for s in stamps if t <= s < t + 1) for t in stamps)
    assert in_any_second <= 20


def test_parse_retry_after_forms():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_expect_json_accepts_json_content():
    assert expect_json(b'{"a": [1]}', "application/json") == {"a": [1]}


def test_an_unresolvable_host_fails_at_once(tmp_path):
    fetcher = Fetcher(
        "test",
        "http://no-such-host.invalid",
        RawStore(tmp_path / "raw"),
        user_agent=UA,
        requests_per_second=50,
        max_attempts=5,
    )
    started = time.monotonic()
    with pytest.raises(FetchError, match="cannot resolve the host name"):
        fetcher.get_json("/doc.json")
    assert fetcher.requests_sent == 1
    assert time.monotonic() - started < 10
