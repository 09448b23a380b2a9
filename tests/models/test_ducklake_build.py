"""The seven companies built on DuckLake over a real PostgreSQL equal the embedded build.

The SQL models in sql/ run unchanged on both backends; only pipelines/core/warehouse.py knows
which one is in use. Every table (raw, staging, marts) must hold the same rows, and every mart
is also compared row for row with ``EXCEPT ALL`` in both directions.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.core.warehouse import DuckLakeWarehouse
from tests.conftest import ROOT, lakehouse_environment, run_capex
from tests.postgres_server import PostgresServer
from tests.warehouse_snapshot import connection_digests, table_digests


@dataclass(frozen=True)
class LakeBuild:
    warehouse: DuckLakeWarehouse
    env: dict[str, str]
    workdir: Path
    finished: datetime
    stdout: str


@pytest.fixture(scope="module")
def lake_build(fake_sec, postgres, tmp_path_factory) -> LakeBuild:
    """One `capex run` of the default seven companies with CAPEX_CATALOG on PostgreSQL."""
    workdir = tmp_path_factory.mktemp("capex-lake")
    catalog = postgres.create_database("capex_build")
    env = lakehouse_environment(fake_sec, workdir, catalog)
    result = run_capex(env, "run", timeout=1800)
    if result.returncode != 0:
        raise AssertionError(f"capex run on DuckLake failed:\n{result.stdout}\n{result.stderr}")
    warehouse = DuckLakeWarehouse(catalog, env["CAPEX_DATA_PATH"])
    return LakeBuild(warehouse, env, workdir, datetime.now(UTC), result.stdout)


def test_every_table_on_ducklake_equals_the_embedded_build(lake_build, built_warehouse):
    embedded = table_digests(built_warehouse)
    with lake_build.warehouse.reader() as con:
        lake = connection_digests(con)
        con.execute(f"ATTACH '{built_warehouse}' AS embedded (READ_ONLY)")
        marts = sorted(name for name in embedded if name.startswith("marts."))
        differing = {}
        for mart in marts:
            only_lake, only_embedded = (
                con.execute(
                    f"SELECT count(*) FROM (SELECT * FROM {a}{mart} EXCEPT ALL "
                    f"SELECT * FROM {b}{mart})"
                ).fetchone()[0]
                for a, b in (("", "embedded."), ("embedded.", ""))
            )
            if only_lake or only_embedded:
                differing[mart] = (only_lake, only_embedded)
    assert len(marts) >= 10
    assert not differing, f"marts differ (rows only on DuckLake, only embedded): {differing}"
    assert sorted(lake) == sorted(embedded), "tables added or removed"
    changed = {name: (embedded[name], lake[name]) for name in lake if lake[name] != embedded[name]}
    assert not changed, f"tables differ between the backends: {changed}"
    # published figures, read back from the lakehouse: NVIDIA's fiscal 2024 capex, $1,069m
    with lake_build.warehouse.reader() as con:
        capex = con.execute(
            "SELECT capex FROM marts.capex_annual WHERE ticker = 'NVDA' AND fiscal_year = 2024"
        ).fetchone()
    assert capex is not None and round(float(capex[0]) / 1e6) == 1069


def test_ducklake_mode_writes_no_duckdb_file_and_no_copy(lake_build):
    warehouse_folder = lake_build.workdir / "warehouse"
    assert not (warehouse_folder / "capex.duckdb").exists()
    assert not (warehouse_folder / ".build").exists()
    assert list((lake_build.workdir / "lake").rglob("*.parquet")), "no Parquet data files"
    assert "CAPEX_CATALOG=postgres:" in lake_build.stdout


def test_capex_sql_as_of_reads_the_snapshot_of_that_time(lake_build):
    count = "SELECT count(*) AS filings FROM staging.filings WHERE ticker = 'NVDA'"
    before = run_capex(lake_build.env, "sql", "--csv", count)
    assert before.returncode == 0, before.stderr
    loaded = int(before.stdout.splitlines()[1])
    assert loaded > 0
    # a later refresh removes NVIDIA's filings; the past stays readable
    with lake_build.warehouse.connect() as con:
        con.execute("DELETE FROM staging.filings WHERE ticker = 'NVDA'")
    try:
        now = run_capex(lake_build.env, "sql", "--csv", count)
        then = run_capex(
            lake_build.env, "sql", "--csv", "--as-of", lake_build.finished.isoformat(), count
        )
        assert now.stdout.splitlines()[1] == "0"
        assert then.returncode == 0, then.stderr
        assert int(then.stdout.splitlines()[1]) == loaded
        early = run_capex(lake_build.env, "sql", "--as-of", "2001-01-01", count)
        assert early.returncode == 2
        assert "no snapshot at or before 2001-01-01T23:59:59" in early.stderr
        assert "history starts at" in early.stderr
    finally:
        with lake_build.warehouse.connect() as con:
            con.execute(
                "INSERT INTO staging.filings SELECT * FROM staging.filings "
                f"AT (TIMESTAMP => TIMESTAMPTZ '{lake_build.finished.isoformat()}') "
                "WHERE ticker = 'NVDA'"
            )


def test_postgres_killed_mid_run_fails_the_step_and_a_rerun_equals_a_clean_build(
    fake_sec, built_warehouse, tmp_path
):
    """PostgreSQL crashes while companies land: the run fails naming the steps; after a
    restart a re-run completes and every table equals a clean build (a transaction cut off
    by the crash never became a snapshot readers see)."""
    server = PostgresServer()
    try:
        server.start()
        catalog = server.create_database("capex_crash")
        env = lakehouse_environment(fake_sec, tmp_path, catalog)
        run = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "run"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen = ""
        while "[3/" not in seen:  # two companies landed, the third under way
            line = run.stdout.readline()
            assert line, f"capex run ended early: {seen}{run.stderr.read()}"
            seen += line
        server.stop("immediate")
        out, err = run.communicate(timeout=1800)
        assert run.returncode == 1, seen + out + err
        assert "company_refresh[" in err and "CAPEX_CATALOG" in err + out

        server.start()
        rerun = run_capex(env, "run", timeout=1800)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        with DuckLakeWarehouse(catalog, env["CAPEX_DATA_PATH"]).reader() as con:
            lake = connection_digests(con)
        embedded = table_digests(built_warehouse)
        changed = sorted(name for name in embedded if lake.get(name) != embedded[name])
        assert not changed, f"tables differ from a clean build after the crash: {changed}"
    finally:
        server.remove()
