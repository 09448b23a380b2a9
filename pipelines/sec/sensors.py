"""Sensors: new SEC filings launch a company's refresh; declarative automation does the rest.

``new_filing_sensor`` polls each company's SEC submissions (``/submissions/CIK##########.json``,
a conditional GET through :class:`~pipelines.sec.client.SecClient`, so an unchanged listing
costs a 304) every ``CAPEX_FILING_SENSOR_SECONDS`` and requests one ``company_refresh`` run for
each company with a 10-K, 10-Q or 8-K (or an amendment of one) it has not seen:

* its cursor keeps, per company, the latest filing date seen and the accessions filed that day,
  so it survives restarts of the UI and the daemon; with no cursor yet (first start, or after a
  reset) the baseline is what the published warehouse already holds (``staging.filings``), and a
  company absent from it counts as new;
* the run key is the newest new filing's accession: Dagster never launches two runs with the
  same key for one sensor, so one filing never triggers two runs, even if the cursor is lost.

SEC's per-company submissions are used rather than the latest-filings Atom feed
(``/cgi-bin/browse-edgar?action=getcurrent``): the feed only holds the last few hundred filings
of all filers, so a sensor stopped for a day would miss filings; the submissions list never does.

The SQL models, the published warehouse and the report then follow through declarative
automation (pipelines/orchestration/automation.py), so a company's new filing reaches the marts
without anyone pressing a button.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import dagster as dg
import duckdb
import polars as pl

from pipelines.core.config import Settings
from pipelines.core.http import FetchError
from pipelines.core.rawstore import RawStore
from pipelines.core.universe import Company
from pipelines.core.warehouse import Warehouse
from pipelines.sec.client import SecClient
from pipelines.sec.partitions import universe
from pipelines.sec.submissions import filings_frame

# Forms that can change a company's figures: annual and quarterly reports, current reports
# (earnings releases are 8-Ks) and their amendments.
TRIGGER_FORMS = ("10-K", "10-Q", "8-K", "10-K/A", "10-Q/A", "8-K/A")
CURSOR_VERSION = 1


@dataclass(frozen=True)
class Watermark:
    """The newest filing date seen for a company and the accessions seen on that date."""

    filed: date
    accessions: frozenset[str]

    def to_json(self) -> dict:
        return {"filed": self.filed.isoformat(), "accessions": sorted(self.accessions)}

    @classmethod
    def from_json(cls, data: dict) -> "Watermark":
        return cls(date.fromisoformat(data["filed"]), frozenset(data["accessions"]))


def parse_cursor(text: str | None) -> dict[str, Watermark]:
    """The per-company watermarks stored in a sensor cursor (empty for no cursor)."""
    if not text:
        return {}
    data = json.loads(text)
    if data.get("version") != CURSOR_VERSION:
        return {}
    return {ticker: Watermark.from_json(mark) for ticker, mark in data["companies"].items()}


def dump_cursor(marks: dict[str, Watermark]) -> str:
    """The sensor cursor for ``marks`` (compact JSON, stable order)."""
    companies = {ticker: marks[ticker].to_json() for ticker in sorted(marks)}
    return json.dumps({"version": CURSOR_VERSION, "companies": companies}, separators=(",", ":"))


def watermark_of(filings: pl.DataFrame) -> Watermark | None:
    """The watermark of a set of filings (columns accession, form, filed)."""
    relevant = filings.filter(pl.col("form").is_in(TRIGGER_FORMS))
    if relevant.is_empty():
        return None
    latest = relevant["filed"].max()
    on_latest = relevant.filter(pl.col("filed") == latest)["accession"]
    return Watermark(latest, frozenset(on_latest.to_list()))


def new_filings(
    filings: pl.DataFrame, mark: Watermark | None
) -> tuple[pl.DataFrame, Watermark | None]:
    """The 10-K/10-Q/8-K filings of ``filings`` newer than ``mark``, newest first, and the
    watermark after them. With no watermark every such filing is new."""
    relevant = filings.filter(pl.col("form").is_in(TRIGGER_FORMS))
    if mark is None:
        new = relevant
    else:
        new = relevant.filter(
            (pl.col("filed") > mark.filed)
            | ((pl.col("filed") == mark.filed) & ~pl.col("accession").is_in(list(mark.accessions)))
        )
    new = new.sort(["filed", "accession"], descending=True)
    after = watermark_of(new)
    if after is None:
        return new, mark
    if mark is not None and after.filed == mark.filed:
        after = Watermark(after.filed, after.accessions | mark.accessions)
    return new, after


def loaded_watermarks(warehouse: Warehouse) -> dict[str, Watermark]:
    """Per company, the watermark of the filings the published warehouse already holds."""
    try:
        with warehouse.reader() as con:
            frame = con.execute(
                "SELECT ticker, accession, form, filed FROM staging.filings "
                "WHERE list_contains(?, form)",
                [list(TRIGGER_FORMS)],
            ).pl()
    except (FileNotFoundError, duckdb.Error):
        return {}  # nothing published yet, or no staging.filings yet
    marks = {}
    for (ticker,), group in frame.group_by(["ticker"]):
        mark = watermark_of(group)
        if mark is not None:
            marks[ticker] = mark
    return marks


@dataclass(frozen=True)
class Poll:
    """What one poll of SEC found."""

    run_requests: list[dg.RunRequest]
    marks: dict[str, Watermark]
    errors: dict[str, str]


def poll_new_filings(
    settings: Settings,
    companies: Iterable[Company],
    marks: dict[str, Watermark],
    log: Callable[[str], None] = lambda _m: None,
) -> Poll:
    """Ask SEC for each company's submissions and request a run per company with new filings.

    ``marks`` are the cursor's watermarks; companies without one start from what the published
    warehouse holds. A company whose submissions cannot be fetched keeps its watermark and is
    reported in ``errors`` (ticker → message); the others go ahead.
    """
    client = SecClient(settings, RawStore(settings.raw_dir), log=log)
    companies = list(companies)
    baseline = (
        loaded_watermarks(Warehouse.from_settings(settings))
        if any(c.ticker not in marks for c in companies)
        else {}
    )
    marks = dict(marks)
    requests, errors = [], {}
    for company in companies:
        try:
            fetched = client.submissions(company.cik)
        except FetchError as exc:
            errors[company.ticker] = str(exc)
            continue
        filings = filings_frame(fetched.parsed, [], company.ticker, company.cik)
        new, after = new_filings(filings, marks.get(company.ticker, baseline.get(company.ticker)))
        if after is not None:
            marks[company.ticker] = after
        if new.is_empty():
            continue
        newest = new.row(0, named=True)
        log(
            f"{company.ticker}: {new.height} new filing(s), newest {newest['form']} "
            f"{newest['accession']} filed {newest['filed']}"
        )
        requests.append(
            dg.RunRequest(
                run_key=newest["accession"],
                partition_key=company.ticker,
                tags={
                    "capex/trigger": "new_filing",
                    "capex/accession": newest["accession"],
                    "capex/form": newest["form"],
                    "capex/new_filings": str(new.height),
                },
            )
        )
    return Poll(requests, marks, errors)


def build_new_filing_sensor(settings: Settings, job: dg.JobDefinition) -> dg.SensorDefinition:
    """The sensor that launches ``job`` (a company's refresh) for each company with a new filing."""

    @dg.sensor(
        name="new_filing_sensor",
        job=job,
        minimum_interval_seconds=settings.filing_sensor_seconds,
        default_status=(
            dg.DefaultSensorStatus.RUNNING if settings.autostart else dg.DefaultSensorStatus.STOPPED
        ),
        description=(
            "Polls each company's SEC submissions and launches company_refresh for a company "
            "with a new 10-K, 10-Q or 8-K (run key = the filing's accession, so one filing never "
            "triggers two runs). The SQL models, the published warehouse and the report follow "
            "through declarative automation (sensor capex_automation)."
        ),
    )
    def new_filing_sensor(context: dg.SensorEvaluationContext):
        if settings.offline:
            return dg.SkipReason("CAPEX_OFFLINE=1: not polling SEC")
        companies = list(universe(settings).values())
        marks = parse_cursor(context.cursor)
        poll = poll_new_filings(settings, companies, marks, context.log.info)
        for ticker, message in poll.errors.items():
            context.log.warning(f"{ticker}: submissions not checked: {message}")
        if len(poll.errors) == len(companies):
            raise RuntimeError(
                "could not fetch any company's SEC submissions: "
                + "; ".join(f"{t}: {m}" for t, m in poll.errors.items())
            )
        skip = None
        if not poll.run_requests:
            checked = len(companies) - len(poll.errors)
            skip = f"no new 10-K, 10-Q or 8-K for the {checked} companies checked"
        return dg.SensorResult(
            run_requests=poll.run_requests, cursor=dump_cursor(poll.marks), skip_reason=skip
        )

    return new_filing_sensor
