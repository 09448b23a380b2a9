"""Each news claim against what the company filed: match, close, mismatch or unverifiable.

Pure functions over polars frames: the claims of :mod:`pipelines.news.claims`, and
the marts ``marts.metric_quarterly`` and ``marts.segment_revenue``.

* The filed value of a period is the sum of the company's discrete quarters inside it (one
  quarter, a half, nine months or a fiscal year: quarter four is the year minus nine months,
  so four quarters sum to the annual figure). A period the quarters do not fully cover is
  unverifiable. Growth rates are filed value over the value a year (or quarter) before;
  operating margin is operating income over revenue; segment revenue is read from
  ``marts.segment_revenue`` (its annual rows first, else its quarters).
* ``verdict``: 'match' when the claim is within 1% of the filed value or within its own
  rounding (half a unit of its last digit: "$52.5 billion" allows ±$0.05 billion), 'close'
  within 5%, else 'mismatch'. A bound ("more than $49 billion") or range matches when the filed
  value lies inside it (with rounding); otherwise the nearest end is compared.
  'unverifiable' when nothing filed covers the claim: forecasts and guidance, a company not
  loaded, a figure for several companies together, a period the filings do not cover.
* ``explanation`` names the filed figure and its source, and, when one accounts for a gap, a
  definitional difference: capex including finance-lease principal payments, or the other
  reading of fiscal versus calendar periods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from pipelines.core.tables import CLAIM_CHECKS
from pipelines.models.seed_tables import period_lengths

MATCH_TOLERANCE = 0.01
CLOSE_TOLERANCE = 0.05
_SLACK = timedelta(days=7)  # 52/53-week quarters end a few days off the month end

CHECK_SCHEMA = CLAIM_CHECKS.columns

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

    def __init__(self, metric_quarterly: pl.DataFrame, segment_revenue: pl.DataFrame | None):
        self.quarters: dict[tuple[str, str], list[dict]] = {}
        for row in metric_quarterly.iter_rows(named=True):
            self.quarters.setdefault((row["ticker"], row["metric"]), []).append(row)
        self.tickers = {t for t, _ in self.quarters}
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
            return f"no filed revenue for segment {segment!r} of {ticker}"
        return f"no filed revenue for segment {segment!r} of {ticker} from {start} to {end}"

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
) -> pl.DataFrame:
    """One row per claim (columns :data:`CHECK_SCHEMA`)."""
    filed = FiledValues(metric_quarterly, segment_revenue)
    rows = [_check(claim, filed) for claim in claims.iter_rows(named=True)]
    return pl.DataFrame(rows, schema=CHECK_SCHEMA, orient="row")


def _unverifiable(claim: dict, claimed, why: str) -> tuple:
    return (
        claim["claim_id"],
        claim["ticker"],
        claim["metric"],
        claim["period_start"],
        claim["period_end"],
        claimed,
        None,
        None,
        "unverifiable",
        why,
    )


def _no_usd_value(claim: dict) -> str:
    """Why a money claim has no USD value: no exchange rate for its currency and day."""
    currency, published = claim["currency"], claim["published_at"]
    if currency and currency != "USD":
        day = published.date().isoformat() if published else "an unknown publication date"
        return f"no exchange rate for {currency} on {day}"
    return claim["note"] or "no USD value"


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
        before = filed.shifted(ticker, base, current, by)
        if isinstance(before, str):
            return before
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
    if claim["forecast"]:
        return _unverifiable(claim, claimed, "forecast or guidance: nothing filed covers it yet")
    if claim["ticker"] is None:
        why = claim["note"] if claim["note"] and "several companies" in claim["note"] else None
        return _unverifiable(
            claim, claimed, why or "no company could be tied to the figure: not checked"
        )
    if claim["metric"] in _NOT_FILED:
        return _unverifiable(claim, claimed, _NOT_FILED[claim["metric"]])
    loaded = filed.segment_tickers if claim["segment"] else filed.tickers
    if claim["ticker"] not in loaded:
        return _unverifiable(
            claim, claimed, f"{claim['ticker']} is not loaded in the warehouse: nothing to check"
        )
    if claim["period_start"] is None:
        return _unverifiable(claim, claimed, claim["note"] or "no period could be resolved")
    if claimed is None:
        return _unverifiable(claim, claimed, _no_usd_value(claim))
    start, end, basis = claim["period_start"], claim["period_end"], claim["period_basis"]
    found = _filed_for(claim, filed, start, end, basis)
    if isinstance(found, str):
        return _unverifiable(claim, claimed, found)
    rate = claim["value_usd"] / claim["value"] if is_money and claim["value"] else 1.0
    low = claim["low"] * rate if claim["low"] is not None else None
    high = claim["high"] * rate if claim["high"] is not None else None
    precision = claim["precision_usd"] or 0.0
    verdict, deviation = judge(claimed, low, high, precision, found.value)
    explanation = f"filed {_fmt(found.value)}: {found.source}"
    if verdict != "match":
        explanation = _definitional(claim, filed, found, claimed, low, high, precision) or (
            explanation
        )
    if claim["note"]:
        explanation = f"{explanation}. Claim read as: {claim['note']}"
    return (
        claim["claim_id"],
        claim["ticker"],
        claim["metric"],
        start,
        end,
        claimed,
        found.value,
        deviation,
        verdict,
        explanation,
    )


def _definitional(claim, filed: FiledValues, found: Filed, claimed, low, high, precision):
    """An explanation when a known definitional difference accounts for the gap, else None."""
    ticker, metric = claim["ticker"], claim["metric"]
    start, end, basis = claim["period_start"], claim["period_end"], claim["period_basis"]
    if metric == "capex" and not claim["segment"]:
        leases = filed.sum(ticker, "finance_lease_principal_payments", start, end, basis)
        if isinstance(leases, Filed):
            total = found.value + leases.value
            if judge(claimed, low, high, precision, total)[0] == "match":
                return (
                    f"definitional difference: the claim matches capex including finance-lease "
                    f"principal payments ({_fmt(found.value)} purchases of property and "
                    f"equipment + {_fmt(leases.value)} finance-lease principal = "
                    f"{_fmt(total)}); filed capex alone is {_fmt(found.value)}: {found.source}"
                )
    # the other reading of the period: fiscal labels as calendar quarters, or the reverse
    if found.labels and not claim["segment"]:
        other = "calendar" if basis == "fiscal" else "fiscal"
        if other == "calendar":
            first, last = found.labels[0], found.labels[-1]
            alt_start = _calendar_quarter_end(first[0], first[1]) - timedelta(days=89)
            alt_start = alt_start.replace(day=1)
            alt_end = _calendar_quarter_end(last[0], last[1])
        else:
            alt_start, alt_end = start, end
        alt = _alt_filed(claim, filed, alt_start, alt_end, other, found)
        differs = isinstance(alt, Filed) and abs(alt.value - found.value) > 1e-9 * abs(found.value)
        if differs and judge(claimed, low, high, precision, alt.value)[0] == "match":
            quarters = ", ".join(f"FY{y} Q{q}" for y, q in alt.labels)
            reading = (
                f"calendar reading, {ticker} fiscal {quarters}"
                if other == "calendar"
                else f"fiscal reading, calendar {quarters}"
            )
            return (
                f"fiscal versus calendar period: read as {basis} "
                f"({start} to {end}) the filed value is {_fmt(found.value)}; the claim "
                f"matches the {reading}: {_fmt(alt.value)} ({alt.source})"
            )
    return None


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
