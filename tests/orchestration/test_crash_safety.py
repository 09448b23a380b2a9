"""Crash safety, tested by killing `capex run` with SIGKILL and by filling the disk.

After every kill the published warehouse opens and every document raw/ lists is complete;
re-runs sweep what the killed run left half-written and give the same tables as a clean build
(``table_digests`` of tests/warehouse_snapshot.py). The kill moments are seeded
(``CAPEX_KILL_SEED``, printed) so a failure can be replayed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, capex_environment, run_capex
from tests.warehouse_snapshot import table_digests

KILLS = 20
RERUN_EVERY = 10  # a full re-run, compared with the clean build, after every 10th kill
TICKERS = "TSLA"


def _published_opens(warehouse: Path) -> None:
    if not warehouse.exists():
        return  # killed before the first publish: nothing published, nothing half-written
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables")
        for schema, table in tables.fetchall():
            con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
    finally:
        con.close()


def _listed_documents_are_complete(raw: Path) -> int:
    """Every version a sidecar lists has its whole body (size and sha256 as recorded)."""
    count = 0
    for meta_path in raw.rglob("*.meta.json"):
        meta = json.loads(meta_path.read_text())
        body = meta_path.with_name(meta_path.name.removesuffix(".meta.json") + ".body")
        data = body.read_bytes()
        assert len(data) == meta["bytes"], body
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], body
        count += 1
    return count


def _partial_files(workdir: Path) -> list[str]:
    raw = workdir / "raw"
    partial = [str(p) for p in raw.rglob(".tmp-*")]
    partial += [
        str(body)
        for body in raw.rglob("*.body")
        if not body.with_name(body.name.removesuffix(".body") + ".meta.json").exists()
    ]
    partial += [str(p) for p in (workdir / "warehouse").glob(".publish-*")]
    return partial


def _start(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_sigkill_at_random_moments_never_corrupts(reliability, fake_sec, tmp_path):
    seed = int(os.environ.get("CAPEX_KILL_SEED", "20241202"))
    print(f"kill moments seeded with CAPEX_KILL_SEED={seed}")
    reliability.record(
        f"SIGKILL during `capex run` (seed {seed})",
        KILLS,
        "published warehouse opens; no partial file in raw/; re-run equals a clean build",
    )
    clean_env = capex_environment(fake_sec, tmp_path / "clean", CAPEX_TICKERS=TICKERS)
    started = time.monotonic()
    clean = run_capex(clean_env, "run")
    duration = time.monotonic() - started
    assert clean.returncode == 0, clean.stdout + clean.stderr
    expected = table_digests(tmp_path / "clean" / "warehouse" / "capex.duckdb")

    work = tmp_path / "killed"
    env = capex_environment(fake_sec, work, CAPEX_TICKERS=TICKERS)
    published = work / "warehouse" / "capex.duckdb"
    rng = random.Random(seed)
    moments = []
    for number in range(1, KILLS + 1):
        moment = rng.uniform(0.2, duration)
        moments.append(round(moment, 2))
        process = _start(env)
        try:
            process.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        where = f"kill {number} at {moment:.2f}s (seed {seed}, moments {moments})"
        try:
            _published_opens(published)
            _listed_documents_are_complete(work / "raw")
        except Exception as exc:  # noqa: BLE001 (named with the replayable moment)
            raise AssertionError(f"{where}: {exc}") from exc
        if number % RERUN_EVERY == 0:
            rerun = run_capex(env, "run")
            assert rerun.returncode == 0, f"{where}\n{rerun.stdout}{rerun.stderr}"
            assert _partial_files(work) == [], where
            assert table_digests(published) == expected, where


def _mount_tmpfs(path: Path, size: str) -> bool:
    """A size-limited tmpfs at ``path`` (needs root and mount rights); False when refused."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return mounted.returncode == 0


def test_a_full_disk_is_a_clear_error_and_publishes_nothing_half_written(
    reliability, fake_sec, tmp_path
):
    reliability.record(
        "disk full during `capex run` (96 MB tmpfs, filled)",
        1,
        "clear error; published warehouse unchanged; no partial file in raw/",
    )
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "96m"):
        pytest.skip("cannot mount a size-limited tmpfs here (needs root and mount rights)")
    try:
        env = capex_environment(fake_sec, disk, CAPEX_TICKERS="TSLA")
        first = run_capex(env, "run")
        assert first.returncode == 0, first.stdout + first.stderr
        published = disk / "warehouse" / "capex.duckdb"
        before = table_digests(published)
        # fill the disk but for 200 kB; the next run must fetch NVIDIA's documents too
        filler = disk / "filler"
        free = shutil.disk_usage(disk).free
        with open(filler, "wb") as handle:
            handle.truncate(0)
            handle.write(b"\0" * max(0, free - 200_000))
        result = run_capex(env, "run", "--tickers", "TSLA,NVDA")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "No space left on device" in result.stdout + result.stderr
        filler.unlink()
        _published_opens(published)
        assert table_digests(published) == before
        _listed_documents_are_complete(disk / "raw")
        again = run_capex(env, "run")
        assert again.returncode == 0, again.stdout + again.stderr
        assert _partial_files(disk) == []
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)
