"""Each news claim against what the company filed: match, close, mismatch or unverifiable.

Pure functions over polars frames: the claims of :mod:`pipelines.news.claims`, and
``marts.metric_quarterly``, ``marts.segment_revenue`` and ``staging.int_metric_annual``.

* The filed value of a period is the sum of the company's discrete quarters inside it (one
  quarter, a half, nine months or a fiscal year: quarter four is the year minus nine months,
  so four quarters sum to the annual figure); a fiscal year the quarters do not cover is read
  from the annual report. Growth rates are filed value over the value a year (or quarter)
  before; operating margin is operating income over revenue. A segment figure is read from
  ``marts.segment_revenue`` only (its annual rows first, else its quarters), never from the
  company total; a group figure is the sum over its companies by calendar quarter.
* ``verdict``: 'match' when the claim is within 1% of the filed value or within its own
  rounding (half a unit of its last digit: "$52.5 billion" allows ±$0.05 billion), 'close'
  within 5%, else 'mismatch'. A bound ("more than $49 billion") or range matches when the filed
  value lies inside it (with rounding); otherwise the nearest end is compared. A claim with
  anything ``unresolved`` is never a 'mismatch' or 'close': it is 'unverifiable', and the
  explanation says what was not resolved. Also 'unverifiable': forecasts and guidance, a
  company, segment period or group member not filed, non-USD amounts, and a period whose
  fiscal and calendar readings give different filed values when the text names neither.
* ``explanation`` names the filed figure and its source, a definitional difference when one
  accounts for a gap (capex including finance-lease principal payments: a 'match' when the
  sentence itself says so; the other reading of fiscal versus calendar periods), and ends with
  the resolution steps of the claim.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from pipelines.core.tables import CLAIM_CHECKS
from pipelines.models.seed_tables import period_lengths
from pipelines.news.claims.schema import PERIOD_DOUBT, SUBJECT_UNRESOLVED

MATCH_TOLERANCE = 0.01
CLOSE_TOLERANCE = 0.05
_SLACK = timedelta(days=7)  # 52/53-week quarters end a few days off the month end

CHECK_SCHEMA = CLAIM_CHECKS.columns

# a figure stated by its own definition as capex including finance leases
_INCLUDES_LEASES = re.compile(r"including[^.;]*finance[- ]leases?|含融资租赁|包括融资租赁", re.I)
_GROUP_METRICS = {"capex", "revenue", "net_income", "operating_income"}
_NOT_FILED = {
    "market_cap": "market value is a market price, not a filed figure",
}


@dataclass(frozen=True)
class Filed:
    """A filed value over a window and where it came from."""

    value: float
    labels: list[tuple[int, int]]  # (fiscal_year, fiscal_quarter) of the quarters summed
    source: str


def _calendar_quarter_end(year: int, quarter: int) -> date:
    return {1: date(year, 3, 31), 2: date(year, 6, 30), 3: date(year, 9, 30)}.get(
        quarter, date(year, 12, 31)
    )


def _quarter_count(start: date, end: date) -> int:
    return max(1, round(((end - start).days + 1) / period_lengths()[3].nominal_days))


def _fmt(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e9:,.3f} billion"
    if abs(value) < 10:
        return f"{value * 100:.2f}%"
    return f"{value:,.0f}"


class FiledValues:
    """Look-ups into the marts for one run of checks."""

    def __init__(
        self,
        metric_quarterly: pl.DataFrame,
        segment_revenue: pl.DataFrame | None,
        metric_annual: pl.DataFrame | None = None,
    ):
        self.quarters: dict[tuple[str, str], list[dict]] = {}
        for row in metric_quarterly.iter_rows(named=True):
            self.quarters.setdefault((row["ticker"], row["metric"]), []).append(row)
        # fiscal years as filed (staging.int_metric_annual, company totals): companies whose
        # recorded filings are annual reports only have no quarters to sum
        self.years: dict[tuple[str, str], list[dict]] = {}
        if metric_annual is not None:
            for row in metric_annual.filter(pl.col("segment") == "").iter_rows(named=True):
                self.years.setdefault((row["ticker"], row["metric"]), []).append(row)
        self.tickers = {t for t, _ in self.quarters} | {t for t, _ in self.years}
        self.segments: dict[tuple[str, str], list[dict]] = {}
        if segment_revenue is not None:
            for row in segment_revenue.iter_rows(named=True):
                self.segments.setdefault((row["ticker"], row["segment"]), []).append(row)
        self.segment_tickers = {t for t, _ in self.segments}

    def _rows(self, ticker, metric, start, end, basis) -> list[dict]:
        rows = self.quarters.get((ticker, metric), [])
        if basis == "calendar":
            return [
                r
                for r in rows
                if r["calendar_year"] is not None
                and start <= _calendar_quarter_end(r["calendar_year"], r["calendar_quarter"]) <= end
            ]
        return [
            r
            for r in rows
            if start - _SLACK <= r["period_end"] <= end + _SLACK
            and r["period_start"] >= start - _SLACK
        ]

    def sum(self, ticker, metric, start, end, basis) -> Filed | str:
        """The filed value of ``metric`` over the window, or why there is none."""
        rows = self._rows(ticker, metric, start, end, basis)
        needed = _quarter_count(start, end)
        if len(rows) != needed and basis == "fiscal":
            year = self._year(ticker, metric, start, end)
            if year is not None:
                return year
        if len(rows) != needed:
            return (
                f"the filings cover {len(rows)} of the {needed} quarter(s) of {metric} "
                f"from {start} to {end}"
            )
        rows.sort(key=lambda r: r["period_end"])
        value = sum(float(r["value"]) for r in rows)
        if len(rows) == 1:
            r = rows[0]
            source = (
                f"{r['concept']} for {r['period_start']} to {r['period_end']} "
                f"({r['derivation']}; accession {r['accession']}, filed {r['filed']})"
            )
        else:
            concepts = ", ".join(sorted({r["concept"] for r in rows}))
            source = (
                f"sum of {len(rows)} quarters {rows[0]['period_start']} to "
                f"{rows[-1]['period_end']} ({concepts}; "
                f"{', '.join(sorted({r['derivation'] for r in rows}))})"
            )
        labels = [(r["fiscal_year"], r["fiscal_quarter"]) for r in rows]
        return Filed(value, labels, source)

    def _year(self, ticker, metric, start, end) -> Filed | None:
        """The fiscal year filed for exactly this window, if any."""
        for r in self.years.get((ticker, metric), []):
            if (
                abs((r["period_start"] - start).days) <= 7
                and abs((r["period_end"] - end).days) <= 7
            ):
                return Filed(
                    float(r["value"]),
                    [],
                    f"{r['concept']} for {r['period_start']} to {r['period_end']} "
                    f"(annual report; accession {r['accession']}, filed {r['filed']})",
                )
        return None

    def shifted(self, ticker, metric, filed: Filed, by: str) -> Filed | str:
        """The same quarters a year (or one quarter) before ``filed``'s."""
        step = 4 if by == "year" else 1
        wanted = []
        for fy, fq in filed.labels:
            index = fy * 4 + (fq - 1) - step
            wanted.append((index // 4, index % 4 + 1))
        rows = [
            r
            for r in self.quarters.get((ticker, metric), [])
            if (r["fiscal_year"], r["fiscal_quarter"]) in wanted
        ]
        if len(rows) != len(wanted):
            return f"the filings lack the {metric} of the period a {by} before"
        value = sum(float(r["value"]) for r in rows)
        return Filed(
            value, wanted, f"{len(rows)} quarter(s) ending {max(r['period_end'] for r in rows)}"
        )

    def segment(self, ticker, segment, start, end) -> Filed | str:
        rows = self.segments.get((ticker, segment), [])
        exact = [
            r
            for r in rows
            if abs((r["period_start"] - start).days) <= 7 and abs((r["period_end"] - end).days) <= 7
        ]
        if exact:
            r = max(exact, key=lambda r: r["period_end"] - r["period_start"])
            return Filed(
                float(r["revenue"]),
                [],
                f"segment revenue {segment} {r['period_start']} to {r['period_end']} "
                f"(accession {r.get('accession')}, filed {r.get('filed')})",
            )
        parts = [
            r
            for r in rows
            if r.get("fiscal_quarter") is not None
            and start - _SLACK <= r["period_end"] <= end + _SLACK
            and r["period_start"] >= start - _SLACK
        ]
        needed = _quarter_count(start, end)
        if len(parts) == needed:
            return Filed(
                sum(float(r["revenue"]) for r in parts),
                [],
                f"sum of {needed} quarters of segment revenue {segment}",
            )
        if not rows:
            return f"no filed revenue for segment {segment!r} of {ticker} in the filings"
        kinds = (
            "fiscal years only"
            if all(r.get("fiscal_quarter") is None for r in rows)
            else ("other periods")
        )
        return (
            f"segment revenue for this period not in the filings: {segment!r} of {ticker} "
            f"from {start} to {end} (filed for {kinds}); never checked against the company total"
        )

    def segment_yoy(self, ticker, segment, start, end) -> Filed | str:
        current = self.segment(ticker, segment, start, end)
        if isinstance(current, str):
            return current
        before = self.segment(
            ticker, segment, start - timedelta(days=364), end - timedelta(days=364)
        )
        if isinstance(before, str):
            return f"{before} a year earlier"
        return Filed(current.value / before.value - 1, [], f"{current.source} over a year before")


def judge(
    claimed: float, low: float | None, high: float | None, precision: float, filed: float
) -> tuple[str, float]:
    """(verdict, deviation) of a claim against a filed value; deviation is a signed fraction."""
    scale = abs(filed) if filed else 1.0
    tolerance = max(precision or 0.0, 0.0) * (1 + 1e-9)
    if low is not None or high is not None:
        lo = -math.inf if low is None else low - tolerance
        hi = math.inf if high is None else high + tolerance
        if lo <= filed <= hi:
            return "match", (claimed - filed) / scale
        target = low if (low is not None and filed < lo) else high
        deviation = (target - filed) / scale
    else:
        difference = claimed - filed
        deviation = difference / scale
        if abs(deviation) <= MATCH_TOLERANCE or abs(difference) <= tolerance:
            return "match", deviation
    if abs(deviation) <= CLOSE_TOLERANCE:
        return "close", deviation
    return "mismatch", deviation


def check_claims(
    claims: pl.DataFrame,
    metric_quarterly: pl.DataFrame,
    segment_revenue: pl.DataFrame | None = None,
    metric_annual: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per claim (columns :data:`CHECK_SCHEMA`); ``metric_annual`` (rows of
    staging.int_metric_annual) gives fiscal years the quarters do not cover."""
    filed = FiledValues(metric_quarterly, segment_revenue, metric_annual)
    rows = [_check(claim, filed) for claim in claims.iter_rows(named=True)]
    return pl.DataFrame(rows, schema=CHECK_SCHEMA, orient="row")


def _row(claim: dict, claimed, filed, deviation, verdict: str, explanation: str) -> tuple:
    """A claim_checks row; the explanation ends with how the claim was resolved."""
    if claim.get("resolution"):
        explanation = f"{explanation}. Resolution: {claim['resolution']}"
    return (
        claim["claim_id"],
        claim["ticker"],
        claim["metric"],
        claim["period_start"],
        claim["period_end"],
        claimed,
        filed,
        deviation,
        verdict,
        explanation,
        claim.get("segment"),
        claim.get("low"),
        claim.get("high"),
        claim.get("group_tickers"),
        claim.get("confidence"),
    )


def _no_usd_value(claim: dict) -> str:
    """Why a money claim has no USD value: no exchange rate for its currency and day."""
    currency, published = claim["currency"], claim["published_at"]
    if currency and currency != "USD":
        day = published.date().isoformat() if published else "an unknown publication date"
        return f"no exchange rate for {currency} on {day}"
    return claim["note"] or "no USD value"


def _unverifiable(claim: dict, claimed, why: str) -> tuple:
    return _row(claim, claimed, None, None, "unverifiable", why)


def _filed_for(claim: dict, filed: FiledValues, start, end, basis) -> Filed | str:
    ticker, metric, segment = claim["ticker"], claim["metric"], claim["segment"]
    if segment:
        if metric == "revenue":
            return filed.segment(ticker, segment, start, end)
        if metric == "revenue_yoy":
            return filed.segment_yoy(ticker, segment, start, end)
        return f"{metric} of segment {segment} is not checked"
    if metric.endswith(("_yoy", "_qoq")):
        base, by = metric[:-4], ("year" if metric.endswith("_yoy") else "quarter")
        current = filed.sum(ticker, base, start, end, basis)
        if isinstance(current, str):
            return current
        if current.labels:
            before = filed.shifted(ticker, base, current, by)
        else:  # a fiscal year from the annual reports
            year_ago = timedelta(days=364)
            before = filed._year(ticker, base, start - year_ago, end - year_ago) or (
                f"the filings lack the {base} of the period a {by} before"
            )
        if isinstance(before, str):
            return before
        if before.value == 0:
            return f"the {base} of the period a {by} before is zero: no growth rate"
        return Filed(
            current.value / before.value - 1,
            current.labels,
            f"{base} {_fmt(current.value)} ({current.source}) over {_fmt(before.value)} "
            f"a {by} before",
        )
    if metric == "operating_margin":
        income = filed.sum(ticker, "operating_income", start, end, basis)
        revenue = filed.sum(ticker, "revenue", start, end, basis)
        if isinstance(income, str) or isinstance(revenue, str):
            return income if isinstance(income, str) else revenue
        return Filed(income.value / revenue.value, income.labels, "operating income / revenue")
    return filed.sum(ticker, metric, start, end, basis)


def _check(claim: dict, filed: FiledValues) -> tuple:
    is_money = claim["unit"] == "money"
    claimed = claim["value_usd"] if is_money else claim["value"]
    why = _not_checkable(claim, filed, claimed)
    if why is not None:
        return _unverifiable(claim, claimed, why)
    start, end, basis = claim["period_start"], claim["period_end"], claim["period_basis"]
    if claim["ticker"] is None:
        found = _group_filed(claim, filed, start, end)
    else:
        found = _filed_for(claim, filed, start, end, basis)
    if isinstance(found, str):
        if claim["note"]:
            found = f"{found}. Claim read as: {claim['note']}"
        return _unverifiable(claim, claimed, found)
    rate = claim["value_usd"] / claim["value"] if is_money and claim["value"] else 1.0
    low = claim["low"] * rate if claim["low"] is not None else None
    high = claim["high"] * rate if claim["high"] is not None else None
    precision = claim["precision_usd"] or 0.0
    doubts = [d for d in (claim.get("unresolved") or "").split("; ") if d]
    if claim["ticker"] is not None and any(d.startswith(PERIOD_DOUBT) for d in doubts):
        alt = _other_reading(claim, filed, found)
        if alt is not None:
            return _unverifiable(claim, claimed, _ambiguous_period(claim, found, alt))
        # both readings of the period give the same filed value: nothing is ambiguous
        doubts = [d for d in doubts if not d.startswith(PERIOD_DOUBT)]
    verdict, deviation = judge(claimed, low, high, precision, found.value)
    explanation = f"filed {_fmt(found.value)}: {found.source}"
    if verdict != "match" and claim["ticker"] is not None:
        leases = _capex_with_leases(claim, filed, found, claimed, low, high, precision)
        alt = _other_reading(claim, filed, found)
        if leases is not None:
            # the gap is a definition, not an error: a match when the sentence says so
            verdict = "match" if _INCLUDES_LEASES.search(claim["sentence"] or "") else "close"
            explanation = leases
        elif alt is not None and judge(claimed, low, high, precision, alt.value)[0] == "match":
            explanation = _other_reading_matches(claim, found, alt)
    if verdict != "match" and doubts:
        explanation = (
            f"not fully resolved ({'; '.join(doubts)}), so no {verdict} is claimed; {explanation}"
        )
        verdict = "unverifiable"
    if claim["note"]:
        explanation = f"{explanation}. Claim read as: {claim['note']}"
    return _row(claim, claimed, found.value, deviation, verdict, explanation)


def _not_checkable(claim: dict, filed: FiledValues, claimed) -> str | None:
    """Why a claim cannot be checked at all, or None."""
    if claim["forecast"]:
        return "forecast or guidance: nothing filed covers it yet"
    if claim["ticker"] is None and not claim.get("group_tickers"):
        why = claim["note"] if claim["note"] and "several companies" in claim["note"] else None
        return why or "no company could be tied to the figure: not checked"
    if claim["metric"] in _NOT_FILED:
        return _NOT_FILED[claim["metric"]]
    if SUBJECT_UNRESOLVED in (claim.get("unresolved") or ""):
        return claim["unresolved"]
    if claim["unit"] == "money" and claim["currency"] not in (None, "USD"):
        why = (
            f"a {claim['currency']} amount: the filings report USD, and the figure depends on "
            "the exchange rate the writer used"
        )
        # without an ECB rate for the day (issue 12), say that first
        return why if claimed is not None else f"{_no_usd_value(claim)}; {why}"
    if claim["ticker"] is not None:
        loaded = filed.segment_tickers if claim["segment"] else filed.tickers
        if claim["ticker"] not in loaded:
            what = "segment revenue" if claim["segment"] else "filings"
            return f"{claim['ticker']} {what} not loaded in the warehouse: nothing to check"
    if claim["period_start"] is None:
        return claim["note"] or "no period could be resolved"
    if claimed is None:
        return _no_usd_value(claim)
    return None


def _group_filed(claim: dict, filed: FiledValues, start, end) -> Filed | str:
    """The sum over a group's companies of the metric in the calendar quarters of the claim
    (companies with other fiscal years are counted by the calendar quarter nearest theirs)."""
    members = claim["group_tickers"].split(",")
    if claim["segment"] or claim["metric"] not in _GROUP_METRICS:
        return f"{claim['metric']} of a group of companies is not checked"
    total, sources = 0.0, []
    for ticker in members:
        part = filed.sum(ticker, claim["metric"], start, end, "calendar")
        if isinstance(part, str):  # a fiscal year that is the calendar year, from a 10-K
            part = filed._year(ticker, claim["metric"], start, end) or part
        if isinstance(part, str):
            return (
                f"group total of {', '.join(members)}: {ticker} has no filed {claim['metric']} "
                f"for the calendar period {start} to {end}"
            )
        total += part.value
        sources.append(f"{ticker} {_fmt(part.value)}")
    return Filed(total, [], "sum over the group by calendar quarters: " + ", ".join(sources))


def _capex_with_leases(
    claim, filed: FiledValues, found: Filed, claimed, low, high, precision
) -> str | None:
    """An explanation when capex including finance-lease principal payments matches the claim."""
    ticker, metric = claim["ticker"], claim["metric"]
    start, end, basis = claim["period_start"], claim["period_end"], claim["period_basis"]
    if metric != "capex" or claim["segment"]:
        return None
    leases = filed.sum(ticker, "finance_lease_principal_payments", start, end, basis)
    if isinstance(leases, str):
        return None
    total = found.value + leases.value
    if judge(claimed, low, high, precision, total)[0] != "match":
        return None
    return (
        f"definitional difference: the claim matches capex including finance-lease "
        f"principal payments ({_fmt(found.value)} purchases of property and "
        f"equipment + {_fmt(leases.value)} finance-lease principal = "
        f"{_fmt(total)}); filed capex alone is {_fmt(found.value)}: {found.source}"
    )


def _other_reading(claim, filed: FiledValues, found: Filed) -> Filed | None:
    """The filed value under the other reading of the period (fiscal labels read as calendar
    quarters, or the reverse) when it differs from ``found``, else None."""
    if not found.labels or claim["segment"]:
        return None
    start, end, basis = claim["period_start"], claim["period_end"], claim["period_basis"]
    other = "calendar" if basis == "fiscal" else "fiscal"
    if other == "calendar":
        first, last = found.labels[0], found.labels[-1]
        alt_start = _calendar_quarter_end(first[0], first[1]) - timedelta(days=89)
        alt_start = alt_start.replace(day=1)
        alt_end = _calendar_quarter_end(last[0], last[1])
    else:
        alt_start, alt_end = start, end
    alt = _alt_filed(claim, filed, alt_start, alt_end, other, found)
    if isinstance(alt, str) or abs(alt.value - found.value) <= 1e-9 * abs(found.value):
        return None
    return Filed(alt.value, alt.labels, alt.source)


def _reading(claim, alt: Filed) -> str:
    quarters = ", ".join(f"FY{y} Q{q}" for y, q in alt.labels)
    if claim["period_basis"] == "fiscal":
        return f"calendar reading, {claim['ticker']} fiscal {quarters}"
    return f"fiscal reading, calendar {quarters}"


def _other_reading_matches(claim, found: Filed, alt: Filed) -> str:
    return (
        f"fiscal versus calendar period: read as {claim['period_basis']} "
        f"({claim['period_start']} to {claim['period_end']}) the filed value is "
        f"{_fmt(found.value)}; the claim matches the {_reading(claim, alt)}: "
        f"{_fmt(alt.value)} ({alt.source})"
    )


def _ambiguous_period(claim, found: Filed, alt: Filed) -> str:
    return (
        f"fiscal versus calendar period: the text names no basis, and the readings differ: "
        f"read as {claim['period_basis']} ({claim['period_start']} to {claim['period_end']}) "
        f"the filed value is {_fmt(found.value)} ({found.source}); the {_reading(claim, alt)} "
        f"gives {_fmt(alt.value)} ({alt.source})"
    )


def _alt_filed(claim, filed: FiledValues, start, end, basis, found: Filed) -> Filed | str:
    if basis == "fiscal":
        # calendar quarters (y, q) read as the company's fiscal (y, q)
        rows = filed._rows(claim["ticker"], claim["metric"], start, end, "calendar")
        labels = sorted({(r["calendar_year"], r["calendar_quarter"]) for r in rows})
        wanted = [
            r
            for r in filed.quarters.get((claim["ticker"], claim["metric"]), [])
            if (r["fiscal_year"], r["fiscal_quarter"]) in labels
        ]
        if len(wanted) != len(labels) or not wanted:
            return "no fiscal reading"
        return Filed(
            sum(float(r["value"]) for r in wanted),
            labels,
            "fiscal quarters " + ", ".join(f"FY{y} Q{q}" for y, q in labels),
        )
    return _filed_for(claim, filed, start, end, basis)
