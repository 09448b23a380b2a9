"""Politeness under load: four processes refreshing at once against a SEC that answers 429.

The local SEC answers the first three requests of every URL with 429 Too Many Requests and
records when each request arrived. The four processes share raw/ (as refreshes on one machine
do), so they share its rate limiter: everything completes, and the server never sees more
than 10 requests in any second (SEC's limit).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections import Counter

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from tests.conftest import ROOT, capex_environment
from tests.sec_server import COMPANY_NAMES, FakeSec

REFRESH = """
import sys
from pipelines.core.config import load_settings
from pipelines.core.rawstore import RawStore
from pipelines.core.universe import Company
from pipelines.sec.client import SecClient, company_documents

settings = load_settings()
ticker, cik, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = SecClient(settings, RawStore(settings.raw_dir))
documents = company_documents(client, Company(ticker, cik, name), settings.since)
print(len(list(documents.all_fetched())))
"""


class Throttling:
    """The stand-in SEC, answering 429 to the first three requests of each URL."""

    def __init__(self, app: FakeSec, refusals: int = 3):
        self.app = app
        self.refusals = refusals
        self.seen: Counter[str] = Counter()
        self.arrivals: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.arrivals.append(time.monotonic())
            self.seen[request.path] += 1
            refuse = self.seen[request.path] <= self.refusals
        if refuse:
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        return self.app(request)


def busiest_second(arrivals: list[float]) -> int:
    """The most requests that arrived within any one-second window."""
    times = sorted(arrivals)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_four_refreshing_processes_stay_under_ten_requests_a_second(
    reliability, shared_fixtures, tmp_path
):
    reliability.record(
        "4 processes refreshing against a SEC answering 429 three times per URL",
        4,
        "all complete, nothing lost; at most 10 requests in any second",
    )
    app = FakeSec(shared_fixtures / "sec")
    throttling = Throttling(app)
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request(re.compile(r"^/.*")).respond_with_handler(throttling)
    server.start()
    app.base_url = server.url_for("").rstrip("/")
    companies = [(t, cik, n) for cik, (t, n, _) in COMPANY_NAMES.items()
                 if t in ("TSLA", "NVDA", "AAPL", "GOOGL")]  # fmt: skip
    env = capex_environment(
        app, tmp_path, CAPEX_HTTP_MAX_ATTEMPTS="6", CAPEX_HTTP_MAX_RETRY_SECONDS="120"
    )
    try:
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", REFRESH, ticker, str(cik), name],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for ticker, cik, name in companies
        ]
        outputs = [process.communicate(timeout=600) for process in processes]
    finally:
        server.stop()
    for (ticker, _, _), process, (out, err) in zip(companies, processes, outputs, strict=True):
        assert process.returncode == 0, f"{ticker}: {err}"
        assert int(out.strip()) >= 3, f"{ticker} fetched too little: {out}"
    urls = len(throttling.seen)
    assert all(count == 4 for count in throttling.seen.values()), throttling.seen
    peak = busiest_second(throttling.arrivals)
    print(f"{len(throttling.arrivals)} requests for {urls} URLs; busiest second: {peak}")
    assert peak <= 10
    reliability.record(
        "4 processes refreshing against a SEC answering 429 three times per URL",
        4,
        f"{len(throttling.arrivals)} requests, all complete, nothing lost; at most 10 "
        f"requests in any second (busiest: {peak})",
    )
