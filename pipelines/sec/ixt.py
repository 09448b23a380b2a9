"""Inline XBRL transformation formats (ixt registry 1-5 and the SEC's ixt-sec): numbers and dates.

Pure functions from the text an inline XBRL element displays and its ``format`` to a value;
they raise :class:`IxtFormatError` with the cause, which the parser (pipelines/sec/xbrl.py)
reports with the document's URL and the element.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal


class IxtFormatError(ValueError):
    """The displayed text cannot be read with its transformation format."""


INSTANCE_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DECIMAL_TEXT = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
_DOT_DECIMAL_GROUPING = re.compile(r"[,\s\u00a0']")
_COMMA_DECIMAL_GROUPING = re.compile(r"[.\s\u00a0']")
_UNIT_DECIMAL = re.compile(r"\s*([0-9][0-9,.\s\u00a0]*?)\s*[^0-9,.\s\u00a0][^0-9]*([0-9]{1,2})?\D*")

_WORD_VALUES = {
    "no": 0,
    "none": 0,
    "zero": 0,
    "one": 1,
    "a": 1,
    "an": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_WORD_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}


def inline_number(text: str, fmt: str | None) -> Decimal:
    """The unsigned number an ix:nonFraction displays, read with its ``format``."""
    local = fmt.strip().rsplit(":", 1)[-1].lower() if fmt else ""
    raw = text.strip()
    if local in ("fixed-zero", "zerodash", "numdash"):
        return Decimal(0)
    if local in ("numwordsen", "num-word-en"):
        number = words_number(raw)
        if number is None:
            raise IxtFormatError(f"{raw!r} is not a number in words ({fmt})")
        return Decimal(number)
    if local in ("", "num-dot-decimal", "numdotdecimal", "numcommadot", "numspacedot"):
        digits = raw if not local else _DOT_DECIMAL_GROUPING.sub("", raw)
    elif local in ("num-comma-decimal", "numcommadecimal", "numdotcomma", "numspacecomma"):
        digits = _COMMA_DECIMAL_GROUPING.sub("", raw).replace(",", ".")
    elif local in ("num-unit-decimal", "numunitdecimal"):
        match = _UNIT_DECIMAL.fullmatch(raw)
        if match is None:
            raise IxtFormatError(f"{raw!r} does not match {fmt}")
        whole = re.sub(r"[^0-9]", "", match.group(1))
        digits = f"{whole}.{(match.group(2) or '0').rjust(2, '0')}"
    else:
        raise IxtFormatError(f"unsupported number format {fmt!r}")
    if not _DECIMAL_TEXT.fullmatch(digits):
        shown = f"format {fmt}" if fmt else "no format, so it must be a plain decimal"
        raise IxtFormatError(f"{raw!r} is not a number ({shown})")
    return Decimal(digits)


def words_number(text: str) -> int | None:
    """English number words ('two', 'twenty-one', 'one hundred', 'no') as an int."""
    tokens = [t for t in re.split(r"[\s\u00a0,\-]+", text.lower()) if t and t != "and"]
    if not tokens:
        return None
    total = current = 0
    for token in tokens:
        if token.isdigit():
            current += int(token)
        elif token in _WORD_VALUES:
            current += _WORD_VALUES[token]
        elif token == "hundred":
            current = (current or 1) * 100
        elif token in _WORD_SCALES:
            total += (current or 1) * _WORD_SCALES[token]
            current = 0
        else:
            return None
    return total + current


_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for m in names
}


def dei_date(text: str, fmt: str | None) -> date:
    """A dei date as displayed (ISO, or an ixt date format such as 'September 28, 2024')."""
    local = fmt.strip().rsplit(":", 1)[-1].lower().replace("-", "") if fmt else ""
    try:
        if not local:
            return date.fromisoformat(text.strip()[:10])
        tokens = re.findall(r"[A-Za-z]+|[0-9]+", text)
        words = [t for t in tokens if t.isalpha()]
        numbers = [int(t) for t in tokens if t.isdigit()]
        if "monthname" in local or ("month" in local and words):
            month = next(_MONTHS[w.lower()] for w in words if w.lower() in _MONTHS)
            year = next(n for n in numbers if n >= 100)
            day = next(n for n in numbers if n < 100)
            return date(year, month, day)
        if len(numbers) == 3:
            order = re.sub(r"^date|en$", "", local)
            fields = dict(zip(re.findall(r"year|month|day", order), numbers, strict=False))
            year = fields["year"] + (2000 if fields["year"] < 100 else 0)
            return date(year, fields["month"], fields["day"])
    except (ValueError, KeyError, StopIteration):
        pass
    raise IxtFormatError(f"cannot read date {text!r} (format {fmt})")
