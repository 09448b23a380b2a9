"""Benchmark: the DuckLake backend on PostgreSQL against the embedded file (issue 14), not a test.

Starts a throwaway PostgreSQL (tests/postgres_server.py) and the local SEC serving the recorded
documents, fills raw/ once with an online run, then, from that raw/ (CAPEX_OFFLINE=1):

1. lands the seven companies (the ``company_refresh`` job) with **one process on the embedded
   file**, and with **four processes at once on DuckLake** (tickers dealt round-robin; each of
   several processes gets cores ÷ processes threads, CAPEX_THREADS and POLARS_MAX_THREADS).
   Every run but DuckLake's first refreshes companies that did not change, as a daily refresh
   does: on DuckLake such a company writes nothing, the file rewrites it (cheaper there than
   comparing). A last run lands all seven with four processes on a new DuckLake;
2. rebuilds the models on both and checks that every mart is identical;
3. runs a full refresh on DuckLake (landing by four processes, then the models) while a
   **reader** queries in a loop: it must see zero errors, and every table's row count in every
   snapshot it reads must be the complete count (a replaced table is never seen half-written).

Targets (issue 14): (1) four processes on DuckLake faster than one on the file; (3) zero
errors, no half-written table. Ratios are of one run, on whatever else the machine is doing.

The workers run as in capex-watch's own environment, which has no pandas: the ``bench`` extra
brings it (edgartools, for bench_companyfacts.py), and DuckDB then imports it in every process
on the first statement with parameters, 0.4 s of CPU each. ``--with-pandas`` lets them.

    .venv/bin/python bench/bench_ducklake.py [--with-pandas]
"""

from __future__ import annotations

import importlib.abc
import io
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_httpserver import HTTPServer  # noqa: E402

from pipelines.core.config import load_settings  # noqa: E402
from pipelines.core.warehouse import DuckLakeWarehouse, Warehouse  # noqa: E402
from tests.conftest import SHARED_FIXTURES, USER_AGENT  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402
from tests.sec_server import FakeSec  # noqa: E402
from tests.warehouse_snapshot import connection_digests  # noqa: E402

TICKERS = ["AAPL", "AMZN", "GOOGL", "META", "MSFT", "NVDA", "TSLA"]
WATCHED = ["staging.facts", "staging.filings", "marts.metric_quarterly", "marts.capex_quarterly"]


def land(tickers: list[str], start_line: str) -> None:
    """Worker: the company_refresh job for each ticker, in this process (settings from env).

    Once Dagster is imported and the job built, it says so (``start_line``.ready.<pid>) and
    waits for ``start_line`` to exist: the workers start landing together, none of them
    while another is still importing on the same cores.
    """
    import dagster as dg

    from pipelines.definitions import build_code_location, freeze_loaded_objects

    location = build_code_location(load_settings())
    job = location.definitions.resolve_job_def(location.jobs.company.name)
    instance = dg.DagsterInstance.ephemeral()
    freeze_loaded_objects()  # as a Dagster step process does once it has loaded the code
    Path(f"{start_line}.ready.{os.getpid()}").touch()
    while not os.path.exists(start_line):
        time.sleep(0.01)
    started, cpu = time.time(), time.process_time()
    for ticker in tickers:
        result = job.execute_in_process(partition_key=ticker, instance=instance)
        if not result.success:
            raise SystemExit(f"landing {ticker} failed")
    print(f"replays {DuckLakeWarehouse.replays}", flush=True)
    print(f"window {started} {time.time()} {time.process_time() - cpu}", flush=True)


def models() -> None:
    """Worker: the models_refresh job (SQL models, publish, report), in this process."""
    import dagster as dg

    from pipelines.definitions import build_code_location

    location = build_code_location(load_settings())
    job = location.definitions.resolve_job_def(location.jobs.models.name)
    if not job.execute_in_process(instance=dg.DagsterInstance.ephemeral()).success:
        raise SystemExit("models_refresh failed")


def read_loop(stop_file: str) -> None:
    """Worker: read the watched tables' row counts in a loop until ``stop_file`` exists.

    Prints one line per read: snapshot id, then the counts (or ERROR and the message).
    """
    warehouse = Warehouse.from_settings(load_settings())
    while not os.path.exists(stop_file):
        try:
            with warehouse.reader() as con:
                con.execute("BEGIN TRANSACTION")  # one snapshot for all the reads
                snapshot = con.execute("SELECT max(snapshot_id) FROM capex.snapshots()").fetchone()
                counts = [
                    con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in WATCHED
                ]
                con.execute("COMMIT")
            print(snapshot[0], *counts, flush=True)
        except Exception as exc:  # noqa: BLE001 (the bench counts every kind of error)
            print("ERROR", str(exc).splitlines()[0], flush=True)
        time.sleep(0.05)


class _WithoutPandas(importlib.abc.MetaPathFinder):
    """Makes pandas absent, as in capex-watch's environment: importing it fails as it does
    when it is not installed (a ``None`` in ``sys.modules`` breaks pyarrow's pandas shim)."""

    def find_spec(self, name, path=None, target=None):  # noqa: ARG002 (the finder protocol)
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    with_pandas = ["--with-pandas"] if "--with-pandas" in sys.argv else []
    return subprocess.Popen(
        [sys.executable, __file__, *args, *with_pandas],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _wait(processes: list[subprocess.Popen]) -> str:
    """Wait for every worker; returns their output, joined."""
    outputs = []
    for process in processes:
        output, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a worker failed: {process.args}")
        outputs.append(output)
    return "".join(outputs)


def _land_parallel(env: dict[str, str], workers: int) -> tuple[float, float, int]:
    """Landing the seven companies with ``workers`` processes: seconds overall, seconds from
    the moment every worker is ready to the last one's end (without starting Python and
    Dagster), and the commits replayed."""
    started = time.perf_counter()
    shares = [TICKERS[i::workers] for i in range(workers) if TICKERS[i::workers]]
    if workers > 1:  # processes sharing the cores each keep to their part (README, CAPEX_THREADS)
        threads = str(max(1, len(os.sched_getaffinity(0)) // workers))
        env = dict(env, CAPEX_THREADS=threads, POLARS_MAX_THREADS=threads)
    with tempfile.TemporaryDirectory(prefix="bench-start-") as folder:
        start_line = Path(folder) / "go"
        processes = [_worker(env, "land", ",".join(share), str(start_line)) for share in shares]
        while len(list(Path(folder).glob("go.ready.*"))) < len(processes):
            if any(process.poll() not in (None, 0) for process in processes):
                break  # a worker failed before it was ready: _wait names it
            time.sleep(0.02)
        busy = _busy_seconds()
        start_line.touch()
        output = _wait(processes)
    replays = sum(int(n) for n in re.findall(r"^replays (\d+)$", output, re.M))
    windows = [
        tuple(map(float, w)) for w in re.findall(r"^window (\S+) (\S+) (\S+)$", output, re.M)
    ]
    landing = max(w[1] for w in windows) - min(w[0] for w in windows)
    machine = _busy_seconds() - busy
    workers_cpu = sum(w[2] for w in windows)
    print(
        f"  CPU while landing: workers {workers_cpu:.1f} s, whole machine {machine:.1f} s "
        f"(PostgreSQL and the rest: {machine - workers_cpu:.1f} s)",
        flush=True,
    )
    return time.perf_counter() - started, landing, replays


def _busy_seconds() -> float:
    """CPU seconds the machine has spent busy since boot, all cores (from /proc/stat)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _serve_sec() -> tuple[HTTPServer, str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = FakeSec(SHARED_FIXTURES / "sec")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(
            ROOT / "tests" / "fixtures" / "news" / "eurofxref-hist.csv", "eurofxref-hist.csv"
        )
    app.extra["/ecb/eurofxref-hist.zip"] = buffer.getvalue()
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(r"^/.*")).respond_with_handler(app)
    server.start()
    return server, server.url_for("").rstrip("/")


def _environments(work: Path, base: str, catalog: str) -> tuple[dict, dict]:
    common = {k: v for k, v in os.environ.items() if not k.startswith(("CAPEX_", "DAGSTER_"))}
    common.update(
        SEC_USER_AGENT=USER_AGENT,
        CAPEX_SEC_DATA_URL=base,
        CAPEX_SEC_WWW_URL=base,
        CAPEX_FX_URL=f"{base}/ecb",
        CAPEX_PRICES_DIR=str(SHARED_FIXTURES / "prices"),
        CAPEX_RAW_DIR=str(work / "raw"),
        PYTHONPATH=str(ROOT),
    )
    embedded = dict(common, CAPEX_WAREHOUSE=str(work / "embedded" / "capex.duckdb"))
    lake = dict(
        common,
        CAPEX_WAREHOUSE=str(work / "lake-reports" / "capex.duckdb"),
        CAPEX_CATALOG=catalog,
        CAPEX_DATA_PATH=str(work / "lake"),
    )
    return embedded, lake


def _reader_verdict(lines: list[str], expected: list[int]) -> tuple[int, int, int, int]:
    """(reads, errors, snapshots seen, reads whose counts differ from the complete ones)."""
    errors = [line for line in lines if line.startswith("ERROR")]
    reads = [line.split() for line in lines if line and not line.startswith("ERROR")]
    partial = [r for r in reads if [int(n) for n in r[1:]] != expected]
    for line in errors[:3]:
        print(f"  reader error: {line}")
    for read in partial[:3]:
        print(f"  reader saw snapshot {read[0]} with counts {read[1:]} (complete: {expected})")
    return len(reads), len(errors), len({r[0] for r in reads}), len(partial)


def main() -> int:
    if not (SHARED_FIXTURES / "SOURCES.md").is_file():
        print(f"the bench serves the recorded documents in {SHARED_FIXTURES}, which is absent")
        return 2
    pandas = "with pandas" if "--with-pandas" in sys.argv else "without pandas (--with-pandas)"
    print(f"workers run {pandas}; load average {os.getloadavg()[0]:.2f}", flush=True)
    postgres = PostgresServer()
    postgres.start()
    server, base = _serve_sec()
    work = Path(tempfile.mkdtemp(prefix="bench-ducklake-"))
    try:
        embedded, lake = _environments(work, base, postgres.create_database("bench"))
        print("filling raw/ with one online landing of the seven companies ...", flush=True)
        _land_parallel(embedded, 1)
        embedded["CAPEX_OFFLINE"] = lake["CAPEX_OFFLINE"] = "1"

        overall, one, _ = _land_parallel(embedded, 1)
        print(
            f"landing 7 companies, 1 process, embedded file: {one:6.1f} s landing "
            f"({overall:.1f} s with process start)",
            flush=True,
        )
        for workers in (1, 2, 4):
            overall, took, replays = _land_parallel(lake, workers)
            print(
                f"landing 7 companies, {workers} process(es), DuckLake: {took:6.1f} s landing "
                f"({overall:.1f} s with process starts), {one / took:.2f}x the embedded "
                f"speed, {replays} commits replayed",
                flush=True,
            )
        # the runs above after the first refresh companies that did not change, as a daily
        # refresh does (on DuckLake such a company writes nothing); this one lands all anew
        fresh = dict(
            lake,
            CAPEX_CATALOG=postgres.create_database("fresh"),
            CAPEX_DATA_PATH=str(work / "lake-fresh"),
        )
        overall, took, replays = _land_parallel(fresh, 4)
        print(
            f"landing 7 companies, 4 process(es), a new DuckLake: {took:6.1f} s landing "
            f"({overall:.1f} s with process starts), {one / took:.2f}x the embedded speed "
            f"(which rewrites them), {replays} commits replayed",
            flush=True,
        )
        _wait([_worker(embedded, "models"), _worker(lake, "models")])
        file_marts = Warehouse(work / "embedded" / ".build" / "capex.duckdb", work / "x")
        with file_marts.connect() as con:
            expected = connection_digests(con)
        lake_warehouse = DuckLakeWarehouse(lake["CAPEX_CATALOG"], lake["CAPEX_DATA_PATH"])
        with lake_warehouse.reader() as con:
            got = connection_digests(con)
            complete = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in WATCHED]
        marts = [name for name in expected if name.startswith("marts.")]
        same = all(expected[name] == got.get(name) for name in marts)
        print(f"marts identical on both backends: {same} ({len(marts)} marts)")

        stop = work / "stop"
        reader = _worker(lake, "read", str(stop))
        started = time.perf_counter()
        _, _, replays = _land_parallel(lake, 4)
        _wait([_worker(lake, "models")])
        refresh = time.perf_counter() - started
        stop.write_text("")
        output, _ = reader.communicate(timeout=120)
        reads, errors, snapshots, partial = _reader_verdict(output.splitlines(), complete)
        print(
            f"reader during a {refresh:.1f} s full refresh on DuckLake: {reads} reads of "
            f"{snapshots} snapshots, {errors} errors, {partial} with incomplete row counts "
            f"({replays} commits replayed)"
        )
        return 0 if same and errors == 0 and partial == 0 else 1
    finally:
        server.stop()
        postgres.remove()


if __name__ == "__main__":
    if "--with-pandas" not in sys.argv:
        sys.meta_path.insert(0, _WithoutPandas())
    if len(sys.argv) > 1 and sys.argv[1] == "land":
        land(sys.argv[2].split(","), sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "models":
        models()
    elif len(sys.argv) > 1 and sys.argv[1] == "read":
        read_loop(sys.argv[2])
    else:
        sys.exit(main())
