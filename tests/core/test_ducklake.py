"""The DuckLake backend over a real PostgreSQL: concurrent writers, time travel, faults."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.core.config import ConfigError, load_settings
from pipelines.core.tables import Table
from pipelines.core.warehouse import DuckLakeWarehouse, Warehouse, WarehouseError
from tests.conftest import lakehouse_environment, run_capex

TABLE = Table("staging.t", {"ticker": pl.String, "n": pl.Int64})


@pytest.fixture
def lake(postgres, tmp_path, request) -> DuckLakeWarehouse:
    """A DuckLake warehouse on a fresh database of the test PostgreSQL."""
    name = "t_" + request.node.name.lower().replace("[", "_").replace("]", "")[:40]
    return DuckLakeWarehouse(postgres.create_database(name), str(tmp_path / "lake"))


def _load(args) -> int:
    catalog, data_path, ticker = args
    warehouse = DuckLakeWarehouse(catalog, data_path)
    for round_ in range(5):
        frame = pl.DataFrame({"ticker": [ticker] * 1000, "n": [round_] * 1000})
        warehouse.replace_rows(TABLE, frame, {"ticker": ticker})
    return 1


def test_writers_in_four_processes_replace_their_rows_and_lose_none(lake):
    """Four processes replace their own rows of one table at once; DuckLake reports a
    write–write conflict at COMMIT (table-level), which must be replayed, not lost."""
    tickers = ["A", "B", "C", "D"]
    args = [(lake.catalog, lake.data_path, t) for t in tickers]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert pool.map(_load, args) == [1, 1, 1, 1]
    rows = lake.query(
        "SELECT ticker, count(*), min(n), max(n) FROM staging.t GROUP BY ticker ORDER BY ticker"
    )
    assert rows.rows() == [(t, 1000, 4, 4) for t in tickers]


def test_a_commit_that_conflicts_is_replayed_on_the_newer_snapshot(lake):
    """Root cause: DuckLake checks conflicts per table at COMMIT, so a step whose rows were
    replaced while another step committed to the same table failed and its work was lost."""
    frame = pl.DataFrame({"ticker": ["A", "B"], "n": [1, 1]})
    lake.replace_rows(TABLE, frame, {})
    replays = DuckLakeWarehouse.replays
    with lake.connect() as first:
        lake.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [2]}), {"ticker": "A"}, first)
        with lake.connect() as second:  # commits first, to the same table
            lake.replace_rows(
                TABLE, pl.DataFrame({"ticker": ["B"], "n": [3]}), {"ticker": "B"}, second
            )
    assert DuckLakeWarehouse.replays == replays + 1
    assert lake.query("SELECT ticker, n FROM staging.t ORDER BY ticker").rows() == [
        ("A", 2),
        ("B", 3),
    ]


def test_writers_whose_rows_did_not_change_do_not_conflict(lake):
    """Root cause: every company step deleted and inserted its rows even when they had not
    changed, and DuckLake refuses an insert into a table another transaction deleted from:
    four processes refreshing unchanged companies replayed 7 to 12 commits."""
    a = pl.DataFrame({"ticker": ["A", "A"], "n": [1, 2]})
    b = pl.DataFrame({"ticker": ["B"], "n": [3]})
    lake.replace_rows(TABLE, a, {"ticker": "A"})
    lake.replace_rows(TABLE, b, {"ticker": "B"})
    snapshots = lake.query("SELECT count(*) FROM capex.snapshots()").item()
    replays = DuckLakeWarehouse.replays
    with lake.connect() as first:
        lake.replace_rows(TABLE, a, {"ticker": "A"}, first)
        with lake.connect() as second:
            lake.replace_rows(TABLE, b, {"ticker": "B"}, second)
    assert DuckLakeWarehouse.replays == replays
    assert lake.query("SELECT count(*) FROM capex.snapshots()").item() == snapshots  # no write

    # as many rows, but a multiset that differs: written
    lake.replace_rows(TABLE, pl.DataFrame({"ticker": ["A", "A"], "n": [2, 2]}), {"ticker": "A"})
    assert lake.query("SELECT ticker, n FROM staging.t ORDER BY ALL").rows() == [
        ("A", 2),
        ("A", 2),
        ("B", 3),
    ]
    assert lake.replace_rows(TABLE, None, {"ticker": "A"}) == 0
    assert lake.query("SELECT ticker, n FROM staging.t").rows() == [("B", 3)]


def test_a_failed_load_leaves_the_previous_rows(lake):
    lake.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [1]}), {"ticker": "A"})
    with pytest.raises(RuntimeError, match="parse failed"), lake.connect() as con:
        lake.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [2]}), {"ticker": "A"}, con)
        raise RuntimeError("parse failed")
    assert lake.query("SELECT n FROM staging.t").rows() == [(1,)]


def test_a_reader_as_of_a_past_time_sees_that_snapshot(lake):
    lake.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [1]}), {"ticker": "A"})
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    lake.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [2]}), {"ticker": "A"})
    with lake.reader(as_of=between) as con:
        assert con.execute("SELECT n FROM staging.t").fetchall() == [(1,)]
    with lake.reader() as con:
        assert con.execute("SELECT n FROM staging.t").fetchall() == [(2,)]


def test_the_embedded_file_refuses_as_of_and_says_why(tmp_path):
    warehouse = Warehouse(tmp_path / ".build" / "capex.duckdb", tmp_path / "capex.duckdb")
    with pytest.raises(WarehouseError, match="needs the DuckLake backend"):
        warehouse.reader(as_of=datetime.now(UTC)).__enter__()


def test_catalog_down_names_capex_catalog_and_writes_nothing(postgres, tmp_path):
    catalog = postgres.catalog("postgres").replace(f"port={postgres.port}", "port=1")
    warehouse = DuckLakeWarehouse(catalog + " password=hunter2", str(tmp_path / "lake"))
    with pytest.raises(WarehouseError, match="CAPEX_CATALOG=postgres:") as failure:
        warehouse.check_ready()
    assert "hunter2" not in str(failure.value)
    assert not any((tmp_path / "lake").iterdir())


def test_a_data_path_that_cannot_be_written_fails_before_anything_else(postgres, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    warehouse = DuckLakeWarehouse(postgres.catalog("postgres"), str(blocker / "lake"))
    with pytest.raises(WarehouseError, match="CAPEX_DATA_PATH=.*not writable"):
        warehouse.check_ready()


def test_a_local_catalog_file_works_without_postgres(tmp_path: Path):
    lake = DuckLakeWarehouse(f"ducklake:{tmp_path / 'catalog.ducklake'}", str(tmp_path / "data"))
    lake.check_ready()
    lake.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [1]}), {"ticker": "A"})
    with lake.reader() as con:
        assert con.execute("SELECT ticker, n FROM staging.t").fetchall() == [("A", 1)]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CAPEX_CATALOG": "postgres:dbname=capex"}, "needs CAPEX_DATA_PATH"),
        ({"CAPEX_DATA_PATH": "lake/"}, "only used with CAPEX_CATALOG"),
    ],
)
def test_catalog_and_data_path_come_together(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_settings_choose_the_backend(tmp_path):
    lake = Warehouse.from_settings(
        load_settings({"CAPEX_CATALOG": "postgres:dbname=capex", "CAPEX_DATA_PATH": "lake"})
    )
    assert isinstance(lake, DuckLakeWarehouse)
    assert lake.attach_path == "ducklake:postgres:dbname=capex"
    embedded = Warehouse.from_settings(load_settings({"CAPEX_WAREHOUSE": str(tmp_path / "w.db")}))
    assert embedded.backend == "duckdb"


def test_capex_run_with_the_catalog_down_stops_before_fetching(fake_sec, postgres, tmp_path):
    """PostgreSQL down at start: a message naming CAPEX_CATALOG, and nothing written."""
    down = postgres.catalog("postgres").replace(f"port={postgres.port}", "port=1")
    result = run_capex(lakehouse_environment(fake_sec, tmp_path, down), "run", timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "CAPEX_CATALOG=postgres:dbname=postgres" in result.stderr
    assert not (tmp_path / "raw").exists()
    assert not any((tmp_path / "lake").rglob("*.parquet"))


def test_capex_run_with_an_unwritable_data_path_stops_before_fetching(fake_sec, postgres, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    env = lakehouse_environment(
        fake_sec,
        tmp_path,
        postgres.create_database("unwritable"),
        CAPEX_DATA_PATH=str(tmp_path / "file" / "lake"),
    )
    result = run_capex(env, "run", timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "CAPEX_DATA_PATH=" in result.stderr and "not writable" in result.stderr
    assert not (tmp_path / "raw").exists()
