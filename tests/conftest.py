"""Shared test fixtures: the recorded data in ../shared, a local SEC, and capex runs."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from tests.postgres_server import PostgresServer, PostgresUnavailable
from tests.sec_server import FakeSec

ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"
USER_AGENT = "capex-watch tests tests@example.com"


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """../shared/fixtures: recorded SEC documents and prices (never copied into the repo)."""
    if not (SHARED_FIXTURES / "SOURCES.md").is_file():
        pytest.skip(
            f"{SHARED_FIXTURES} is absent: the recorded SEC and price documents live there "
            "(CI always has it; clone the project beside a shared/ folder to run this test)"
        )
    return SHARED_FIXTURES


@pytest.fixture(scope="session")
def fake_sec(shared_fixtures: Path):
    """A local SEC on 127.0.0.1 serving the recorded documents under SEC's URL layout."""
    app = FakeSec(shared_fixtures / "sec")
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(r"^/.*")).respond_with_handler(app)
    server.start()
    app.base_url = server.url_for("").rstrip("/")
    # the ECB's reference rates, as a zip like the ECB serves, from our hand-made CSV
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(
            ROOT / "tests" / "fixtures" / "news" / "eurofxref-hist.csv", "eurofxref-hist.csv"
        )
    app.extra["/ecb/eurofxref-hist.zip"] = buffer.getvalue()
    yield app
    server.clear()
    server.stop()


def capex_environment(fake_sec: FakeSec, workdir: Path, **overrides: str | None) -> dict[str, str]:
    """Environment for a capex process pointed at the local SEC and a private work folder.

    An override of None removes the variable.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPEX_", "DAGSTER_"))}
    env.update(
        SEC_USER_AGENT=USER_AGENT,
        CAPEX_SEC_DATA_URL=fake_sec.base_url,
        CAPEX_SEC_WWW_URL=fake_sec.base_url,
        CAPEX_RAW_DIR=str(workdir / "raw"),
        CAPEX_WAREHOUSE=str(workdir / "warehouse" / "capex.duckdb"),
        CAPEX_FX_URL=f"{fake_sec.base_url}/ecb",
        CAPEX_PRICES_DIR=str(SHARED_FIXTURES / "prices"),
        CAPEX_HTTP_MAX_ATTEMPTS="3",
        CAPEX_HTTP_MAX_RETRY_SECONDS="20",
        PYTHONPATH=str(ROOT),
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_capex(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the real ``capex`` command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def built_warehouse(fake_sec: FakeSec, tmp_path_factory) -> Path:
    """One `capex run` of the default seven companies against the local SEC."""
    workdir = tmp_path_factory.mktemp("capex-run")
    result = run_capex(capex_environment(fake_sec, workdir), "run")
    if result.returncode != 0:
        raise AssertionError(f"capex run failed:\n{result.stdout}\n{result.stderr}")
    (workdir / "run.log").write_text(result.stdout)
    return workdir / "warehouse" / "capex.duckdb"


@pytest.fixture
def warehouse_sql(built_warehouse: Path):
    """Run a query against the published warehouse of :func:`built_warehouse`."""
    con = duckdb.connect(str(built_warehouse), read_only=True)

    def query(sql: str, params: list | None = None) -> list[tuple]:
        return con.execute(sql, params or []).fetchall()

    yield query
    con.close()


@pytest.fixture(scope="session")
def postgres() -> PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (the DuckLake catalog), removed afterwards."""
    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL cannot be started here: {exc}")
    yield server
    server.remove()


def lakehouse_environment(
    fake_sec: FakeSec, workdir: Path, catalog: str, **overrides: str | None
) -> dict[str, str]:
    """:func:`capex_environment` with the DuckLake backend: ``catalog`` and a data folder."""
    lake = {"CAPEX_CATALOG": catalog, "CAPEX_DATA_PATH": str(workdir / "lake")}
    return capex_environment(fake_sec, workdir, **{**lake, **overrides})


# --- RELIABILITY.md: the fault classes the tests try, written from their own results ----------


@dataclass
class FaultRecord:
    """One reliability test's fault class, how many cases it tried, and what held."""

    fault_class: str
    cases: int
    holds: str
    nodeid: str
    outcome: str = "not run"
    seconds: float = 0.0


_FAULTS: dict[str, FaultRecord] = {}


class Reliability:
    """Handed to a test by the ``reliability`` fixture; ``record`` names its fault class."""

    def __init__(self, nodeid: str):
        self.nodeid = nodeid

    def record(self, fault_class: str, cases: int, holds: str) -> None:
        _FAULTS[self.nodeid] = FaultRecord(fault_class, cases, holds, self.nodeid)


@pytest.fixture
def reliability(request) -> Reliability:
    """Record this test in RELIABILITY.md (``--reliability-report PATH``)."""
    return Reliability(request.node.nodeid)


def pytest_addoption(parser):
    parser.addoption(
        "--reliability-report",
        default=None,
        help="write the fault classes tried by the reliability tests, and their results, "
        "to this Markdown file (bench/reliability.py writes RELIABILITY.md this way)",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    record = _FAULTS.get(item.nodeid)
    if record is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        record.outcome = "skipped" if report.skipped else ("pass" if report.passed else "FAIL")
        record.seconds += report.duration


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--reliability-report", default=None)
    if path and _FAULTS:
        Path(path).write_text(reliability_markdown(list(_FAULTS.values())))


def reliability_markdown(records: list[FaultRecord]) -> str:
    """The RELIABILITY.md table: one row per fault class, cases tried and the result."""
    rows = sorted(records, key=lambda r: (r.fault_class, r.nodeid))
    lines = [
        "# Reliability",
        "",
        "Generated by `python bench/reliability.py` from the reliability tests' own results "
        "(the `reliability` fixture in tests/conftest.py); do not edit by hand.",
        "",
        "| fault class | cases tried | what must hold | result | test |",
        "|---|---:|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.fault_class} | {r.cases:,} | {r.holds} | {r.outcome} ({r.seconds:.1f}s) | "
            f"`{r.nodeid}` |"
        )
    total = sum(r.cases for r in rows)
    passed = sum(r.outcome == "pass" for r in rows)
    lines += ["", f"{total:,} cases in {len(rows)} tests; {passed} of {len(rows)} pass.", ""]
    return "\n".join(lines)
