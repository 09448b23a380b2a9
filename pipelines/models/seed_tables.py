"""Seed tables: the metric map and segment names, kept as CSV data in pipelines/seeds/.

* ``metric_definitions.csv`` → ``staging.metric_definitions``: each standard metric, whether it
  is a duration or an instant, whether it is additive (only additive metrics get quarters
  derived from year-to-date figures), its unit and what it means.
* ``metric_map.csv`` → ``staging.metric_map``: each metric's XBRL concept candidates in order
  of preference. Rows with a ``ticker`` override the default rows (blank ticker) for that
  company and metric entirely.
* ``segment_map.csv`` → ``staging.segment_map``: which (axis, member) of a company's
  dimensional facts is which readable segment; ``priority`` orders members that report the
  same segment (a renamed member, or the same business on the product axis).
* ``period_lengths.csv`` → ``staging.period_lengths``: how long (in days, first to last day
  inclusive) a fiscal quarter, half year, nine months and year may be, and their nominal
  length. The one definition of a quarter's length: the SQL models join the table, Python
  reads it through :func:`period_lengths`.

Validation happens here, before anything lands, so a typo in a CSV fails with the file, the
line and what to fix.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

import duckdb
import polars as pl

from pipelines.core.tables import Table
from pipelines.core.warehouse import Warehouse

# Non-cash disclosures that look like capex; no metric may map to them.
FORBIDDEN_CONCEPTS = frozenset({"CapitalExpendituresIncurredButNotYetPaid"})


class SeedError(ValueError):
    """A seed CSV is malformed; the message names the file, line and fix."""


@dataclass(frozen=True)
class Seed:
    """One CSV in pipelines/seeds/ and the table it becomes."""

    name: str
    schema: dict[str, pl.DataType]
    required: tuple[str, ...]

    @property
    def table(self) -> str:
        return f"staging.{self.name}"

    @property
    def contract(self) -> Table:
        """The warehouse table the seed becomes."""
        return Table(self.table, self.schema, rebuilt_whole=True)

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


METRIC_DEFINITIONS = Seed(
    "metric_definitions",
    {
        "metric": pl.String,
        "period_type": pl.String,
        "additive": pl.Boolean,
        "unit": pl.String,
        "description": pl.String,
    },
    ("metric", "period_type", "additive", "unit"),
)
METRIC_MAP = Seed(
    "metric_map",
    {
        "metric": pl.String,
        "ticker": pl.String,
        "priority": pl.Int32,
        "taxonomy": pl.String,
        "concept": pl.String,
        "note": pl.String,
    },
    ("metric", "priority", "taxonomy", "concept"),
)
SEGMENT_MAP = Seed(
    "segment_map",
    {
        "ticker": pl.String,
        "axis": pl.String,
        "member": pl.String,
        "segment": pl.String,
        "priority": pl.Int32,
    },
    ("ticker", "axis", "member", "segment", "priority"),
)
PERIOD_LENGTHS = Seed(
    "period_lengths",
    {
        "months": pl.Int32,
        "min_days": pl.Int32,
        "max_days": pl.Int32,
        "nominal_days": pl.Float64,
        "description": pl.String,
    },
    ("months", "min_days", "max_days", "nominal_days"),
)
SEEDS = (METRIC_DEFINITIONS, METRIC_MAP, SEGMENT_MAP, PERIOD_LENGTHS)
# The SQL models and the Python readers rely on these rows of period_lengths.csv.
PERIOD_MONTHS = (3, 6, 9, 12)


@dataclass(frozen=True)
class PeriodLength:
    """How long a fiscal period of ``months`` months may be, in days counted inclusively."""

    months: int
    min_days: int
    max_days: int
    nominal_days: float


def read_seed_text(seed: Seed) -> str:
    """The CSV text of ``seed`` as packaged in pipelines/seeds/."""
    return resources.files("pipelines.seeds").joinpath(seed.filename).read_text(encoding="utf-8")


def parse_seed(seed: Seed, text: str) -> pl.DataFrame:
    """Parse and type one seed CSV; raises :class:`SeedError` naming the line at fault."""
    where = f"pipelines/seeds/{seed.filename}"
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [c for c in seed.schema if c not in header]
    if missing:
        raise SeedError(f"{where}: missing column(s) {', '.join(missing)}; header is {header}")
    rows: dict[str, list] = {name: [] for name in seed.schema}
    for line, row in enumerate(reader, start=2):
        for name, dtype in seed.schema.items():
            raw = (row.get(name) or "").strip()
            if not raw:
                if name in seed.required:
                    raise SeedError(f"{where} line {line}: {name} is empty; fill it in")
                rows[name].append(None)
                continue
            rows[name].append(_convert(raw, dtype, f"{where} line {line}, column {name}"))
    return pl.DataFrame(rows, schema=seed.schema)


def _convert(raw: str, dtype: pl.DataType, where: str):
    if dtype == pl.Int32:
        try:
            return int(raw)
        except ValueError as exc:
            raise SeedError(f"{where}: {raw!r} is not an integer") from exc
    if dtype == pl.Float64:
        try:
            return float(raw)
        except ValueError as exc:
            raise SeedError(f"{where}: {raw!r} is not a number") from exc
    if dtype == pl.Boolean:
        if raw.lower() not in {"true", "false"}:
            raise SeedError(f"{where}: {raw!r} is not true or false")
        return raw.lower() == "true"
    return raw


def validate_metric_seeds(
    definitions: pl.DataFrame, metric_map: pl.DataFrame, segments: pl.DataFrame
) -> None:
    """Cross-check the seeds; raises :class:`SeedError` describing the first problem found."""
    dup = definitions.filter(pl.col("metric").is_duplicated())["metric"].unique().to_list()
    if dup:
        raise SeedError(f"metric_definitions.csv: metric(s) defined twice: {dup}")
    bad_type = definitions.filter(~pl.col("period_type").is_in(["duration", "instant"]))
    if bad_type.height:
        raise SeedError(
            f"metric_definitions.csv: period_type must be duration or instant, not "
            f"{bad_type['period_type'].to_list()} (metrics {bad_type['metric'].to_list()})"
        )
    additive_instants = definitions.filter(
        pl.col("additive") & (pl.col("period_type") != "duration")
    )
    if additive_instants.height:
        raise SeedError(
            "metric_definitions.csv: only duration metrics can be additive; fix "
            f"{additive_instants['metric'].to_list()}"
        )
    unknown = sorted(set(metric_map["metric"]) - set(definitions["metric"]))
    if unknown:
        raise SeedError(
            f"metric_map.csv: metric(s) {unknown} are not in metric_definitions.csv; add them"
        )
    unmapped = sorted(set(definitions["metric"]) - set(metric_map["metric"]))
    if unmapped:
        raise SeedError(f"metric_definitions.csv: metric(s) {unmapped} have no concept in the map")
    forbidden = metric_map.filter(pl.col("concept").is_in(list(FORBIDDEN_CONCEPTS)))
    if forbidden.height:
        raise SeedError(
            f"metric_map.csv: {forbidden['concept'].to_list()} is a non-cash disclosure, never a "
            f"metric (mapped for {forbidden['metric'].to_list()}); remove the row"
        )
    clashes = metric_map.filter(
        pl.struct("metric", "ticker", "priority").is_duplicated()
        | pl.struct("metric", "ticker", "taxonomy", "concept").is_duplicated()
    )
    if clashes.height:
        raise SeedError(
            "metric_map.csv: each (metric, ticker) needs distinct priorities and concepts; "
            f"fix rows {clashes.select('metric', 'ticker', 'priority', 'concept').rows()}"
        )
    seg_clash = segments.filter(
        pl.struct("ticker", "axis", "member").is_duplicated()
        | pl.struct("ticker", "segment", "priority").is_duplicated()
    )
    if seg_clash.height:
        raise SeedError(
            "segment_map.csv: each (ticker, axis, member) once, and distinct priorities per "
            f"(ticker, segment); fix rows {seg_clash.rows()}"
        )


def validate_period_lengths(lengths: pl.DataFrame) -> None:
    """Check period_lengths.csv; raises :class:`SeedError` describing the first problem found.

    Every length of :data:`PERIOD_MONTHS` appears once, each range is ordered and holds its
    nominal length, and no two ranges overlap (a period has at most one length).
    """
    where = f"pipelines/seeds/{PERIOD_LENGTHS.filename}"
    months = lengths["months"].to_list()
    if sorted(months) != sorted(PERIOD_MONTHS):
        raise SeedError(f"{where}: months must be {list(PERIOD_MONTHS)} once each, not {months}")
    rows = sorted(lengths.iter_rows(named=True), key=lambda row: row["min_days"])
    for row in rows:
        if not row["min_days"] <= row["nominal_days"] <= row["max_days"]:
            raise SeedError(
                f"{where}: months {row['months']} needs min_days <= nominal_days <= max_days; "
                f"fix {row['min_days']}, {row['nominal_days']}, {row['max_days']}"
            )
    for shorter, longer in zip(rows, rows[1:], strict=False):
        if shorter["max_days"] >= longer["min_days"]:
            raise SeedError(
                f"{where}: the ranges of months {shorter['months']} and {longer['months']} "
                "overlap; a period must have one length"
            )


def load_seeds() -> dict[str, pl.DataFrame]:
    """All seeds by name, parsed and cross-checked."""
    frames = {seed.name: parse_seed(seed, read_seed_text(seed)) for seed in SEEDS}
    validate_metric_seeds(
        frames[METRIC_DEFINITIONS.name], frames[METRIC_MAP.name], frames[SEGMENT_MAP.name]
    )
    validate_period_lengths(frames[PERIOD_LENGTHS.name])
    return frames


@functools.cache
def period_lengths() -> dict[int, PeriodLength]:
    """The fiscal period lengths of pipelines/seeds/period_lengths.csv, by months (3 .. 12).

    The Python side of the rule the SQL models read from ``staging.period_lengths``.
    """
    frame = parse_seed(PERIOD_LENGTHS, read_seed_text(PERIOD_LENGTHS))
    validate_period_lengths(frame)
    return {
        row["months"]: PeriodLength(
            row["months"], row["min_days"], row["max_days"], row["nominal_days"]
        )
        for row in frame.iter_rows(named=True)
    }


def write_seeds(warehouse: Warehouse, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Validate every seed, then (re)create its table on ``con``; returns rows per table."""
    frames = load_seeds()
    written = {}
    for seed in SEEDS:
        written[seed.table] = warehouse.replace_rows(seed.contract, frames[seed.name], {}, con)
    return written
