"""Freshness: is a company's latest quarter as recent as its filing cadence says it should be?

A company reports every fiscal quarter. After the period ending ``latest`` the next one ends at
most a longest quarter later (98 days, a 14-week quarter of a 52/53-week year: the quarter row of
pipelines/seeds/period_lengths.csv) and its report is due 40 days after that (10-Q) or 60 days
(10-K, when that quarter closes the fiscal year): the deadlines of large accelerated filers,
which every company of the default universe is. A latest quarter older than
that, on the day of the check, means a filing is missing, from SEC or from the warehouse.

The check also flags facts that lag the filings list: SEC lists a 10-K/10-Q for a later period
than any fact loaded (e.g. a filing whose document failed to load).
"""

import warnings
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from pipelines.core import tables
from pipelines.core.resources import CapexResource
from pipelines.models.seed_tables import period_lengths

FACTS = tables.FACTS.key
FILINGS = tables.FILINGS.key
COMPANIES = tables.COMPANIES.key

TEN_Q_DUE_DAYS = 40
TEN_K_DUE_DAYS = 60
# A quarter ending this close to the fiscal year end (MMDD in SEC submissions) closes the year;
# 52/53-week years end on a weekday near that date, not on it.
YEAR_END_TOLERANCE_DAYS = 21


def latest_quarter_sql() -> str:
    """The query of a company's (``?``) latest period end of a fiscal quarter, half year, nine
    months or year (the lengths of pipelines/seeds/period_lengths.csv) in a 10-K or 10-Q."""
    lengths = " OR ".join(
        f"days BETWEEN {length.min_days} AND {length.max_days}"
        for length in period_lengths().values()
    )
    return f"""
SELECT max(period_end) FROM (
    SELECT period_end, period_end - period_start + 1 AS days
    FROM staging.facts
    WHERE ticker = ? AND form IN ('10-K', '10-Q', '10-K/A', '10-Q/A')
      AND period_start IS NOT NULL AND dimensions IS NULL AND period_end <= filed
)
WHERE {lengths}
"""


NEWEST_LISTED_SQL = """
SELECT accession, form, report_date FROM staging.filings
WHERE ticker = ? AND form IN ('10-K', '10-Q') AND report_date IS NOT NULL
ORDER BY report_date DESC, filed DESC LIMIT 1
"""


def _year_ends_near(day: date, fiscal_year_end: str) -> list[date]:
    month, dom = int(fiscal_year_end[:2]), int(fiscal_year_end[2:])
    ends = []
    for year in (day.year - 1, day.year, day.year + 1):
        last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
        ends.append(date(year, month, min(dom, last)))
    return ends


def next_report_form(latest_period_end: date, fiscal_year_end: str | None) -> str:
    """'10-K' when the quarter after ``latest_period_end`` closes the fiscal year, else '10-Q'.

    ``fiscal_year_end`` is SEC's MMDD (e.g. '0928'); unknown, the longer 10-K deadline is used.
    """
    if not fiscal_year_end or len(fiscal_year_end) != 4 or not fiscal_year_end.isdigit():
        return "10-K"
    next_end = latest_period_end + timedelta(days=round(period_lengths()[3].nominal_days))
    distance = min(abs((next_end - end).days) for end in _year_ends_near(next_end, fiscal_year_end))
    return "10-K" if distance <= YEAR_END_TOLERANCE_DAYS else "10-Q"


@dataclass(frozen=True)
class Freshness:
    """How a company's latest quarter compares with its filing cadence on ``as_of``."""

    latest_period_end: date | None
    next_form: str
    due_by: date | None
    as_of: date

    @property
    def days_overdue(self) -> int:
        if self.due_by is None:
            return 0
        return max(0, (self.as_of - self.due_by).days)

    @property
    def fresh(self) -> bool:
        return self.latest_period_end is not None and self.as_of <= self.due_by


def quarter_freshness(
    latest_period_end: date | None, fiscal_year_end: str | None, as_of: date
) -> Freshness:
    """The date by which the report after ``latest_period_end`` is due, and whether ``as_of``
    is past it. No latest quarter at all is never fresh."""
    if latest_period_end is None:
        return Freshness(None, "10-K", None, as_of)
    form = next_report_form(latest_period_end, fiscal_year_end)
    due = period_lengths()[3].max_days + (TEN_K_DUE_DAYS if form == "10-K" else TEN_Q_DUE_DAYS)
    return Freshness(latest_period_end, form, latest_period_end + timedelta(days=due), as_of)


def _latest_quarter_fresh(
    context: dg.AssetCheckExecutionContext, capex: CapexResource
) -> dg.AssetCheckResult:
    ticker = context.partition_key
    with capex.warehouse.connect() as con:
        latest = con.execute(latest_quarter_sql(), [ticker]).fetchone()[0]
        year_end = con.execute(
            "SELECT any_value(fiscal_year_end) FROM staging.companies WHERE ticker = ?", [ticker]
        ).fetchone()[0]
        listed = con.execute(NEWEST_LISTED_SQL, [ticker]).fetchone()
    result = quarter_freshness(latest, year_end, date.today())
    lagging = listed is not None and (latest is None or listed[2] > latest)
    metadata = {
        "latest_quarter_end": str(latest) if latest else "none",
        "fiscal_year_end": year_end or "unknown",
        "next_report": result.next_form,
        "due_by": str(result.due_by) if result.due_by else "n/a",
        "days_overdue": result.days_overdue,
    }
    if listed is not None:
        metadata["newest_listed_report"] = f"{listed[1]} {listed[0]} for {listed[2]}"
    if lagging:
        metadata["problem"] = (
            f"SEC lists {listed[1]} {listed[0]} for the period ending {listed[2]} but the facts "
            f"end at {latest or 'nothing'}: re-run company_refresh for {ticker}"
        )
    elif not result.fresh:
        metadata["problem"] = (
            f"no quarter after {latest} although its {result.next_form} was due by {result.due_by}"
            if latest
            else "no quarterly or annual facts from a 10-K or 10-Q"
        )
    return dg.AssetCheckResult(
        passed=result.fresh and not lagging,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def build_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    """The freshness check, one result per company partition of ``partitions``."""
    # A partitions_def on an asset check is a preview feature of Dagster 1.13, which warns so
    # at definition time.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        check = dg.asset_check(
            asset=FACTS,
            name="latest_quarter_fresh",
            partitions_def=partitions,
            additional_deps=[FILINGS, COMPANIES],
            description=(
                "The company's latest quarter in staging.facts is no older than its filing "
                "cadence allows (next quarter at most a longest quarter of period_lengths.csv "
                "later, its 10-Q due 40 days or its 10-K 60 days after), and no 10-K/10-Q listed "
                "in staging.filings covers a later period than the facts (warning)."
            ),
        )(_latest_quarter_fresh)
    return [check]
