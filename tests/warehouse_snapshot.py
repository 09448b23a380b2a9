"""A digest of every table of a warehouse, to show that a refactoring changed no table.

``python -m tests.warehouse_snapshot WAREHOUSE`` prints the digest of a built warehouse as
JSON; ``tests/models/test_warehouse_snapshot.py`` compares a fresh build of the seven companies
(the demo's documents, served locally) with the digest recorded in
``tests/fixtures/warehouse_snapshot.json``. Rewrite that file (``--write``) only for a change
that is meant to alter tables, and say so in the commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

SNAPSHOT = Path(__file__).resolve().parent / "fixtures" / "warehouse_snapshot.json"

# Columns that differ between two builds of the same documents: when and where they were fetched.
VOLATILE_COLUMNS = {("raw", "manifest"): {"url", "fetched_at", "path"}}


def table_digests(warehouse: Path) -> dict[str, dict]:
    """Columns, types, row count and an order-independent md5 of the rows of every table."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return connection_digests(con)
    finally:
        con.close()


def connection_digests(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """:func:`table_digests` of the default catalog of ``con`` (a file, or a DuckLake)."""
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() ORDER BY table_schema, table_name"
    ).fetchall()
    digests = {}
    for schema, table in tables:
        columns = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
        skip = VOLATILE_COLUMNS.get((schema, table), set())
        kept = [name for name, _ in columns if name not in skip]
        select = ", ".join(f'"{name}"' for name in kept)
        rows, md5 = con.execute(
            f"SELECT count(*), md5(coalesce(string_agg(line, chr(10) ORDER BY line), '')) "
            f'FROM (SELECT CAST(ROW({select}) AS VARCHAR) AS line FROM "{schema}"."{table}")'
        ).fetchone()
        digests[f"{schema}.{table}"] = {
            "columns": [f"{name} {kind}" for name, kind in columns],
            "rows": rows,
            "md5": md5,
        }
    return digests


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print("usage: python -m tests.warehouse_snapshot WAREHOUSE [--write]")
        return 2
    digests = table_digests(Path(argv[0]))
    text = json.dumps(digests, indent=1, sort_keys=True) + "\n"
    if "--write" in argv:
        SNAPSHOT.write_text(text)
        print(f"wrote {SNAPSHOT} ({len(digests)} tables)")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
