"""Benchmark: a refresh in which nothing changed (not a test).

Serves the recorded SEC documents from the local SEC of the tests (tests/sec_server.py), runs
``capex run`` once to fill raw/, then again: every conditional GET is answered 304. Prints,
for the second run, the requests by status, the bytes of bodies downloaded (target: none),
the seconds spent on the seven companies' fetch-and-land runs (target: under 10 s) and on the
whole run (models, publish and report included). With ``--universe all`` the archives are
built from the same documents and the run takes the bulk path.

    .venv/bin/python bench/bench_refresh.py [--universe all]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_httpserver import HTTPServer  # noqa: E402 (the dev extra)

from tests.conftest import SHARED_FIXTURES, capex_environment, run_capex  # noqa: E402
from tests.sec_server import COMPANY_NAMES, FakeSec  # noqa: E402

STEP = re.compile(r"\] (\S+?)(?:\[(\w+)\])? \.\.\. (?:ok|FAILED) \(([\d.]+)s\)")


def _steps(output: str) -> list[tuple[str, str | None, float]]:
    return [(m[1], m[2], float(m[3])) for m in STEP.finditer(output)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--universe", choices=["seed", "all"], default="seed")
    args = parser.parse_args()
    if not (SHARED_FIXTURES / "sec").is_dir():
        print(f"{SHARED_FIXTURES} is absent: the benchmark serves the recorded documents there")
        return 1
    app = FakeSec(SHARED_FIXTURES / "sec")
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(r"^/.*")).respond_with_handler(app)
    server.start()
    app.base_url = server.url_for("").rstrip("/")
    if args.universe == "all":
        app.build_archives(sorted(COMPANY_NAMES))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-refresh-") as tmp:
            env = capex_environment(app, Path(tmp), CAPEX_UNIVERSE=args.universe)
            first = run_capex(env, "run")
            if first.returncode != 0:
                print(first.stdout, first.stderr)
                return 1
            already = len(app.statuses)
            started = time.perf_counter()
            again = run_capex(env, "run")
            total = time.perf_counter() - started
            statuses = app.statuses[already:]
    finally:
        server.stop()
    downloaded = sum(len(app.route(path) or b"") for path, status in statuses if status == 200)
    steps = _steps(again.stdout)
    sec_seconds = sum(s for job, _key, s in steps if job != "models_refresh")
    print(f"load average: {os.getloadavg()} on {len(os.sched_getaffinity(0))} cores")
    print(f"universe {args.universe}: second run exit code {again.returncode}")
    print(
        f"requests: {len(statuses)} ({sum(s == 304 for _p, s in statuses)} answered 304, "
        f"{sum(s == 200 for _p, s in statuses)} with a body); bytes downloaded: {downloaded:,}"
    )
    print(f"SEC runs (fetch and land the companies): {sec_seconds:.1f}s")
    for job, key, seconds in steps:
        print(f"  {job}{f'[{key}]' if key else ''}: {seconds:.1f}s")
    print(f"whole run (models, publish, report included): {total:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
