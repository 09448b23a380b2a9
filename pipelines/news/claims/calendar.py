"""A company's fiscal quarters, as the warehouse's calendar table ``staging.int_fiscal_quarters``
(built by ``sql/staging/int_fiscal_quarters.sql``) dates them.

The table is the one home of fiscal quarters: the claims read it and compute none of their own
where it has the answer. Only a quarter no filing covers (a company not loaded, a quarter not
over yet that guidance speaks of, years before the first filing) falls back to nominal month
ends counted from the month the company's fiscal year ends in, itself read from the table's
quarter ends (December when the company has no rows).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


@dataclass
class FiscalCalendar:
    """A company's fiscal quarters: exact dates from the calendar table, else (no filing covers
    the quarter) nominal month ends from the month its fiscal year ends in. Fiscal years are
    labelled by the calendar year they end in (NVIDIA's fiscal 2025 ended 2025-01-26)."""

    fye_month: int = 12
    quarters: dict[tuple[int, int], tuple[date, date]] = field(default_factory=dict)

    @property
    def is_calendar(self) -> bool:
        """Whether the fiscal year is the calendar year."""
        return self.fye_month == 12

    def quarter(self, fiscal_year: int, fiscal_quarter: int) -> tuple[date, date]:
        """(start, end) of a fiscal quarter."""
        if (fiscal_year, fiscal_quarter) in self.quarters:
            return self.quarters[(fiscal_year, fiscal_quarter)]
        return self._nominal_quarter(fiscal_year, fiscal_quarter)

    def _nominal_quarter(self, fiscal_year: int, fiscal_quarter: int) -> tuple[date, date]:
        # fallback: no filing dates this quarter
        end_y, end_m = _add_months(fiscal_year, self.fye_month, -3 * (4 - fiscal_quarter))
        start_y, start_m = _add_months(end_y, end_m, -2)
        start = date(start_y, start_m, 1)
        previous = self.quarters.get(
            (fiscal_year, fiscal_quarter - 1) if fiscal_quarter > 1 else (fiscal_year - 1, 4)
        )
        if previous is not None:
            start = previous[1] + timedelta(days=1)
        return start, _month_end(end_y, end_m)

    def fiscal_year_of(self, day: date) -> int:
        """The fiscal year a day falls in."""
        for (fiscal_year, _), (start, end) in self.quarters.items():
            if start <= day <= end:
                return fiscal_year
        # fallback: no filed quarter holds the day
        year = day.year if day.month <= self.fye_month else day.year + 1
        start, _ = self.quarter(year, 1)
        _, end = self.quarter(year, 4)
        if day > end:
            return year + 1
        if day < start:
            return year - 1
        return year

    @classmethod
    def from_quarters(cls, rows: Iterable[tuple[int, int, date, date]]) -> FiscalCalendar:
        """From (fiscal_year, fiscal_quarter, period_start, period_end) rows of the table."""
        quarters = {(fy, fq): (start, end) for fy, fq, start, end in rows}
        votes: list[int] = []
        for (_fy, fq), (_start, end) in quarters.items():
            # the month whose end is nearest the quarter's end (52/53-week years end a few
            # days before or after it), carried forward to the fourth quarter
            month = ((end + timedelta(days=15)).replace(day=1) - timedelta(days=1)).month
            votes.append((month - 1 + 3 * (4 - fq)) % 12 + 1)
        month = max(set(votes), key=votes.count) if votes else 12
        return cls(month, quarters)


def fiscal_calendars(fiscal_quarters: pl.DataFrame | None) -> dict[str, FiscalCalendar]:
    """Each company's calendar from rows of ``staging.int_fiscal_quarters`` (columns ticker,
    fiscal_year, fiscal_quarter, period_start, period_end; ``marts.metric_quarterly`` rows
    carry the same columns)."""
    if fiscal_quarters is None or fiscal_quarters.height == 0:
        return {}
    quarters = fiscal_quarters.select(
        "ticker", "fiscal_year", "fiscal_quarter", "period_start", "period_end"
    ).unique(["ticker", "fiscal_year", "fiscal_quarter"], keep="first", maintain_order=True)
    calendars = {}
    for (ticker,), group in quarters.group_by(["ticker"], maintain_order=True):
        calendars[ticker] = FiscalCalendar.from_quarters(group.drop("ticker").iter_rows())
    return calendars


CALENDAR_YEAR = FiscalCalendar(12)
