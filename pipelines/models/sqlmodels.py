"""SQL models: the ``sql/`` folder, the tables each model reads, and building them in order.

Convention (also in sql/README.md):

* A model is one ``SELECT`` (CTEs welcome) in ``sql/<schema>/<name>.sql``; it builds the table
  ``<schema>.<name>`` with ``CREATE OR REPLACE TABLE <schema>.<name> AS <select>``. The folder
  is the schema (``staging`` or ``marts``, see :data:`pipelines.core.warehouse.SCHEMAS`); the file
  name is the table name. Names follow dbt's jaffle-shop: ``stg_`` for cleaned sources,
  ``int_`` for intermediate steps (both in ``sql/staging/``), plain words for marts.
* Every table a model reads is written schema-qualified (``staging.facts``), whether another
  model or a Python asset builds it; the model's dependencies are parsed from the SQL with
  sqlglot, so the Dagster lineage (asset key ``[schema, table]``) can never drift from it.
  An unqualified table name that is not a CTE is an error.
* The leading ``--`` comment lines of a file are the model's description, except the
  ``-- grain: col, col`` lines among them: each names columns no two rows may share (a mart may
  have several), and becomes a unique-key check (pipelines/models/checks.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from pipelines.core.warehouse import SCHEMAS, Warehouse

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
# raw holds documents as fetched; models build the layers above it.
MODEL_SCHEMAS = tuple(schema for schema in SCHEMAS if schema != "raw")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_GRAIN = re.compile(r"^--\s*grain:(.*)$", re.IGNORECASE)


class SqlModelError(ValueError):
    """A model file is misplaced, does not parse, has a cycle or fails to build."""


@dataclass(frozen=True)
class SqlModel:
    """One ``sql/<schema>/<name>.sql`` file and the tables it reads."""

    schema: str
    name: str
    path: Path
    sql: str
    deps: frozenset[str] = field(default_factory=frozenset)
    description: str = ""
    # each a set of columns no two rows share, from the ``-- grain:`` header lines
    grains: tuple[tuple[str, ...], ...] = ()

    @property
    def table(self) -> str:
        """The table the model builds, ``schema.name``."""
        return f"{self.schema}.{self.name}"

    def create_statement(self) -> str:
        """The statement that (re)builds the model's table."""
        body = self.sql.strip().rstrip(";").strip()
        return f"CREATE OR REPLACE TABLE {self.table} AS\n{body}"


def _leading_comments(sql: str) -> list[str]:
    """The leading ``--`` comment lines of ``sql``, stripped (blank lines before them skipped)."""
    lines: list[str] = []
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            lines.append(stripped)
        elif stripped or lines:
            break
    return lines


def read_description(sql: str) -> str:
    """The leading ``--`` comment lines of a model but its grains, joined into a
    paragraph-preserving text."""
    lines = [line[2:].strip() for line in _leading_comments(sql) if not _GRAIN.match(line)]
    paragraphs = "\n".join(lines).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def read_grains(sql: str, where: str = "<sql>") -> tuple[tuple[str, ...], ...]:
    """The grains a model declares in its leading comments, one ``-- grain: a, b`` line each.

    Raises :class:`SqlModelError` when a grain names no column or a column that is not a plain
    lower-case identifier.
    """
    grains = []
    for line in _leading_comments(sql):
        match = _GRAIN.match(line)
        if not match:
            continue
        columns = tuple(c.strip() for c in match.group(1).split(","))
        if not all(_IDENTIFIER.match(c) for c in columns):
            raise SqlModelError(
                f"{where}: {line!r} must list column names separated by commas, "
                "e.g. '-- grain: ticker, fiscal_year'"
            )
        grains.append(columns)
    return tuple(grains)


def _check_grain_columns(tree: exp.Query, grains: tuple[tuple[str, ...], ...], where: str) -> None:
    """Raise :class:`SqlModelError` when a grain names a column the query does not select."""
    selected = {name.lower() for name in tree.named_selects}
    if not selected or "*" in selected:
        return  # a star select: the columns are known only once built
    for grain in grains:
        missing = [c for c in grain if c not in selected]
        if missing:
            raise SqlModelError(
                f"{where}: grain ({', '.join(grain)}) names column(s) {missing} the query does "
                f"not select; it selects {', '.join(sorted(selected))}"
            )


def _parse_query(sql: str, where: str) -> exp.Query:
    """The single query of a model file; :class:`SqlModelError` when it is anything else."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise SqlModelError(f"{where}: SQL does not parse: {exc}") from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise SqlModelError(
            f"{where}: a model is exactly one SELECT statement (CTEs allowed), "
            f"found {len(statements)} statement(s)"
        )
    return statements[0]


def parse_dependencies(sql: str, where: str = "<sql>") -> frozenset[str]:
    """The schema-qualified tables (``schema.table``, lower case) that ``sql`` reads.

    CTE names and table functions (``range(...)``, ``unnest(...)``) are not dependencies.
    Raises :class:`SqlModelError` when the SQL does not parse, is not a single query, or
    reads an unqualified table that is not a CTE.
    """
    return _dependencies(_parse_query(sql, where), where)


def _dependencies(tree: exp.Query, where: str) -> frozenset[str]:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    deps: set[str] = set()
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function such as range(...) or read_csv(...)
        name = table.name.lower()
        schema = table.db.lower()
        if not schema:
            if name in ctes:
                continue
            raise SqlModelError(
                f"{where}: table {table.name!r} is not schema-qualified; write "
                f"staging.{table.name} or marts.{table.name} so its lineage is known"
            )
        deps.add(f"{schema}.{name}")
    return frozenset(deps)


def load_model(path: Path, sql_dir: Path = SQL_DIR) -> SqlModel:
    """Read one model file; its folder is the schema, its stem the table name."""
    relative = path.relative_to(sql_dir)
    if len(relative.parts) != 2:
        raise SqlModelError(
            f"{path}: models live in sql/<schema>/<name>.sql with <schema> one of "
            f"{', '.join(MODEL_SCHEMAS)}"
        )
    schema, name = relative.parts[0].lower(), path.stem.lower()
    if schema not in MODEL_SCHEMAS:
        raise SqlModelError(
            f"{path}: unknown schema folder {relative.parts[0]!r}; use one of "
            f"{', '.join(MODEL_SCHEMAS)} (or add the schema to pipelines.core.warehouse.SCHEMAS)"
        )
    if not _IDENTIFIER.match(name):
        raise SqlModelError(
            f"{path}: {path.stem!r} is not a valid table name; use lower case letters, "
            "digits and underscores"
        )
    sql = path.read_text(encoding="utf-8")
    tree = _parse_query(sql, str(path))
    deps = _dependencies(tree, str(path))
    table = f"{schema}.{name}"
    if table in deps:
        raise SqlModelError(f"{path}: the model reads its own table {table}")
    grains = read_grains(sql, where=str(path))
    _check_grain_columns(tree, grains, str(path))
    return SqlModel(schema, name, path, sql, deps, read_description(sql), grains)


def discover_models(sql_dir: Path = SQL_DIR) -> dict[str, SqlModel]:
    """Every model under ``sql_dir``, by table name (``schema.name``)."""
    models: dict[str, SqlModel] = {}
    for path in sorted(Path(sql_dir).rglob("*.sql")):
        model = load_model(path, Path(sql_dir))
        if model.table in models:
            raise SqlModelError(
                f"{path} and {models[model.table].path} both build {model.table}; rename one"
            )
        models[model.table] = model
    return models


def topological_order(models: Mapping[str, SqlModel]) -> list[SqlModel]:
    """The models in build order: each after the models it reads (ties by name).

    Dependencies on tables no model builds (Python assets such as ``staging.facts``) are
    taken as given. Raises :class:`SqlModelError` naming the models of a cycle.
    """
    pending = {name: {d for d in m.deps if d in models} for name, m in models.items()}
    order: list[SqlModel] = []
    while pending:
        ready = sorted(name for name, deps in pending.items() if not deps)
        if not ready:
            raise SqlModelError(
                "SQL models depend on each other in a cycle: " + ", ".join(sorted(pending))
            )
        for name in ready:
            order.append(models[name])
            del pending[name]
        for deps in pending.values():
            deps.difference_update(ready)
    return order


def with_upstream(models: Mapping[str, SqlModel], tables: Iterable[str]) -> dict[str, SqlModel]:
    """The models building ``tables`` and every model they read from, by table name."""
    wanted: dict[str, SqlModel] = {}
    stack = list(tables)
    while stack:
        table = stack.pop()
        if table in wanted:
            continue
        if table not in models:
            raise SqlModelError(f"no SQL model builds {table}; models: {', '.join(sorted(models))}")
        wanted[table] = models[table]
        stack.extend(d for d in models[table].deps if d in models)
    return wanted


def marts_without(models: Mapping[str, SqlModel], source: str) -> tuple[str, ...]:
    """The marts (table names, sorted) built without reading ``source``, directly or upstream.

    ``marts_without(models, "staging.prices")`` are the marts built from filings alone.
    """
    return tuple(
        sorted(
            table
            for table, model in models.items()
            if model.schema == "marts"
            and source not in {d for m in with_upstream(models, [table]).values() for d in m.deps}
        )
    )


def external_dependencies(models: Mapping[str, SqlModel]) -> frozenset[str]:
    """Tables the models read that no model builds (they come from Python assets)."""
    return frozenset(d for m in models.values() for d in m.deps if d not in models)


def build_model(con: duckdb.DuckDBPyConnection, model: SqlModel) -> int:
    """(Re)build one model's table on ``con``; returns its row count.

    A failure raises :class:`SqlModelError` naming the file and the tables it reads.
    """
    try:
        con.execute(model.create_statement())
    except duckdb.Error as exc:
        reads = ", ".join(sorted(model.deps)) or "no tables"
        raise SqlModelError(
            f"SQL model {model.table} ({model.path}) failed: {exc}. It reads {reads}; "
            "check that those tables are built (run the assets upstream of it)"
        ) from exc
    return con.execute(f"SELECT count(*) FROM {model.table}").fetchone()[0]


def build_models(
    con: duckdb.DuckDBPyConnection, models: Iterable[SqlModel] | Mapping[str, SqlModel]
) -> dict[str, tuple[int, float]]:
    """Build ``models`` in dependency order on ``con``: table → (rows, seconds)."""
    if not isinstance(models, Mapping):
        models = {m.table: m for m in models}
    built: dict[str, tuple[int, float]] = {}
    for model in topological_order(models):
        started = time.perf_counter()
        rows = build_model(con, model)
        built[model.table] = (rows, time.perf_counter() - started)
    return built


def rebuild(
    warehouse: Warehouse, models: Iterable[SqlModel] | Mapping[str, SqlModel]
) -> dict[str, tuple[int, float]]:
    """Build ``models`` in dependency order, one transaction each, as the Dagster assets do.

    A model read in the transaction that created its input is several times slower (DuckDB
    plans against uncommitted tables without their statistics), so each model commits before
    the next starts. Returns table → (rows, seconds).
    """
    if not isinstance(models, Mapping):
        models = {m.table: m for m in models}
    built: dict[str, tuple[int, float]] = {}
    for model in topological_order(models):
        started = time.perf_counter()
        with warehouse.connect() as con:
            rows = build_model(con, model)
        built[model.table] = (rows, time.perf_counter() - started)
    return built
