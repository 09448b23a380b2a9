"""The warehouse: serialised writers, all-or-nothing loads, publishing beside open readers."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys

import duckdb
import polars as pl
import pytest

from pipelines.core.journal import INCOMING, execute_on
from pipelines.core.tables import Table
from pipelines.core.warehouse import Warehouse, connect_published

TABLE = Table("staging.t", {"ticker": pl.String, "n": pl.Int64})


def _load(args) -> int:
    build, published, ticker = args
    warehouse = Warehouse(build, published)
    frame = pl.DataFrame({"ticker": [ticker] * 1000, "n": list(range(1000))})
    for _ in range(5):
        warehouse.replace_rows(TABLE, frame, {"ticker": ticker})
    return 1


def test_parallel_writers_in_other_processes_queue_instead_of_failing(tmp_path):
    build, published = tmp_path / "build.duckdb", tmp_path / "capex.duckdb"
    tickers = ["A", "B", "C", "D"]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert pool.map(_load, [(build, published, t) for t in tickers]) == [1, 1, 1, 1]
    rows = Warehouse(build, published).query(
        "SELECT ticker, count(*) AS n FROM staging.t GROUP BY ticker ORDER BY ticker"
    )
    assert rows.rows() == [(t, 1000) for t in tickers]


def test_a_failed_load_leaves_the_previous_rows(tmp_path):
    warehouse = Warehouse(tmp_path / "build.duckdb", tmp_path / "capex.duckdb")
    warehouse.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [1]}), {"ticker": "A"})
    with pytest.raises(RuntimeError, match="parse failed"), warehouse.connect() as con:
        warehouse.replace_rows(
            TABLE, pl.DataFrame({"ticker": ["A"], "n": [2]}), {"ticker": "A"}, con
        )
        raise RuntimeError("parse failed")
    assert warehouse.query("SELECT n FROM staging.t").rows() == [(1,)]


def test_publish_replaces_the_file_under_an_open_reader(tmp_path):
    warehouse = Warehouse(tmp_path / ".build" / "capex.duckdb", tmp_path / "capex.duckdb")
    warehouse.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [1]}), {"ticker": "A"})
    warehouse.publish()
    reader = connect_published(warehouse.published_path)
    assert reader.execute("SELECT n FROM staging.t").fetchall() == [(1,)]

    warehouse.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [2]}), {"ticker": "A"})
    warehouse.publish()  # must not fail although a reader holds the published file
    assert reader.execute("SELECT n FROM staging.t").fetchall() == [(1,)]  # its snapshot
    reader.close()
    fresh = duckdb.connect(str(warehouse.published_path), read_only=True)
    assert fresh.execute("SELECT n FROM staging.t").fetchall() == [(2,)]
    fresh.close()


def _block_size(path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]


def test_a_new_warehouse_file_has_64_kb_blocks_and_an_existing_one_keeps_its_own(tmp_path):
    """A company step's rows stay in memory one block per column until a checkpoint: DuckDB's
    256 KB blocks took NVIDIA's landing to 10.5x the file (issue 13's target is 10x)."""
    warehouse = Warehouse(tmp_path / ".build" / "capex.duckdb", tmp_path / "capex.duckdb")
    warehouse.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [1]}), {"ticker": "A"})
    warehouse.publish()
    assert _block_size(warehouse.build_path) == 65_536
    assert _block_size(warehouse.published_path) == 65_536

    older = tmp_path / "older.duckdb"  # as built before: DuckDB's default block size
    duckdb.connect(str(older)).close()
    warehouse = Warehouse(older, tmp_path / "older-published.duckdb")
    warehouse.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [1]}), {"ticker": "A"})
    assert _block_size(older) == 262_144
    assert warehouse.query("SELECT n FROM staging.t").rows() == [(1,)]


def test_reading_before_the_first_run_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `capex run`"):
        connect_published(tmp_path / "capex.duckdb")


def test_a_table_built_by_an_earlier_version_gains_the_new_columns(tmp_path):
    """Root cause: contracts only created missing tables, so a warehouse built before a column
    was added (staging.prices' adj_close) failed the next insert. Missing columns are added,
    nullable, and the rows already there keep their values."""
    warehouse = Warehouse(tmp_path / "build.duckdb", tmp_path / "capex.duckdb")
    warehouse.replace_rows(TABLE, pl.DataFrame({"ticker": ["A"], "n": [1]}), {"ticker": "A"})
    wider = Table("staging.t", {"ticker": pl.String, "n": pl.Int64, "note": pl.String})
    warehouse.replace_rows(
        wider, pl.DataFrame({"ticker": ["B"], "n": [2], "note": ["new"]}), {"ticker": "B"}
    )
    rows = warehouse.query("SELECT ticker, n, note FROM staging.t ORDER BY ticker").rows()
    assert rows == [("A", 1, None), ("B", 2, "new")]


def test_rows_handed_to_a_transaction_are_not_held_until_it_commits(tmp_path):
    """Regression: landing 1,000 companies from the archive peaked at 7 GB. Root cause: each
    batch was handed to DuckDB as a registered view, and a view dropped inside a transaction
    stays in the catalog, with its Arrow data, until the transaction ends (the archive lands
    in one). ``execute_on`` lets DuckDB read the data by name instead, holding nothing."""
    warehouse = Warehouse(tmp_path / "build.duckdb", tmp_path / "capex.duckdb")
    table = Table("staging.t", {"cik": pl.Int64, "x": pl.Int32})
    with warehouse.connect() as con:
        table.create(con)
        for cik in (1, 2, 3):
            frame = pl.DataFrame({"cik": [cik] * 2, "x": [10, 20]}, schema=table.columns)
            held = sys.getrefcount(frame)
            execute_on(con, f"INSERT INTO staging.t BY NAME SELECT * FROM {INCOMING}", frame)
            assert sys.getrefcount(frame) == held
        warehouse.replace_rows(table, pl.DataFrame({"cik": [2], "x": [5]}), {"cik": [2, 3]}, con)
    rows = warehouse.query("SELECT cik, x FROM staging.t ORDER BY cik, x").rows()
    assert rows == [(1, 10), (1, 20), (2, 5)]


def test_landing_rows_does_not_import_pyarrow_dataset(tmp_path):
    """Root cause: rows were handed to DuckDB as pyarrow tables, and DuckDB's scan of one
    imports ``pyarrow.dataset``: ~0.3 s of CPU in every process that lands a company, a cost
    four landing processes paid four times."""
    script = f"""
import sys
import polars as pl
from pipelines.core.tables import Table
from pipelines.core.warehouse import Warehouse
table = Table("staging.t", {{"ticker": pl.String, "n": pl.Int64}})
warehouse = Warehouse({str(tmp_path / "b.duckdb")!r}, {str(tmp_path / "p.duckdb")!r})
for n in (1, 1, 2):
    frame = pl.DataFrame({{"ticker": ["A"], "n": [n]}})
    warehouse.replace_rows(table, frame, {{"ticker": "A"}})
assert warehouse.query("SELECT n FROM staging.t").rows() == [(2,)]
print("pyarrow.dataset" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_steps_connections_keep_to_the_threads_set(tmp_path):
    """CAPEX_THREADS caps every step's threads (processes sharing the cores); a step may ask
    for fewer (one company's rows land on one), and the next connection is back to the cap."""
    cores = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0]
    default = Warehouse(tmp_path / "a.duckdb", tmp_path / "capex-a.duckdb")
    capped = Warehouse(tmp_path / "b.duckdb", tmp_path / "capex-b.duckdb", threads=3)

    def threads(warehouse: Warehouse, asked: int | None = None) -> int:
        with warehouse.connect(asked) as con:
            return con.execute("SELECT current_setting('threads')").fetchone()[0]

    assert threads(default) == cores
    assert threads(default, 1) == 1
    assert threads(capped) == 3
    assert threads(capped, 1) == 1
    assert threads(capped, 8) == 3


def test_dagsters_loader_freezes_what_the_process_keeps_for_life():
    """Root cause of four landing processes on two cores running slower than one: Python's
    exit walked the ~200,000 objects of the imported modules and definitions in each process
    (~0.7 s of CPU), and every full collection walked them too. Dagster's loader (``defs``)
    moves them out of the collector's reach."""
    script = (
        "import gc; from pipelines.definitions import defs; "
        "before = gc.get_freeze_count(); defs(); print(before, gc.get_freeze_count())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    before, after = int(out[-2]), int(out[-1])
    assert before == 0 and after > 100_000
