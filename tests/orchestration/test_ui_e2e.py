"""The Dagster UI end to end: ``dagster dev`` on 127.0.0.1 against the local SEC, a
materialisation of every asset launched through its GraphQL API, then the UI in headless Chromium.

``dagster dev`` runs in its own process group with SIGINT restored (it ignores SIGTERM while in
the background otherwise) and is always stopped: SIGINT to the group, then SIGKILL to whatever
is left. Every wait has a deadline. The screenshots are kept in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, capex_environment

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium")
DAGSTER = Path(sys.executable).with_name("dagster")
STARTUP_SECONDS = 240
MATERIALISE_SECONDS = 900
INSTANCE_YAML = """\
nux:
  enabled: false
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 2
"""
# Each run executes its steps in one process: on a small CI machine, a process per step
# (Dagster's default) spends most of the time importing.
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _restore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(process: subprocess.Popen, grace: float = 30) -> None:
    """SIGINT the process group, wait for it, then SIGKILL whatever is left."""
    pgid = process.pid
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    deadline = time.monotonic() + 15
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.5)
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
    process.wait(timeout=10)


class DagsterDev:
    """A running ``dagster dev`` and its GraphQL endpoint."""

    def __init__(self, env: dict[str, str], home: Path, log: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_handle = open(log, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                str(DAGSTER),
                "dev",
                "-m",
                "pipelines.definitions",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            cwd=ROOT,
            env={**env, "DAGSTER_HOME": str(home)},
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_restore_sigint,
        )

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def gql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        response = requests.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=timeout,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def wait_ready(self, seconds: float) -> None:
        """Until the code location has loaded (or the deadline passes)."""
        deadline = time.monotonic() + seconds
        query = (
            "{ workspaceOrError { ... on Workspace { locationEntries { name "
            "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
        )
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"dagster dev exited:\n{self.log_tail()}")
            try:
                entries = self.gql(query, timeout=10)["workspaceOrError"]["locationEntries"]
            except (requests.RequestException, AssertionError, KeyError, TypeError):
                time.sleep(2)
                continue
            loaded = [e["locationOrLoadError"] for e in entries if e["locationOrLoadError"]]
            errors = [e["message"] for e in loaded if e["__typename"] == "PythonError"]
            if errors:
                raise AssertionError(f"the code location failed to load: {errors[0]}")
            if any(e["__typename"] == "RepositoryLocation" for e in loaded):
                return
            time.sleep(2)
        raise AssertionError(f"dagster dev not ready after {seconds}s:\n{self.log_tail()}")

    def stop(self) -> None:
        try:
            stop_group(self.process)
        finally:
            self._log_handle.close()


@pytest.fixture(scope="module")
def dagster_ui(fake_sec, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("dagster-ui")
    home = workdir / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    env = capex_environment(fake_sec, workdir, PYTHONUNBUFFERED="1")
    ui = DagsterDev(env, home, workdir / "dagster-dev.log")
    ui.workdir = workdir
    try:
        ui.wait_ready(STARTUP_SECONDS)
        yield ui
    finally:
        ui.stop()
    assert not _group_alive(ui.process.pid), "dagster dev left processes running"


LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""
BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill {
      status
      runs(limit: 100) { runId status jobName tags { key value } }
    }
  }
}
"""
ASSET_NODES = "{ assetNodes { assetKey { path } isMaterializable isPartitioned } }"


@pytest.fixture(scope="module")
def materialised(dagster_ui):
    """Every asset (all company partitions, then the models, publish and the report),
    launched as one asset backfill through GraphQL; returns the asset keys and the runs."""
    nodes = dagster_ui.gql(ASSET_NODES)["assetNodes"]
    keys = [n["assetKey"] for n in nodes if n["isMaterializable"]]
    launched = dagster_ui.gql(
        LAUNCH_BACKFILL,
        {
            "params": {
                "assetSelection": keys,
                "allPartitions": True,
                "title": "e2e: everything",
                "runConfigData": IN_PROCESS,
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    deadline = time.monotonic() + MATERIALISE_SECONDS
    status = None
    while time.monotonic() < deadline:
        status = dagster_ui.gql(BACKFILL_STATUS, {"id": launched["backfillId"]})[
            "partitionBackfillOrError"
        ]
        if status["status"] not in ("REQUESTED", "CANCELING", "FAILING"):
            break
        time.sleep(3)
    runs = status["runs"] if status else []
    failed = [r for r in runs if r["status"] != "SUCCESS"]
    assert status and status["status"] == "COMPLETED_SUCCESS" and not failed, (
        f"backfill {status and status['status']}; runs not successful: {failed}\n"
        f"{dagster_ui.log_tail()}"
    )
    return keys, runs


def test_everything_materialises_through_graphql(dagster_ui, materialised):
    keys, runs = materialised
    paths = {tuple(k["path"]) for k in keys}
    assert {
        ("raw", "sec_documents"),
        ("staging", "facts"),
        ("warehouse", "published"),
        ("reports", "capex_report"),
        ("marts", "capex_quarterly"),
    } <= paths
    partitions = {
        tag["value"] for run in runs for tag in run["tags"] if tag["key"] == "dagster/partition"
    }
    assert partitions == {"AAPL", "MSFT", "GOOGL", "AMZN", "META", "NVDA", "TSLA"}
    # the published warehouse and the report are on disk where the settings say
    warehouse = dagster_ui.workdir / "warehouse"
    assert (warehouse / "capex.duckdb").is_file()
    report = warehouse / "reports" / "capex_report.html"
    assert report.is_file()
    assert "Quarterly capex by company" in report.read_text()
    materialization = dagster_ui.gql(
        """{ assetOrError(assetKey: {path: ["reports", "capex_report"]}) {
             ... on Asset { assetMaterializations(limit: 1) {
               metadataEntries { label ... on PathMetadataEntry { path } } } } } }"""
    )["assetOrError"]["assetMaterializations"][0]
    labels = {e["label"]: e.get("path") for e in materialization["metadataEntries"]}
    assert labels["report"] == str(report.resolve())
    assert "preview" in labels


def test_schedules_sensors_and_checks_are_in_the_ui(dagster_ui):
    repository = dagster_ui.gql(
        """{ repositoriesOrError { ... on RepositoryConnection { nodes {
             schedules { name cronSchedule executionTimezone scheduleState { status } }
             sensors { name sensorState { status } } } } } }"""
    )["repositoriesOrError"]["nodes"][0]
    schedules = {
        s["name"]: (s["cronSchedule"], s["executionTimezone"], s["scheduleState"]["status"])
        for s in repository["schedules"]
    }
    assert schedules == {
        "filings_daily": ("0 6 * * *", "America/New_York", "STOPPED"),
        "prices_daily": ("30 17 * * 1-5", "America/New_York", "STOPPED"),
        "news_refresh_schedule": ("0 7,12,17,22 * * *", "America/New_York", "STOPPED"),
    }
    sensors = {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
    assert sensors["new_filing_sensor"] == "STOPPED"
    assert sensors["capex_automation"] == "RUNNING"
    checks = dagster_ui.gql(
        """{ assetNodeOrError(assetKey: {path: ["staging", "facts"]}) {
             ... on AssetNode { assetChecksOrError { ... on AssetChecks {
               checks { name } } } } } }"""
    )["assetNodeOrError"]["assetChecksOrError"]["checks"]
    assert "latest_quarter_fresh" in {c["name"] for c in checks}


def run_chromium(
    url: str, profile: Path, *args: str, height: int = 1000, timeout: float = 120
) -> str:
    """Headless Chromium on ``url``; returns stdout. The whole process group is killed after."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}",
        f"--window-size=1600,{height}", "--virtual-time-budget=20000", *args, url,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"chromium did not finish {url} within {timeout}s") from None
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
    if process.returncode != 0:
        raise AssertionError(f"chromium failed on {url}: {err.decode(errors='replace')[-2000:]}")
    return out.decode(errors="replace")


def page(ui: DagsterDev, path: str, profiles: Path, name: str, height: int = 1000) -> str:
    """Screenshot ``path`` of the UI into tests/artifacts/<name>.png and return its DOM."""
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / f"{name}.png"
    screenshot.unlink(missing_ok=True)
    url = f"{ui.url}{path}"
    run_chromium(url, profiles / f"{name}-shot", f"--screenshot={screenshot}", height=height)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"no screenshot of {url}"
    dom = run_chromium(url, profiles / f"{name}-dom", "--dump-dom", height=height)
    (ARTIFACTS / f"{name}.html").write_text(dom)
    return dom


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's `chromium` is not installed (.ci/run installs it with apt-get); "
    "the browser check of the Dagster UI needs it",
)
def test_asset_graph_in_headless_chromium(dagster_ui, materialised, tmp_path):
    keys, _runs = materialised
    # the global lineage shows one box per asset group
    lineage = page(dagster_ui, "/asset-groups", tmp_path, "asset_lineage")
    for group in ("sec", "prices", "models", "marts", "news", "warehouse", "reports"):
        assert f">{group}<" in lineage, f"group {group} not on the global asset graph"
    # a group's graph shows its assets
    sec_graph = page(
        dagster_ui, "/locations/pipelines.definitions/asset-groups/sec", tmp_path, "asset_graph_sec"
    )
    for name in ("sec_documents", "facts", "filings", "companies"):
        assert f">{name}<" in sec_graph, f"{name} not on the sec asset graph"
    # the catalog lists every asset (tall window: the list only renders rows in view)
    catalog = page(dagster_ui, "/assets", tmp_path, "asset_catalog", height=4000)
    missing = [
        "/".join(k["path"]) for k in keys if f'href="/assets/{"/".join(k["path"])}"' not in catalog
    ]
    assert not missing, f"assets missing from the catalog page: {missing}"
    # the report's asset page shows its materialisation with the link to the report
    report = page(dagster_ui, "/assets/reports/capex_report", tmp_path, "report_asset")
    assert "capex_report.html" in report
