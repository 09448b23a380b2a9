"""Read the report's sections from the warehouse and write the HTML page and PNG charts.

The page is self-contained: charts are inline SVG (no JavaScript, no network), each with a PNG
beside the page (``<section id>.png``) for slides and documents. Files are written to a
temporary folder and moved into place with ``os.replace``, the page last, so a reader never
opens a half-written report.
"""

import html
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import vl_convert as vlc

from pipelines.report.sections import SECTIONS, Section

REPORT_NAME = "capex_report.html"
PNG_SCALE = 2


@dataclass
class SectionResult:
    """A section as read from the warehouse: its rows and chart, or a note saying why not."""

    section: Section
    frame: pl.DataFrame | None = None
    chart: object | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.note is None


@dataclass
class ReportFiles:
    """What :func:`build_report` wrote."""

    html: Path
    pngs: dict[str, Path] = field(default_factory=dict)
    results: list[SectionResult] = field(default_factory=list)

    @property
    def notes(self) -> dict[str, str]:
        return {r.section.id: r.note for r in self.results if r.note}


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    rows = con.execute(
        "SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns"
    ).fetchall()
    tables: dict[str, set[str]] = {}
    for table, column in rows:
        tables.setdefault(table, set()).add(column)
    return tables


def _missing_note(section: Section, tables: dict[str, set[str]]) -> str | None:
    for table, columns in section.requirements:
        if table not in tables:
            return (
                f"{table} is not in the warehouse yet, so this "
                f"{'chart' if section.chart else 'table'} is left out. It appears after a "
                f"refresh that builds {table} (`capex run`, or materialise it in the Dagster UI)."
            )
        absent = [c for c in columns if c not in tables[table]]
        if absent:
            return (
                f"{table} has no column {', '.join(absent)}, so this section is left out; "
                "the mart's SQL model and the report disagree: rebuild the mart with the current "
                "code."
            )
    return None


def _chart(section: Section, frame: pl.DataFrame):
    return section.chart(frame) if section.chart else None


def since_filter(frame: pl.DataFrame, since: date) -> pl.DataFrame:
    """The rows of a chart's frame from ``since`` on: by calendar quarter when the chart is
    drawn by calendar quarter, else by period end or date."""
    if {"calendar_year", "calendar_quarter"} <= set(frame.columns):
        first = since.year * 4 + (since.month - 1) // 3
        index = pl.col("calendar_year") * 4 + pl.col("calendar_quarter") - 1
        return frame.filter(index >= first)
    for column in ("period_end", "date"):
        if column in frame.columns:
            return frame.filter(pl.col(column) >= since)
    return frame


def load_sections(
    con: duckdb.DuckDBPyConnection,
    sections: tuple[Section, ...] = SECTIONS,
    since: date | None = None,
) -> list[SectionResult]:
    """Each section's rows and chart from ``con``; a missing or empty mart gives a note.

    Charts start at ``since`` (the report uses CAPEX_SINCE); tables show every row.
    """
    tables = _columns(con)
    results = []
    for section in sections:
        note = _missing_note(section, tables)
        if note:
            results.append(SectionResult(section, note=note))
            continue
        try:
            frame = con.execute(section.sql).pl()
        except duckdb.Error as exc:
            results.append(
                SectionResult(section, note=f"reading {section.table} failed: {exc}".strip())
            )
            continue
        window = ""
        if since is not None and section.chart is not None:
            frame = since_filter(frame, since)
            window = f" since {since.isoformat()} (CAPEX_SINCE)"
        if frame.is_empty():
            results.append(
                SectionResult(
                    section,
                    frame=frame,
                    note=f"{section.table} has no rows to show here{window}: {section.empty_hint}.",
                )
            )
            continue
        results.append(SectionResult(section, frame=frame, chart=_chart(section, frame)))
    return results


def _format_value(value) -> str:
    if value is None:
        return ""
    number = float(value)
    magnitude = abs(number)
    if magnitude >= 1e9:
        return f"{number / 1e9:,.3f} bn"
    if magnitude >= 1e6:
        return f"{number / 1e6:,.3f} M"
    return f"{number:,.4g}"


def _table_html(frame: pl.DataFrame) -> str:
    header = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.iter_rows(named=True):
        cells = []
        for column, value in row.items():
            if column in ("claimed_value", "filed_value"):
                text = _format_value(value)
            elif column == "deviation":
                text = "" if value is None else f"{float(value) * 100:+.2f}%"
            else:
                text = "" if value is None else str(value)
            css = f' class="verdict-{html.escape(text)}"' if column == "verdict" else ""
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 980px; color: #222; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; font-size: 0.9rem; }
section { margin: 2.5rem 0; } .caption { color: #444; }
.note { background: #fff8e1; border-left: 4px solid #f0b429; padding: 0.6rem 1rem; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left; }
td.verdict-mismatch { color: #b00020; font-weight: bold; } td.verdict-match { color: #1b7f3b; }
td.verdict-close { color: #a86200; }
nav a { margin-right: 1rem; }
"""


def _page(results: list[SectionResult], svgs: dict[str, str], source: str, when: str) -> str:
    nav = " ".join(f'<a href="#{r.section.id}">{html.escape(r.section.title)}</a>' for r in results)
    parts = []
    for result in results:
        section = result.section
        body = [
            f'<section id="{section.id}"><h2>{html.escape(section.title)}</h2>',
            f'<p class="caption">{html.escape(section.caption)}</p>',
        ]
        if result.note:
            body.append(f'<p class="note">{html.escape(result.note)}</p>')
        elif section.id in svgs:
            body.append(f'<div class="chart">{svgs[section.id]}</div>')
            body.append(
                f'<p class="meta"><a href="{section.id}.png">PNG</a> · source '
                f"{html.escape(section.table)}, {result.frame.height} rows</p>"
            )
        elif result.frame is not None:
            body.append(_table_html(result.frame))
            body.append(
                f'<p class="meta">source {html.escape(section.table)}, '
                f"{result.frame.height} rows</p>"
            )
        body.append("</section>")
        parts.append("\n".join(body))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>capex-watch report</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>capex-watch: Big Tech capex, growth and valuation</h1>"
        f'<p class="meta">Built {html.escape(when)} from {html.escape(source)}. Figures are '
        "the companies' own filings as loaded in the warehouse.</p>"
        f"<nav>{nav}</nav>\n" + "\n".join(parts) + "\n</body></html>\n"
    )


def build_report(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    source: str,
    sections: tuple[Section, ...] = SECTIONS,
    since: date | None = None,
    now: datetime | None = None,
) -> ReportFiles:
    """Write ``capex_report.html`` and one PNG per chart into ``out_dir`` from ``con``.

    ``source`` names the warehouse in the page; charts start at ``since``. PNGs of sections
    that have no chart this time are removed, so the folder never holds a stale picture.
    """
    results = load_sections(con, sections, since)
    when = (now or datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M %Z").strip()
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=".build-"))
    try:
        svgs: dict[str, str] = {}
        written: dict[str, Path] = {}
        for result in results:
            if result.chart is None:
                continue
            png = staging / f"{result.section.id}.png"
            try:
                # the chart code is fixed and its specs are validated in the tests
                spec = result.chart.to_json(validate=False)
                svg = vlc.vegalite_to_svg(spec)
                png.write_bytes(vlc.svg_to_png(svg, scale=PNG_SCALE))
            except Exception as exc:  # one chart that cannot be drawn must not sink the report
                result.chart = None
                result.note = (
                    f"the chart of {result.section.table} ({result.frame.height} rows) could "
                    f"not be drawn: {type(exc).__name__}: {exc}"
                )
                continue
            svgs[result.section.id] = svg
            written[result.section.id] = png
        page = staging / REPORT_NAME
        page.write_text(_page(results, svgs, source, when), encoding="utf-8")
        pngs = {}
        for section_id, png in written.items():
            pngs[section_id] = out_dir / png.name
            os.replace(png, pngs[section_id])
        for section in sections:
            if section.id not in written:
                (out_dir / f"{section.id}.png").unlink(missing_ok=True)
        os.replace(page, out_dir / REPORT_NAME)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ReportFiles(out_dir / REPORT_NAME, pngs, results)
