"""The facts of one XBRL document as they are collected: contexts, precision, de-duplication.

:class:`FactCollector` keeps one row per (concept, unit, period, dimensions) of a document,
the most precise of repeated facts, and builds the frame of :data:`FACT_SCHEMA`; values must
fit ``DECIMAL(38, 10)`` exactly. The parser (pipelines/sec/xbrl.py) feeds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from decimal import Context as DecimalContext

import polars as pl
import pyarrow as pa

from pipelines.core.tables import DIMENSIONS_TYPE

VALUE_DTYPE = pl.Decimal(38, 10)
FACT_SCHEMA: dict[str, pl.DataType] = {
    "taxonomy": pl.String(),
    "concept": pl.String(),
    "unit": pl.String(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "value": VALUE_DTYPE,
    "decimals": pl.Int32(),
    "dimensions": DIMENSIONS_TYPE,
    "dimensions_key": pl.String(),
}
_QUANTUM = Decimal("1e-10")  # DECIMAL(38, 10)
DECIMAL_CONTEXT = DecimalContext(prec=60)


class XbrlParseError(ValueError):
    """The body is not a usable XBRL document. The message names the URL and the cause."""

    def __init__(self, url: str, cause: str):
        super().__init__(f"{url or '<no url>'}: {cause}")
        self.url = url
        self.cause = cause


@dataclass(frozen=True)
class Context:
    start: date | None
    end: date | None
    dimensions: tuple[tuple[str, str], ...]
    key: str


class FactCollector:
    """Collects numeric facts, keeping one per (concept, unit, period, dimensions)."""

    def __init__(self, url: str, contexts: dict[str, Context], units: dict[str, str]):
        self.url = url
        self.contexts = contexts
        self.units = units
        self.rows: dict[tuple, list] = {}
        self.duplicates = 0
        self.conflicts = 0
        self.nil_facts = 0

    def add(
        self,
        taxonomy: str,
        concept: str,
        context_ref: str | None,
        unit_ref: str | None,
        value: Decimal,
        decimals: int | None,
        where: str,
    ) -> None:
        ctx = self.context(context_ref, where)
        if ctx.end is None:  # xbrli:forever: no period to file it under
            return
        if not unit_ref:
            raise XbrlParseError(self.url, f"{where}: numeric fact without a unitRef")
        unit = self.units.get(unit_ref)
        if unit is None:
            raise XbrlParseError(self.url, f"{where}: unitRef {unit_ref!r} names no xbrli:unit")
        value = self._storable(value, where)
        key = (taxonomy, concept, unit, ctx.start, ctx.end, ctx.key)
        kept = self.rows.get(key)
        if kept is None:
            self.rows[key] = [value, decimals, ctx]
            return
        self.duplicates += 1
        if not consistent(kept[0], kept[1], value, decimals):
            self.conflicts += 1
        if more_precise(decimals, kept[1]):
            kept[0], kept[1] = value, decimals

    def context(self, context_ref: str | None, where: str) -> Context:
        if not context_ref:
            raise XbrlParseError(self.url, f"{where}: fact without a contextRef")
        ctx = self.contexts.get(context_ref)
        if ctx is None:
            raise XbrlParseError(
                self.url, f"{where}: contextRef {context_ref!r} names no xbrli:context"
            )
        return ctx

    def _storable(self, value: Decimal, where: str) -> Decimal:
        try:
            stored = value.quantize(_QUANTUM, context=DECIMAL_CONTEXT)
        except InvalidOperation:
            stored = None
        if stored is None or stored != value or stored.adjusted() >= 28:
            raise XbrlParseError(
                self.url, f"{where}: value {value} does not fit DECIMAL(38, 10) exactly"
            )
        return stored

    def frame(self) -> pl.DataFrame:
        # Built through Arrow arrays: polars' per-row construction of list-of-struct and
        # Decimal columns costs more than the whole XML parse.
        columns: dict[str, list] = {name: [] for name in FACT_SCHEMA if name != "dimensions"}
        offsets, axes, members, no_dims = [0], [], [], []
        for (tax, con, uni, st, en, dkey), (val, dec, ctx) in self.rows.items():
            columns["taxonomy"].append(tax)
            columns["concept"].append(con)
            columns["unit"].append(uni)
            columns["period_start"].append(st)
            columns["period_end"].append(en)
            columns["value"].append(val)
            columns["decimals"].append(dec)
            columns["dimensions_key"].append(dkey)
            for axis, member in ctx.dimensions:
                axes.append(axis)
                members.append(member)
            offsets.append(len(axes))
            no_dims.append(not ctx.dimensions)
        pairs = pa.StructArray.from_arrays(
            [pa.array(axes, pa.string()), pa.array(members, pa.string())],
            names=["axis", "member"],
        )
        arrays = {
            "taxonomy": pa.array(columns["taxonomy"], pa.string()),
            "concept": pa.array(columns["concept"], pa.string()),
            "unit": pa.array(columns["unit"], pa.string()),
            "period_start": pa.array(columns["period_start"], pa.date32()),
            "period_end": pa.array(columns["period_end"], pa.date32()),
            "value": pa.array(columns["value"], pa.decimal128(38, 10)),
            "decimals": pa.array(columns["decimals"], pa.int32()),
            "dimensions": pa.ListArray.from_arrays(
                pa.array(offsets, pa.int32()), pairs, mask=pa.array(no_dims, pa.bool_())
            ),
            "dimensions_key": pa.array(columns["dimensions_key"], pa.string()),
        }
        return pl.DataFrame(pa.table(arrays)).cast(FACT_SCHEMA)


def more_precise(a: int | None, b: int | None) -> bool:
    """Whether decimals ``a`` is strictly more precise than ``b`` (None = INF)."""
    if a is None:
        return b is not None
    return b is not None and a > b


def consistent(a: Decimal, a_dec: int | None, b: Decimal, b_dec: int | None) -> bool:
    """Whether two values of one fact agree once rounded to the lesser precision."""
    if a == b:
        return True
    lower = [d for d in (a_dec, b_dec) if d is not None]
    if not lower:
        return False
    quantum = Decimal(1).scaleb(-min(lower))
    return any(
        a.quantize(quantum, rounding=r, context=DECIMAL_CONTEXT)
        == b.quantize(quantum, rounding=r, context=DECIMAL_CONTEXT)
        for r in (ROUND_HALF_UP, ROUND_HALF_EVEN)
    )


def decimals_attribute(text: str | None, where: str, url: str) -> int | None:
    """The decimals attribute; None for INF, or when absent (SEC filings never use precision)."""
    if text is None:
        return None
    text = text.strip()
    if text.upper() == "INF":
        return None
    try:
        return int(text)
    except ValueError:
        raise XbrlParseError(url, f"{where}: bad decimals {text!r}") from None
