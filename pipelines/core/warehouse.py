"""The warehouse, on one of two backends, behind one adapter: :class:`Warehouse`.

**Embedded (the default): one DuckDB file.** DuckDB allows a single writing process and no
readers beside it, so:

* pipeline steps open the *build* file (``warehouse/.build/capex.duckdb``) one at a time,
  serialised by an exclusive ``flock`` on a lock file beside it, so parallel Dagster steps
  queue instead of failing on DuckDB's lock;
* :meth:`Warehouse.publish` copies the build file to the *published* path
  (``CAPEX_WAREHOUSE``, default ``warehouse/capex.duckdb``) atomically with ``os.replace``:
  a user holding the published file open in a shell or notebook keeps reading the version
  they opened and never sees a half-written table, and never blocks a refresh.

**DuckLake (``CAPEX_CATALOG`` + ``CAPEX_DATA_PATH``): a lakehouse.** The catalog lives in
PostgreSQL (or a local DuckDB file), the tables are Parquet files under the data path.
:class:`DuckLakeWarehouse` needs no lock and no copy: every commit is a snapshot, readers see
the last one committed when their transaction began, and several processes or machines write
at once. A write–write conflict on a table is detected at ``COMMIT`` and the transaction is
replayed on the newer snapshot (:mod:`pipelines.core.journal`), never lost.

Both run the same SQL: the lakehouse is attached as catalog ``capex`` and made the default,
so ``staging.facts`` means the same table on both.
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
import random
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.core.journal import INCOMING, RecordingConnection, execute_on
from pipelines.core.rawstore import forbid_world_write
from pipelines.core.tables import Table

_log = logging.getLogger(__name__)
SCHEMAS = ("raw", "staging", "marts")
_PUBLISH_PREFIX = ".publish-"
LAKE = "capex"  # the name the DuckLake catalog is attached under
# DuckDB extensions shipped as PyPI packages (pinned in pyproject.toml beside duckdb itself)
EXTENSIONS = {
    "ducklake": "duckdb_extension_ducklake",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}
COMMIT_ATTEMPTS = 12
_REMOTE_CATALOG = re.compile(r"^(postgres|mysql|sqlite):", re.IGNORECASE)
_QUIET = "SET enable_progress_bar = false"  # no progress bars in step logs
# A company step replaces fewer rows than a DuckDB row group (122,880), and DuckDB keeps such
# rows in memory one block per column, in the transaction and again in the table at commit.
# With 64 KB blocks instead of DuckDB's 256 KB, landing NVIDIA's companyfacts peaks at 9x the
# file instead of 10.5x; the bulk landing and the models run as fast (bench/). A file keeps the
# block size it was created with.
BLOCK_SIZE = 65_536
_SECRET = re.compile(r"(password\s*=\s*)\S+", re.IGNORECASE)


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or written; the message says which setting to fix."""


class Warehouse:
    """The embedded backend: a private build file steps write, a published copy users read."""

    backend = "duckdb"
    replays_conflicts = False  # the file lock admits one writer: no conflict to replay

    def __init__(
        self, build_path: Path | str, published_path: Path | str, threads: int | None = None
    ):
        self.build_path = Path(build_path)
        self.published_path = Path(published_path)
        self.threads = threads  # DuckDB's threads for the steps' connections (None: DuckDB's)
        self.lock_path = self.build_path.with_name(self.build_path.name + ".lock")
        forbid_world_write()

    @classmethod
    def from_settings(cls, settings) -> Warehouse:
        """The backend the settings choose: DuckLake when CAPEX_CATALOG is set, else the file."""
        if settings.catalog:
            return DuckLakeWarehouse(settings.catalog, settings.data_path, settings.threads)
        return cls(settings.build_warehouse, settings.warehouse, settings.threads)

    @property
    def location(self) -> str:
        """Where readers find the warehouse (shown to users)."""
        return str(self.published_path)

    def check_ready(self) -> None:
        """Fail now, naming the setting, if steps could not write the warehouse."""
        folder = self.build_path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _probe_write(folder)
            self.published_path.parent.mkdir(parents=True, exist_ok=True)
            _probe_write(self.published_path.parent)
        except OSError as exc:
            raise WarehouseError(
                f"CAPEX_WAREHOUSE={self.published_path}: cannot write {exc.filename or folder} "
                f"({exc.strerror or exc}); fix the folder's permissions or point "
                "CAPEX_WAREHOUSE at a writable place"
            ) from exc

    def _writer(self):
        """Held while a transaction is open: the file admits one writing process."""
        return self._locked()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _open(self) -> duckdb.DuckDBPyConnection:
        if not self.build_path.exists():
            _create_file(self.build_path)
        con = duckdb.connect(str(self.build_path))
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        return con

    def _commit(self, con: duckdb.DuckDBPyConnection, journal: RecordingConnection | None) -> None:
        con.execute("COMMIT")

    @contextmanager
    def connect(self, threads: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writing connection, inside one transaction.

        Commits when the block ends normally and rolls back on any exception, so a failed
        step leaves the previous rows in place. DuckDB works with ``threads`` threads, or
        fewer when CAPEX_THREADS says so (default: one per core).
        """
        with self._writer():
            con = self._open()
            try:
                set_threads(con, min((n for n in (threads, self.threads) if n), default=None))
                con.execute("BEGIN TRANSACTION")
                journal = RecordingConnection(con) if self.replays_conflicts else None
                try:
                    yield journal or con  # type: ignore[misc]
                except BaseException:
                    _rollback(con)
                    raise
                self._commit(con, journal)
            finally:
                con.close()

    def replace_rows(
        self,
        table: Table,
        frame: pl.DataFrame | None,
        match: Mapping[str, Any],
        con: duckdb.DuckDBPyConnection | None = None,
        select: str = "SELECT * FROM {source}",
    ) -> int:
        """:func:`replace_rows` in one transaction: ``con``'s, or a new one."""
        if con is None:
            with self.connect() as own:
                return replace_rows(own, table, frame, match, select)
        return replace_rows(con, table, frame, match, select)

    def delete_rows_not_in(
        self, table: Table, column: str, keep: set, con: duckdb.DuckDBPyConnection
    ) -> None:
        """Delete the rows of ``table`` whose ``column`` is not one of ``keep``."""
        con.execute(
            f"DELETE FROM {table.name} WHERE NOT list_contains(?, {column})", [sorted(keep)]
        )

    def query(self, sql: str, params: list | None = None) -> pl.DataFrame:
        """Run a read query on what steps write and return a polars frame."""
        with self.connect() as con:
            return con.execute(sql, params or []).pl()

    def publish(self) -> dict[str, Any]:
        """Copy the build file to the published path atomically; returns the asset metadata."""
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
        return {
            "path": str(self.published_path.resolve()),
            "bytes": self.published_path.stat().st_size,
        }

    @contextmanager
    def reader(self, as_of: datetime | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to what users read; ``as_of`` needs the DuckLake backend."""
        if as_of is not None:
            raise WarehouseError(
                "reading the warehouse as of a past time needs the DuckLake backend "
                "(CAPEX_CATALOG and CAPEX_DATA_PATH, see README): the embedded file keeps "
                "only its latest version"
            )
        con = connect_published(self.published_path)
        try:
            yield con
        finally:
            con.close()


class DuckLakeWarehouse(Warehouse):
    """The DuckLake backend: catalog ``catalog`` (CAPEX_CATALOG), Parquet under ``data_path``."""

    backend = "ducklake"
    replays_conflicts = True
    replays = 0  # transactions replayed after a conflict, in this process (for the bench)
    _databases: dict[tuple[int, str, str], duckdb.DuckDBPyConnection] = {}

    def __init__(self, catalog: str, data_path: str, threads: int | None = None):
        self.threads = threads
        self.catalog = catalog.strip()
        self.data_path = data_path.strip()
        rest = self.catalog.removeprefix("ducklake:")
        self.remote = bool(_REMOTE_CATALOG.match(rest))
        self.attach_path = f"ducklake:{rest}"
        # a local catalog file admits one process at a time, like the embedded file
        self.lock_path = Path(rest + ".lock")  # held only for a local catalog (see _writer)

    @property
    def location(self) -> str:
        return f"CAPEX_CATALOG={_masked(self.catalog)}"

    @property
    def _cache_key(self) -> tuple[int, str, str]:
        return (os.getpid(), self.attach_path, self.data_path)

    def check_ready(self) -> None:
        """Fail now if the data path is not writable or the catalog cannot be opened."""
        if "://" not in self.data_path:
            folder = Path(self.data_path)
            try:
                folder.mkdir(parents=True, exist_ok=True)
                _probe_write(folder)
            except OSError as exc:
                raise WarehouseError(
                    f"CAPEX_DATA_PATH={self.data_path} is not writable ({exc.strerror or exc}): "
                    "DuckLake writes the tables' Parquet files there; fix its permissions or "
                    "point CAPEX_DATA_PATH at a writable folder"
                ) from exc
        with self._writer():
            self._open().close()

    def _unavailable(self, exc: duckdb.Error) -> WarehouseError:
        return WarehouseError(
            f"cannot open the DuckLake catalog CAPEX_CATALOG={_masked(self.catalog)}: "
            f"{_masked(str(exc).splitlines()[0])}. Check that the catalog database is "
            "running and that CAPEX_CATALOG names it (dbname, host, port, user); nothing "
            "was written"
        )

    def _writer(self):
        return nullcontext() if self.remote else self._locked()

    def _attach(self, options: str = "") -> duckdb.DuckDBPyConnection:
        """A new in-memory DuckDB with the lakehouse attached as ``capex`` and in use.

        Processes that attach a new catalog at the same moment race to create its metadata
        tables; the losers try again and find them created.
        """
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                return self._attach_once(options)
            except WarehouseError as exc:
                racing = "initialize DuckLake" in str(exc) or _is_conflict(exc)
                if not racing or attempt == COMMIT_ATTEMPTS:
                    raise
            time.sleep(0.1 * attempt * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")

    def _attach_once(self, options: str) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        try:
            con.execute(_QUIET)
            for name, package in EXTENSIONS.items():
                if name == "ducklake" or self.remote:
                    con.execute(f"LOAD '{_extension_file(name, package)}'")
            path = self.data_path.replace("'", "''")
            extra = f", {options}" if options else ""
            con.execute(
                f"ATTACH '{_quoted(self.attach_path)}' AS {LAKE} (DATA_PATH '{path}'{extra})"
            )
            con.execute(f"USE {LAKE}")
        except duckdb.Error as exc:
            con.close()
            raise self._unavailable(exc) from exc
        except BaseException:
            con.close()
            raise
        return con

    def _open(self) -> duckdb.DuckDBPyConnection:
        """A cursor on this process's attached lakehouse (attached once: it takes ~0.3 s)."""
        if not self.remote:
            con = self._attach()
            _create_schemas(con)
            return con
        database = self._databases.get(self._cache_key)
        if database is None:
            database = self._attach()
            _create_schemas(database)
            self._databases[self._cache_key] = database
        cursor = database.cursor()
        try:
            cursor.execute(_QUIET)
            cursor.execute(f"USE {LAKE}")
            # one round trip to the catalog, so a catalog that went away fails here, by name
            cursor.execute(f"FROM {LAKE}.current_snapshot()").fetchone()
        except duckdb.Error as exc:
            cursor.close()
            self._databases.pop(self._cache_key, None)  # attach anew once it is back
            raise self._unavailable(exc) from exc
        return cursor

    def _commit(self, con: duckdb.DuckDBPyConnection, journal: RecordingConnection | None) -> None:
        """Commit; on a write–write conflict replay the transaction on the newer snapshot."""
        assert journal is not None
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                con.execute("COMMIT")
                return
            except duckdb.TransactionException as exc:
                if not _is_conflict(exc) or attempt == COMMIT_ATTEMPTS:
                    raise
                _log.info("DuckLake commit conflict (attempt %d): %s", attempt, exc)
            DuckLakeWarehouse.replays += 1
            time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
            con.execute("BEGIN TRANSACTION")
            try:
                journal.replay(con)
            except BaseException:
                _rollback(con)
                raise

    def publish(self) -> dict[str, Any]:
        """Nothing to copy: readers already see the last commit. Returns the snapshot id."""
        with self.connect() as con:
            snapshot = con.execute(f"SELECT max(snapshot_id) FROM {LAKE}.snapshots()").fetchone()
        return {"catalog": _masked(self.catalog), "snapshot_id": int(snapshot[0])}

    def _first_snapshot_time(self) -> str:
        con = self._attach("READ_ONLY")
        try:
            first = con.execute(f"SELECT min(snapshot_time) FROM {LAKE}.snapshots()").fetchone()
        finally:
            con.close()
        return first[0].isoformat() if first[0] else "(no snapshot yet)"

    @contextmanager
    def reader(self, as_of: datetime | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the lakehouse, at its last snapshot or as of ``as_of``."""
        options = "READ_ONLY"
        if as_of is not None:
            options += f", SNAPSHOT_TIME '{as_of.isoformat(sep=' ')}'"
        try:
            con = self._attach(options)
        except WarehouseError as exc:
            if as_of is None or "No snapshot found" not in str(exc):
                raise
            raise WarehouseError(
                f"the warehouse has no snapshot at or before {as_of.isoformat()}: its history "
                f"starts at {self._first_snapshot_time()}; ask for a later time"
            ) from exc
        try:
            yield con
        finally:
            con.close()


def set_threads(con: duckdb.DuckDBPyConnection, threads: int | None) -> None:
    """Let DuckDB work on ``con``'s database with ``threads`` threads (None: one per core).

    Processes sharing the cores each keep to their part of them (CAPEX_THREADS: four landing
    processes with two threads each on two cores ran 15% slower than with one each), and
    one company's writes take one (``sec.assets.ONE_COMPANY_THREADS``).
    """
    con.execute(f"SET threads = {int(threads)}" if threads else "RESET threads")


def _create_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schemas, retrying when another process creates them at the same moment."""
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        try:
            for schema in SCHEMAS:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            return
        except duckdb.TransactionException as exc:
            if not _is_conflict(exc) or attempt == COMMIT_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)


def _is_conflict(exc: duckdb.Error) -> bool:
    return "conflict" in str(exc).lower()


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    frame: pl.DataFrame | None,
    match: Mapping[str, Any],
    select: str = "SELECT * FROM {source}",
) -> int:
    """Replace the rows of ``table`` matching ``match`` by ``frame``, on ``con``.

    ``match`` maps a column to a value (``{"ticker": "NVDA"}``) or to a list of values
    (``{"cik": [320193, 1045810]}``: the rows of those companies); an empty list matches
    nothing. ``table``'s contract creates it when it does not exist; ``select`` may reshape
    the incoming rows (``{source}`` names them). On DuckLake, nothing is written when the
    matching rows already are exactly the incoming ones. Returns the number of rows ``match``
    now has.
    """
    table.create(con)
    where, parameters = _match_clause(match)
    rows = 0 if frame is None else frame.height
    query = select.replace("{source}", INCOMING)
    if where is not None:
        # Only where commits can conflict (DuckLake, whose connections record for a replay):
        # there an unchanged company writes no files and conflicts with no other writer. On
        # the file, rewriting is cheaper than comparing (NVIDIA: ~30 ms against ~45 ms).
        unchanged = isinstance(con, RecordingConnection) and _holds_already(
            con, table, where, parameters, query, frame, rows
        )
        if unchanged:
            return rows
        con.execute(f"DELETE FROM {table.name} WHERE {where}", parameters)
    if rows:
        execute_on(con, f"INSERT INTO {table.name} BY NAME {query}", frame)
    return rows


def _holds_already(
    con, table: Table, where: str, parameters: list, query: str, frame: Any, rows: int
) -> bool:
    """Whether the rows of ``table`` matching ``where`` are ``query``'s rows, as a multiset.

    DuckLake refuses an insert into a table another transaction deleted from, whatever the
    rows: four processes refreshing unchanged companies replayed 7 to 12 commits.
    """
    con.execute(f"SELECT count(*) FROM {table.name} WHERE {where}", parameters)
    if con.fetchone()[0] != rows:
        return False
    if not rows:
        return True
    columns = ", ".join(table.columns)
    execute_on(
        con,
        f"SELECT count(*) FROM (SELECT {columns} FROM ({query}) "
        f"EXCEPT ALL SELECT {columns} FROM {table.name} WHERE {where})",
        frame,
        parameters,
    )
    return con.fetchone()[0] == 0


def _match_clause(match: Mapping[str, Any]) -> tuple[str | None, list]:
    """The WHERE clause of :func:`replace_rows` and its parameters (None: no row).

    A list of values is also bounded by its smallest and largest, so DuckDB's zone maps skip
    the row groups of other companies instead of testing every row against the list.
    """
    clauses, parameters = [], []
    for column, value in match.items():
        if isinstance(value, list | tuple | set):
            if not value:
                return None, []
            clauses.append(f"{column} BETWEEN ? AND ? AND list_contains(?, {column})")
            parameters += [min(value), max(value), sorted(value)]
        else:
            clauses.append(f"{column} = ?")
            parameters.append(value)
    return (" AND ".join(clauses) or "true"), parameters


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.TransactionException):  # a failed COMMIT has ended it already
        con.execute("ROLLBACK")


def _extension_file(name: str, package: str) -> Path:
    """The extension binary a PyPI package ships for this DuckDB version (never downloaded)."""
    spec = importlib.util.find_spec(package)
    distribution = package.replace("_", "-")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError(
            f"the DuckLake backend needs the {name} DuckDB extension: pip install "
            f"{distribution}=={duckdb.__version__} (pinned in pyproject.toml)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "extensions"
    path = folder / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        shipped = ", ".join(sorted(p.name for p in folder.glob("v*"))) or "none"
        raise WarehouseError(
            f"{distribution} has no {name} extension for DuckDB {duckdb.__version__} "
            f"(it ships {shipped}); install the versions pinned together in pyproject.toml"
        )
    return path


def _probe_write(folder: Path) -> None:
    probe = folder / f".capex-write-probe-{os.getpid()}"
    probe.write_bytes(b"")
    probe.unlink()


def _create_file(path: Path) -> None:
    """Create an empty DuckDB file at ``path`` with the warehouse's :data:`BLOCK_SIZE`."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{_quoted(str(path))}' AS new_file (BLOCK_SIZE {BLOCK_SIZE})")


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _masked(text: str) -> str:
    """``text`` with any ``password=...`` hidden, for messages and metadata."""
    return _SECRET.sub(r"\1***", text)


def connect_published(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse: what users and reports read."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist yet; run `capex run` to build it")
    return duckdb.connect(str(path), read_only=True)
