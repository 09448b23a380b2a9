"""The DuckDB warehouse: one private build file that steps write, one published copy users read.

DuckDB allows a single writing process and no readers beside it, so:

* pipeline steps open the *build* file (``warehouse/.build/capex.duckdb``) one at a time,
  serialised by an exclusive ``flock`` on a lock file beside it, so parallel Dagster steps
  queue instead of failing on DuckDB's lock;
* :meth:`Warehouse.publish` copies the build file to the *published* path
  (``CAPEX_WAREHOUSE``, default ``warehouse/capex.duckdb``) atomically with ``os.replace``:
  a user holding the published file open in a shell or notebook keeps reading the version
  they opened and never sees a half-written table, and never blocks a refresh.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.core.rawstore import forbid_world_write
from pipelines.core.tables import Table

SCHEMAS = ("raw", "staging", "marts")
_PUBLISH_PREFIX = ".publish-"


class Warehouse:
    """Access to the build and published DuckDB files."""

    def __init__(self, build_path: Path | str, published_path: Path | str):
        self.build_path = Path(build_path)
        self.published_path = Path(published_path)
        self.lock_path = self.build_path.with_name(self.build_path.name + ".lock")
        forbid_world_write()

    @classmethod
    def from_settings(cls, settings) -> Warehouse:
        return cls(settings.build_warehouse, settings.warehouse)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.build_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An exclusive connection to the build file, inside one transaction.

        Commits when the block ends normally and rolls back on any exception, so a failed
        step leaves the previous rows in place.
        """
        with self._locked():
            con = duckdb.connect(str(self.build_path))
            try:
                for schema in SCHEMAS:
                    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            finally:
                con.close()

    def replace_rows(
        self,
        table: Table,
        frame: pl.DataFrame,
        match: Mapping[str, Any],
        con: duckdb.DuckDBPyConnection | None = None,
        select: str = "SELECT * FROM {source}",
    ) -> int:
        """Replace the rows of ``table`` matching ``match`` (e.g. ticker = NVDA) by ``frame``.

        ``table``'s contract creates it when it does not exist; ``select`` may reshape the incoming
        rows (``{source}`` names them). Runs in one transaction (the given connection's, or a
        new one). Returns the number of rows written.
        """
        if con is None:
            with self.connect() as own:
                return self.replace_rows(table, frame, match, own, select)
        table.create(con)
        if match:
            where = " AND ".join(f"{column} = ?" for column in match)
            con.execute(f"DELETE FROM {table.name} WHERE {where}", list(match.values()))
        else:
            con.execute(f"DELETE FROM {table.name}")
        if frame.height:
            con.register("_incoming", frame.to_arrow())
            try:
                query = select.replace("{source}", "_incoming")
                con.execute(f"INSERT INTO {table.name} BY NAME {query}")
            finally:
                con.unregister("_incoming")
        return frame.height

    def query(self, sql: str, params: list | None = None) -> pl.DataFrame:
        """Run a read query on the build file and return a polars frame."""
        with self.connect() as con:
            return con.execute(sql, params or []).pl()

    def publish(self) -> Path:
        """Copy the build file to the published path atomically; returns the published path."""
        with self._locked():
            if not self.build_path.exists():
                raise FileNotFoundError(
                    f"nothing to publish: {self.build_path} does not exist yet; run `capex run`"
                )
            con = duckdb.connect(str(self.build_path))
            try:
                con.execute("CHECKPOINT")
            finally:
                con.close()
            self.published_path.parent.mkdir(parents=True, exist_ok=True)
            # copies left by a publish that was killed (publishing holds the lock: none is live)
            for stale in self.published_path.parent.glob(f"{_PUBLISH_PREFIX}*"):
                stale.unlink(missing_ok=True)
            fd, tmp = tempfile.mkstemp(
                dir=self.published_path.parent, prefix=_PUBLISH_PREFIX, suffix=".duckdb"
            )
            os.close(fd)
            try:
                shutil.copyfile(self.build_path, tmp)
                os.replace(tmp, self.published_path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return self.published_path


def connect_published(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse: what users and reports read."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist yet; run `capex run` to build it")
    return duckdb.connect(str(path), read_only=True)
