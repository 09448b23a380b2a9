"""Period phrases ("second quarter", "Q2 FY25", "2025财年第二季度", "the same period last year")
→ dates, resolved against the publication date and the company's fiscal calendar."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from pipelines.news.claims.calendar import CALENDAR_YEAR, FiscalCalendar

_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4,
}  # fmt: skip


@dataclass(frozen=True)
class PeriodSpec:
    """A period phrase before resolution."""

    start: int
    end: int
    kind: str  # 'quarter' | 'half' | 'nine_months' | 'year' | 'comparative'
    index: int | None = None  # quarter or half number
    year: int | None = None  # as written (fiscal label unless calendar)
    relative: int | None = None  # 0 this, -1 last, +1 next (when no year is written)
    basis: str | None = None  # 'fiscal' | 'calendar' when the text says so
    shift: str | None = None  # comparative: 'year' | 'quarter'


def _year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return value + 2000 if value < 100 else value


_Q_WORD = r"(first|second|third|fourth|1st|2nd|3rd|4th)"
_Q_YEAR = r"'?(?P<y{n}>\d{{4}}|(?<=FY)\d{{2}})"
_PERIOD_TABLE = [
    # comparatives first: "the same period last year" is not "last year"
    (
        r"(?:the )?same (?:period|quarter) "
        r"(?:a year (?:earlier|ago)|last year|of (?:the )?(?:last|previous|prior) year)"
        r"|a year (?:earlier|ago|before)|(?:the )?year[- ]ago (?:period|quarter)"
        r"|(?:the )?prior[- ]year (?:period|quarter)|去年同期|上年同期",
        "comparative_year",
    ),
    (
        r"(?:the )?(?:previous|prior|preceding) quarter|上季度|上一季度|上个季度",
        "comparative_quarter",
    ),
    (r"(?P<fy1>\d{2,4})\s*财年\s*第?(?P<q1>[一二三四1-4])\s*(?:财季|季度)", "zh_fq"),
    (r"(?P<y1>\d{4})\s*(?:自然)?年\s*第?(?P<q1>[一二三四1-4])\s*季度", "zh_q"),
    (r"第?(?P<q1>[一二三四1-4])\s*财季", "zh_fq_noyear"),
    (r"第(?P<q1>[一二三四1-4])季度|(?P<q2>[一二三四])季度", "zh_q_noyear"),
    (r"(?P<fy1>\d{4})\s*财年(?:全年)?|(?P<fy2>\d{4})\s*财政年度", "zh_fy"),
    (r"(?P<y1>\d{4})\s*(?:年|全年)(?!\d)", "zh_y"),
    (r"上半年|下半年", "zh_half"),
    (r"前三(?:个)?季度", "zh_9m"),
    (r"今年|本年度", "zh_this_year"),
    (r"去年|上一年|上年", "zh_last_year"),
    (r"明年", "zh_next_year"),
    (r"本季度|当季|该季度", "zh_this_quarter"),
    # English quarters with a year: "fiscal 2025 second quarter", "second quarter of fiscal
    # 2025", "2024 second quarter"
    (
        rf"(?P<fy1>fiscal|FY)\s*(?:year\s*)?'?(?P<y1>\d{{2,4}})\s+{_Q_WORD}[- ]quarter"
        rf"|{_Q_WORD}[- ]quarter\s+(?:of\s+)?"
        rf"(?:(?P<fy2>fiscal|FY|calendar)\s*(?:year\s*)?)?{_Q_YEAR.format(n=2)}"
        rf"|(?P<cal1>calendar\s+)?(?P<y3>\d{{4}})\s+{_Q_WORD}[- ]quarter",
        "en_q_year",
    ),
    # "Q2 2024", "2Q24", "Q2 FY25", "FY2025 Q2"
    (
        r"(?<![A-Za-z0-9])(?:Q(?P<q1>[1-4])|(?P<q2>[1-4])Q)\s*(?:'|’)?\s*"
        r"(?:(?P<fy1>FY|fiscal)\s*'?)?(?P<y1>\d{4}|\d{2})(?![0-9])"
        r"|(?<![A-Za-z0-9])(?P<fy2>FY|fiscal)\s*'?(?P<y2>\d{4}|\d{2})\s*Q(?P<q3>[1-4])(?![0-9])",
        "en_q_short",
    ),
    (
        rf"(?P<fy1>fiscal\s+)?{_Q_WORD}[- ]quarter|(?<![A-Za-z0-9])Q(?P<q1>[1-4])(?![0-9A-Za-z])",
        "en_q_noyear",
    ),
    (
        r"(?:the )?(?P<h>first|second) half(?: of (?:(?P<fy1>fiscal|FY)\s*)?(?P<y1>\d{4}))?"
        r"|(?<![A-Za-z0-9])(?P<h2>[12])H(?P<y2>\d{2})?(?![0-9])"
        r"|(?<![A-Za-z0-9])H(?P<h3>[12])(?:\s*(?P<y3>\d{4}))?(?![0-9])",
        "en_half",
    ),
    (r"(?:the )?first nine months(?: of (?:fiscal\s*)?(?P<y1>\d{4}))?", "en_9m"),
    (
        r"(?P<fy>fiscal(?: year)?|FY)\s*'?(?P<y1>\d{4}|\d{2})(?![0-9])"
        r"|(?P<cal>calendar(?: year)?)\s+(?P<y2>\d{4})",
        "en_fy",
    ),
    (
        r"(?:this|the current) (?P<u>quarter|year)"
        r"|(?:the )?(?P<u2>quarter)(?!ly|[- ]?(?:of|ended))",
        "en_this",
    ),
    (r"(?:last|past) (?P<u>quarter|year)", "en_last"),
    (r"(?P<n>two|three|four|[2-4]) (?:fiscal )?years (?:ago|earlier|before)", "en_years_ago"),
    (r"next (?P<u>quarter|year)", "en_next"),
    (
        r"(?:in|for|during|of|throughout|full[- ]year)\s+(?P<y1>(?:19|20)\d{2})(?![0-9])"
        r"|(?<![0-9])(?P<y2>(?:19|20)\d{2})(?='s)"
        # "Meta's 2024 revenue", "the 2024 numbers"
        r"|(?<![0-9$.,])(?P<y3>(?:19|20)\d{2})(?=\s+(?:full[- ]year\s+)?(?:revenues?|sales|"
        r"capex|capital|net income|operating|profits?|earnings|results|numbers|spending)\b)",
        "en_year",
    ),
    # a full year named without its number: the latest one ended (as quarters are)
    (
        r"full[- ]year|for the (?:full )?(?:fiscal )?year|(?:its|their|the) (?:latest )?fiscal year"
        r"|全年|全财年|整个财年",
        "full_year",
    ),
]
_PERIOD_PATTERNS = [(re.compile(p, re.IGNORECASE), kind) for p, kind in _PERIOD_TABLE]


_FISCAL_BEFORE = re.compile(r"(?:fiscal|FY)\s*$", re.IGNORECASE)


def find_periods(sentence: str) -> list[PeriodSpec]:
    """Period phrases in a sentence, left to right, without overlaps."""
    specs: list[PeriodSpec] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _PERIOD_PATTERNS:
        for m in pattern.finditer(sentence):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            spec = _spec(m, kind)
            if (
                spec is not None
                and spec.basis is None
                and _FISCAL_BEFORE.search(sentence, max(0, m.start() - 8), m.start())
            ):
                spec = replace(spec, basis="fiscal")  # "fiscal Q1 2025"
            if spec is not None:
                specs.append(spec)
                taken.append((m.start(), m.end()))
    return sorted(specs, key=lambda s: s.start)


def _spec(m: re.Match, kind: str) -> PeriodSpec | None:
    g = {k: v for k, v in m.groupdict().items() if v}
    s, e = m.start(), m.end()
    text = m.group(0).lower()
    fiscal = "fiscal" if re.search(r"fiscal|fy|财", text) else None
    basis = "calendar" if "calendar" in text or "自然" in text else fiscal
    if kind == "comparative_year":
        return PeriodSpec(s, e, "comparative", shift="year")
    if kind == "comparative_quarter":
        return PeriodSpec(s, e, "comparative", shift="quarter")
    if kind in {"zh_fq", "zh_q"}:
        return PeriodSpec(
            s, e, "quarter", _ORDINALS[g["q1"]], _year(g.get("fy1") or g.get("y1")), basis=basis
        )
    if kind in {"zh_fq_noyear", "zh_q_noyear"}:
        return PeriodSpec(
            s, e, "quarter", _ORDINALS[g.get("q1") or g["q2"]], relative=0, basis=basis
        )
    if kind == "zh_fy":
        return PeriodSpec(s, e, "year", year=_year(g.get("fy1") or g.get("fy2")), basis="fiscal")
    if kind == "zh_y":
        return PeriodSpec(s, e, "year", year=_year(g["y1"]))
    if kind == "zh_half":
        return PeriodSpec(s, e, "half", 1 if "上" in text else 2, relative=0)
    if kind == "zh_9m":
        return PeriodSpec(s, e, "nine_months", relative=0)
    if kind.startswith("zh_") and kind.endswith("year"):
        rel = {"zh_this_year": 0, "zh_last_year": -1, "zh_next_year": 1}[kind]
        return PeriodSpec(s, e, "year", relative=rel)
    if kind == "zh_this_quarter":
        return PeriodSpec(s, e, "quarter", relative=0)
    if kind == "en_q_year":
        word = re.search(_Q_WORD, text)
        year = _year(g.get("y1") or g.get("y2") or g.get("y3"))
        return PeriodSpec(s, e, "quarter", _ORDINALS[word.group(1)], year, basis=basis)
    if kind == "en_q_short":
        q = _ORDINALS[g.get("q1") or g.get("q2") or g["q3"]]
        return PeriodSpec(s, e, "quarter", q, _year(g.get("y1") or g.get("y2")), basis=basis)
    if kind == "en_q_noyear":
        word = re.search(_Q_WORD, text)
        q = _ORDINALS[word.group(1)] if word else int(g["q1"])
        return PeriodSpec(s, e, "quarter", q, relative=0, basis=basis)
    if kind == "en_half":
        h = g.get("h") or g.get("h2") or g.get("h3")
        index = 1 if h in {"first", "1"} else 2
        year = _year(g.get("y1") or g.get("y2") or g.get("y3"))
        return PeriodSpec(s, e, "half", index, year, relative=None if year else 0, basis=basis)
    if kind == "en_9m":
        year = _year(g.get("y1"))
        return PeriodSpec(s, e, "nine_months", year=year, relative=None if year else 0)
    if kind == "en_fy":
        year = _year(g.get("y1") or g.get("y2"))
        return PeriodSpec(s, e, "year", year=year, basis="calendar" if g.get("cal") else "fiscal")
    if kind in {"en_this", "en_last", "en_next"}:
        unit = g.get("u") or g.get("u2")
        rel = {"en_this": 0, "en_last": -1, "en_next": 1}[kind]
        return PeriodSpec(s, e, unit, relative=rel)
    if kind == "en_year":
        return PeriodSpec(s, e, "year", year=_year(g.get("y1") or g.get("y2") or g.get("y3")))
    if kind == "en_years_ago":
        n = {"two": 2, "three": 3, "four": 4}.get(g["n"].lower()) or int(g["n"])
        return PeriodSpec(s, e, "year", relative=-n, basis=fiscal)
    if kind == "full_year":
        return PeriodSpec(s, e, "year", basis=fiscal)
    return None


@dataclass(frozen=True)
class Period:
    """A resolved period: dates, the reading taken, and a label for people."""

    start: date
    end: date
    basis: str  # 'fiscal' | 'calendar'
    label: str
    quarters: int  # how many quarters it spans


_RECENT_DAYS = 200


def resolve_period(
    spec: PeriodSpec, published: date, cal: FiscalCalendar, forecast: bool = False
) -> Period:
    """Dates of ``spec`` for a company with calendar ``cal``, for an article of ``published``."""
    basis = spec.basis or "fiscal"
    use = cal if basis == "fiscal" else CALENDAR_YEAR
    prefix = "fiscal " if basis == "fiscal" and not use.is_calendar else ""

    def span(year: int, first_q: int, last_q: int) -> tuple[date, date]:
        return use.quarter(year, first_q)[0], use.quarter(year, last_q)[1]

    def pick(candidates: list[tuple[int, int, int]]) -> tuple[int, int, int]:
        """The latest ended within _RECENT_DAYS (else the next one); forecasts look ahead."""
        dated = [(span(y, a, b)[1], (y, a, b)) for y, a, b in candidates]
        past = [c for c in dated if c[0] <= published]
        future = [c for c in dated if c[0] > published]
        if forecast and future:
            return min(future)[1]
        if past and (published - max(past)[0]).days <= _RECENT_DAYS:
            return max(past)[1]
        return min(future)[1] if future else max(past)[1]

    this_year = use.fiscal_year_of(published)
    years = [this_year - 2, this_year - 1, this_year, this_year + 1]
    if spec.kind == "quarter":
        if spec.year is not None:
            y, a, b = spec.year, spec.index, spec.index
        elif spec.index is not None:
            y, a, b = pick([(y, spec.index, spec.index) for y in years])
        else:  # "this quarter", "last quarter": the latest ended quarter
            y, a, b = pick([(y, q, q) for y in years for q in range(1, 5)])
            if spec.relative == 1:
                y, a = (y, a + 1) if a < 4 else (y + 1, 1)
                b = a
        label = f"{prefix}Q{a} {y}" if prefix else f"Q{a} {y}"
    elif spec.kind == "half":
        first = 1 if spec.index == 1 else 3
        y = spec.year if spec.year is not None else pick([(y, first, first + 1) for y in years])[0]
        a, b = first, first + 1
        label = f"{prefix}H{spec.index} {y}" if prefix else f"H{spec.index} {y}"
    elif spec.kind == "nine_months":
        y = spec.year if spec.year is not None else pick([(y, 1, 3) for y in years])[0]
        a, b = 1, 3
        label = f"{prefix}9M {y}" if prefix else f"9M {y}"
    else:  # year
        if spec.year is not None:
            y = spec.year
        elif spec.relative is None:
            y = pick([(y, 1, 4) for y in years])[0]
        else:  # "this year", "last year", "two years ago"
            y = this_year + spec.relative
        a, b = 1, 4
        label = f"fiscal {y}" if prefix else str(y)
    start, end = span(y, a, b)
    if basis == "calendar" and not cal.is_calendar:
        label = f"calendar {label}"
    return Period(start, end, basis, label, b - a + 1)


def shift_period(period: Period, by: str, cal: FiscalCalendar) -> Period:
    """The same period a year (or a quarter) earlier."""
    use = cal if period.basis == "fiscal" else CALENDAR_YEAR
    quarters = _quarters_of(period, use)
    if not quarters:
        days = 364 if by == "year" else 91
        return Period(
            period.start - timedelta(days=days),
            period.end - timedelta(days=days),
            period.basis,
            f"{period.label} − 1 {by}",
            period.quarters,
        )
    step = 4 if by == "year" else 1
    shifted = []
    for y, q in quarters:
        index = y * 4 + (q - 1) - step
        shifted.append((index // 4, index % 4 + 1))
    start = use.quarter(*shifted[0])[0]
    end = use.quarter(*shifted[-1])[1]
    label = f"{period.label} − 1 {by}"
    return Period(start, end, period.basis, label, period.quarters)


def _quarters_of(period: Period, cal: FiscalCalendar) -> list[tuple[int, int]]:
    year = cal.fiscal_year_of(period.end)
    found = []
    for y in (year - 1, year):
        for q in range(1, 5):
            start, end = cal.quarter(y, q)
            if start >= period.start - timedelta(days=6) and end <= period.end + timedelta(days=6):
                found.append((y, q))
    return found
