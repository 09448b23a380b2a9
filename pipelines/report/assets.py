"""The report asset: a static HTML page and PNG charts under ``reports/`` beside the warehouse.

It reads the *published* warehouse (what users query), after the publish step, so the report
always shows exactly what a reader of ``CAPEX_WAREHOUSE`` sees, and never holds the build lock.
"""

import base64

import dagster as dg
import vl_convert as vlc

from pipelines.core.resources import CapexResource
from pipelines.models.publish import PUBLISHED
from pipelines.orchestration.automation import follow_upstream
from pipelines.report import build_report

REPORT = dg.AssetKey(["reports", "capex_report"])
PREVIEW_SECTIONS = ("capex_by_company", "capex_universe")


def _preview_markdown(files) -> str:
    """Markdown for the asset page: the first chart as an embedded PNG and what was left out."""
    charts = {r.section.id: r for r in files.results if r.chart is not None}
    lines = [f"**capex-watch report**: `{files.html}`", ""]
    shown = next((charts[s] for s in PREVIEW_SECTIONS if s in charts), None)
    shown = shown or next(iter(charts.values()), None)
    if shown is not None:
        png = vlc.vegalite_to_png(shown.chart.to_json(), scale=1)
        lines.append(
            f"![{shown.section.title}](data:image/png;base64,{base64.b64encode(png).decode()})"
        )
    else:
        lines.append("_No chart yet: none of the marts the report draws has rows._")
    for section_id, note in files.notes.items():
        lines.append(f"- **{section_id}** left out: {note}")
    return "\n".join(lines)


@dg.asset(
    key=REPORT,
    deps=[PUBLISHED],
    group_name="reports",
    kinds={"html", "altair"},
    automation_condition=follow_upstream(),
    description=(
        "A static HTML report (reports/capex_report.html beside the published warehouse) with "
        "PNG images of its charts: quarterly capex per company (stacked) and for the universe, "
        "capex growth against revenue growth, capex intensity, cloud segment revenue, valuation "
        "multiples over time, and the news claim checks as a table. A mart that is missing or "
        "empty gives a note in place of its chart."
    ),
)
def capex_report(context: dg.AssetExecutionContext, capex: CapexResource) -> dg.MaterializeResult:
    settings = capex.settings
    warehouse = capex.warehouse
    with warehouse.reader() as con:
        files = build_report(
            con, settings.reports_dir, source=warehouse.location, since=settings.since
        )
    if files.notes:
        context.log.warning(
            f"report: {len(files.notes)} of {len(files.results)} sections left out "
            f"({', '.join(files.notes)}); the report says why in their place"
        )
    html_path = files.html.resolve()
    metadata = {
        "report": dg.MetadataValue.path(str(html_path)),
        "report_url": dg.MetadataValue.url(html_path.as_uri()),
        "preview": dg.MetadataValue.md(_preview_markdown(files)),
        "charts": len(files.pngs),
        "sections_left_out": dg.MetadataValue.json(files.notes),
        "bytes": files.html.stat().st_size + sum(p.stat().st_size for p in files.pngs.values()),
    }
    for section_id, png in files.pngs.items():
        metadata[f"png_{section_id}"] = dg.MetadataValue.path(str(png.resolve()))
    return dg.MaterializeResult(metadata=metadata)


ASSETS = [capex_report]
