"""Figures written in words: "twenty-seven billion dollars", "一千一百五十二亿美元", "两千亿",
"more than doubled", "增长超过一倍".

Pure functions, used by :func:`pipelines.news.numbers.extract_numbers` beside its digit
pattern. A number in words is read whole or not at all: every word of it must be a number word
(English: one … nineteen, twenty … ninety, hundred, with a scale word million / billion /
trillion; Chinese: 零一二两三四五六七八九十百千 with 万, 亿 or 万亿), so nothing is half-read.
"Doubled" and "一倍" are a growth of 100%. Rows have the columns of ``staging.news_numbers``;
the precision is half a unit of the scale word, as for "$27 billion".
"""

from __future__ import annotations

import re

_EN_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "a": 1,
}  # fmt: skip
_EN_SCALES = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}  # fmt: skip
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_SCALES = {"万亿": 12, "亿": 8, "万": 4}

_QUAL_LOWER = r"more than|over|above|at least|passed|topped|exceeded|超过了?|突破了?|逾|至少"
_QUAL_UPPER = r"nearly|almost|close to|under|less than|up to|将近|接近|近|不到|不足|几乎"
_QUAL_APPROX = r"about|approximately|around|roughly|some|大约|约为|约"
_EN_WORD = "|".join(sorted(_EN_UNITS, key=len, reverse=True)) + "|hundred"
_EN_NUMBER = re.compile(
    rf"(?:(?P<qual>{_QUAL_LOWER}|{_QUAL_UPPER}|{_QUAL_APPROX})\s+)?"
    rf"(?<![\w-])(?P<words>(?:(?:{_EN_WORD})(?:[\s-]+|(?=\s)))+)"
    rf"(?P<scale>{'|'.join(_EN_SCALES)})\b(?:\s+(?:of\s+)?(?P<cur>(?:US\s+|U\.S\.\s+)?dollars))?",
    re.IGNORECASE,
)
_ZH_NUMBER = re.compile(
    rf"(?:(?P<qual>{_QUAL_LOWER}|{_QUAL_UPPER}|{_QUAL_APPROX}))?"
    r"(?<![零一二两三四五六七八九十百千万亿\d])(?P<words>[零一二两三四五六七八九十百千]+)"
    r"(?P<scale>万亿|亿|万)(?P<cur>美元|美金|元人民币|人民币|元)?"
)
_DOUBLED = re.compile(
    rf"(?:(?P<qual>{_QUAL_LOWER}|{_QUAL_UPPER})\s*)?"
    r"(?:(?<![\w-])doubled\b|翻了?一?番|翻倍|(?<![\d零一二两三四五六七八九十百千])一倍)",
    re.IGNORECASE,
)
_CURRENCY = {"美元": "USD", "美金": "USD", "元人民币": "CNY", "人民币": "CNY", "元": "CNY"}


def english_number(words: str) -> int | None:
    """ "twenty-seven" → 27, "two hundred" → 200; None unless every word is a number word."""
    total = 0
    for word in re.split(r"[\s-]+", words.strip().lower()):
        if word in _EN_UNITS:
            total += _EN_UNITS[word]
        elif word == "hundred":
            total = (total or 1) * 100
        else:
            return None
    return total or None


def chinese_number(words: str) -> int | None:
    """ "一千一百五十二" → 1152, "两千" → 2000, "十四" → 14; None when not a plain numeral."""
    total, digit = 0, None
    for char in words:
        if char in _ZH_DIGITS:
            if digit is not None and char != "零":
                return None  # "一二" is not a numeral
            digit = _ZH_DIGITS[char] if char != "零" else None
        elif char in _ZH_UNITS:
            total += (1 if digit is None else digit) * _ZH_UNITS[char]
            digit = None
        else:
            return None
    total += digit or 0
    return total or None


def _bounds(qual: str | None, value: float) -> tuple[float | None, float | None, str | None]:
    word = (qual or "").strip().lower()
    if not word:
        return None, None, None
    if re.fullmatch(_QUAL_LOWER, word, re.IGNORECASE):
        return value, None, word
    if re.fullmatch(_QUAL_UPPER, word, re.IGNORECASE):
        return None, value, word
    return None, None, word


def _row(sentence: str, m: re.Match, value: float, scale: float, unit: str, currency) -> dict:
    low, high, qual = _bounds(m.group("qual"), value)
    return {
        "position": m.start(),
        "text": m.group(0).strip(),
        "value": value,
        "low": low,
        "high": high,
        "unit": unit,
        "currency": currency,
        "scale": scale,
        "precision": 0.5 * scale if unit != "percent" else 0.05,
        "change": unit == "percent",
        "qualifier": qual,
    }


def word_figures(sentence: str) -> list[dict]:
    """The figures written in words in ``sentence`` (position, text, value, ... per figure)."""
    rows = []
    for m in _EN_NUMBER.finditer(sentence):
        number = english_number(m.group("words"))
        if number is not None:
            scale = 10.0 ** _EN_SCALES[m.group("scale").lower()]
            currency = "USD" if m.group("cur") else None
            unit = "money" if currency else "count"
            rows.append(_row(sentence, m, number * scale, scale, unit, currency))
    for m in _ZH_NUMBER.finditer(sentence):
        number = chinese_number(m.group("words"))
        if number is not None:
            scale = 10.0 ** _ZH_SCALES[m.group("scale")]
            currency = _CURRENCY.get(m.group("cur") or "")
            unit = "money" if currency else "count"
            rows.append(_row(sentence, m, number * scale, scale, unit, currency))
    for m in _DOUBLED.finditer(sentence):
        rows.append(_row(sentence, m, 1.0, 0.01, "percent", None))
    return sorted(rows, key=lambda r: r["position"])
