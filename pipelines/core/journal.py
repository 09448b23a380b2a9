"""A warehouse connection that remembers one transaction's statements, to run them again.

DuckLake detects a write–write conflict (two writers replacing rows of the same table) only
at ``COMMIT``, after the step's code has run. :class:`RecordingConnection` keeps the
statements and frames of the transaction, so the warehouse can start a fresh
transaction on the newer snapshot and replay them instead of losing the step's work.

Replaying is right for what steps write: each step replaces *its own* rows (one company's,
or a whole table it alone builds) from frames computed before the transaction, and a model's
``CREATE OR REPLACE TABLE ... AS SELECT`` reads the newest inputs when it runs again.
"""

from __future__ import annotations

from typing import Any

import duckdb

INCOMING = "_incoming"


def execute_on(con: Any, sql: str, data: Any, parameters: list | None = None) -> None:
    """Run ``sql`` (with ``parameters``) on ``con`` with ``_incoming`` in it naming ``data``, a
    polars frame; fetch the result from ``con``.

    DuckDB reads the frame as an Arrow C stream (``__arrow_c_stream__``, made anew for each
    statement: a stream is read once), finding ``_incoming`` among this function's variables
    (a replacement scan). No copy, and no pyarrow: a pyarrow table would make DuckDB import
    ``pyarrow.dataset``, ~0.3 s of CPU in every process that lands a company. A view made with
    ``register`` instead stays in the catalog until the transaction ends, and keeps its data
    alive with it: the archive landing's one transaction held every batch (7 GB of memory for
    1,000 companies).
    """
    if isinstance(con, RecordingConnection):
        con.execute_on(sql, data, parameters)
        return
    _incoming = data.__arrow_c_stream__()  # noqa: F841 (read by DuckDB, by name)
    if parameters is None:
        con.execute(sql)
    else:
        con.execute(sql, parameters)


class RecordingConnection:
    """A DuckDB connection (or cursor) that records ``execute`` and ``execute_on``.

    Everything else (``fetchone``, ``fetchall``, ``pl``, ...) goes to the wrapped connection,
    so code written for a plain connection works unchanged.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con
        self._steps: list[tuple[str, tuple[Any, ...]]] = []

    def execute(self, sql: str, parameters: Any = None) -> RecordingConnection:
        """Run ``sql`` (with ``parameters``) and remember it; fetch from the returned object."""
        self._steps.append(("execute", (sql, parameters)))
        self._run("execute", (sql, parameters))
        return self

    def execute_on(
        self, sql: str, data: Any, parameters: list | None = None
    ) -> RecordingConnection:
        """Run ``sql`` on ``data`` (see :func:`execute_on`) and remember both."""
        self._steps.append(("execute_on", (sql, data, parameters)))
        self._run("execute_on", (sql, data, parameters))
        return self

    @property
    def statements(self) -> int:
        """How many statements have been recorded."""
        return len(self._steps)

    def replay(self, con: duckdb.DuckDBPyConnection) -> None:
        """Run every recorded step again, in order, on ``con`` (in a new transaction)."""
        self._con = con
        for kind, args in self._steps:
            self._run(kind, args)

    def _run(self, kind: str, args: tuple[Any, ...]) -> None:
        if kind == "execute":
            sql, parameters = args
            if parameters is None:
                self._con.execute(sql)
            else:
                self._con.execute(sql, parameters)
        else:
            execute_on(self._con, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)
