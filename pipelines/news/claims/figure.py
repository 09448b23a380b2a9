"""A figure of a sentence while it is being resolved into a claim."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.news.claims.periods import Period, PeriodSpec


@dataclass
class Figure:
    """One row of ``staging.news_numbers`` and what the resolver has decided about it."""

    position: int
    end: int
    text: str
    value: float
    low: float | None
    high: float | None
    unit: str
    currency: str | None
    precision: float
    change: bool
    qualifier: str | None = None  # "more than", "nearly", "超过" ... as written
    metric: str | None = None
    segment: str | None = None
    ticker: str | None = None
    aggregate: list[str] | None = None
    group: str | None = None  # the group phrase ("the Magnificent Seven") when it is the subject
    group_exact: bool = False  # whether the aggregate's members are certain
    spec: PeriodSpec | None = None  # the period phrase taken (none for a comparative)
    period: Period | None = None
    forecast: bool = False
    notes: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # how each part was resolved, for people
    doubts: list[str] = field(default_factory=list)  # why a mismatch could not be trusted
    confidence: float = 1.0

    def doubt(self, why: str, factor: float) -> None:
        """Record an unresolved point: the claim may still match, never be called a mismatch."""
        self.doubts.append(why)
        self.confidence *= factor

    @property
    def is_level_money(self) -> bool:
        """A level (not a change) that may be an amount of money."""
        return self.unit in {"money", "count"} and not self.change

    @classmethod
    def from_number(cls, row: dict) -> Figure:
        """From a ``staging.news_numbers`` row."""
        return cls(
            position=row["position"],
            end=row["position"] + len(row["text"]),
            text=row["text"],
            value=row["value"],
            low=row["low"],
            high=row["high"],
            unit=row["unit"],
            currency=row["currency"],
            precision=row["precision"],
            change=bool(row["change"]),
            qualifier=row.get("qualifier"),
        )
