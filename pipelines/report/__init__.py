"""The static HTML report (and PNG images of its charts) built from the published marts."""

from pipelines.report.build import ReportFiles, SectionResult, build_report, load_sections
from pipelines.report.sections import SECTIONS, Section

__all__ = [
    "SECTIONS",
    "ReportFiles",
    "Section",
    "SectionResult",
    "build_report",
    "load_sections",
]
