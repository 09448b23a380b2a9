"""Figures in news text → numbers with a unit: "$13.87 billion", "1000亿美金", "fell 22%".

Pure functions. :func:`extract_numbers` takes a polars frame of sentences and returns one row
per figure, doing the work with polars' (Rust) regex engine over all rows at once: a single
pattern finds every figure, a second pass splits each match into its parts (currency, digits,
scale word, unit, qualifier, direction word) and the value is computed with column
expressions. Only the character offset of each figure in its sentence is found with a short
Python pass (polars has no "position of the n-th match").

Conventions (see ``staging.news_numbers``):

* ``value`` is in units: "$13.87 billion" → 13_870_000_000, "33.4%" → 0.334,
  "8 percentage points" → 0.08; computed from the exact digits (mantissa × 10^k) so no
  binary rounding creeps in beyond that of the final double.
* ``scale`` is the multiplier applied to the stated digits (1e9 for "billion", 1e8 for 亿,
  0.01 for a percent); ``precision`` is half a unit of the last stated digit, in value units
  ("$52.5 billion" → 0.05e9): the rounding a claim is allowed.
* ``unit`` ∈ {'money', 'percent', 'percentage_points', 'count'}; ``currency`` is an ISO code
  for money, else null. A figure with a scale word but no currency ("3.27 billion" users,
  "26,281 million") is a 'count': whether it is money is for the claim resolver to decide.
* Ranges ("$3-4 billion", "$3 billion to $4 billion"): ``low``/``high`` and ``value`` the
  midpoint. Bounds: "more than $49 billion" → low = value, high null; "nearly", "up to" →
  high = value, low null. Plain figures leave both null.
* Signs: "(1.2)" and "-1.2" are negative; a falling verb right before a figure ("fell 22%",
  "down $2 billion", "下降22%") or a falling noun right after it ("a 22% decline") makes the
  figure negative. Such signed figures are *changes*, flagged by ``change`` = true;
  "rose to $84.7 billion" is a level, not a change.
* Bare integers without a unit, scale or currency (years, "Q2", model numbers) are not
  figures and are dropped; bare decimals ("(1.2)") are kept as 'count'.
"""

from __future__ import annotations

import re

import polars as pl

from pipelines.core.tables import NEWS_NUMBERS
from pipelines.news.number_words import word_figures

# --- vocabulary -----------------------------------------------------------------------------

_NEG_DIR = (
    "fell|falls|fall|falling|dropped|drops|drop|declined|declines|decline|declining|"
    "decreased|decreases|decrease|down|shrank|shrunk|slid|slipped|plunged|plummeted|"
    "tumbled|sank|slumped|contracted|lower by|"
    "同比下降|同比下滑|同比减少|环比下降|下降了|下降|下滑了|下滑|减少了|减少|下跌了|下跌|"
    "降低了|降低|缩减了|缩减|萎缩了|萎缩|跌了|跌"
)
_POS_DIR = (
    "rose|rises|rise|rising|risen|up|grew|grows|grow|growing|grown|increased|increases|"
    "increase|jumped|jumps|jump|surged|surges|surge|climbed|climbs|gained|gains|soared|"
    "advanced|expanded|growth|"
    "同比增长|同比上升|同比增加|环比增长|增长了|增长|上升了|上升|上涨了|上涨|增加了|增加|"
    "提升了|提升|提高了|提高|涨了|涨"
)
# qualifier → kind of bound
_QUALIFIERS = {
    "lower": (
        "more than|over|above|at least|in excess of|upwards of|north of|passed|surpassed|"
        "exceeded|exceeding|topped|crossed|超过了|超过|突破了|突破|超出|至少|逾|超"
    ),
    "upper": (
        "less than|fewer than|under|below|up to|as much as|nearly|almost|close to|"
        "just under|不到|不足|将近|接近|近"
    ),
    "approx": "about|approximately|around|roughly|some|an estimated|大约|约",
}
_SCALES = {
    # longest spellings first: alternation is leftmost-first
    "trillion": 12,
    "billion": 9,
    "million": 6,
    "thousand": 3,
    "tln": 12,
    "bln": 9,
    "mln": 6,
    "tn": 12,
    "bn": 9,
    "mn": 6,
    "mm": 6,
    "万亿": 12,
    "千亿": 11,
    "百亿": 10,
    "十亿": 9,
    "千万": 7,
    "百万": 6,
    "亿": 8,
    "万": 4,
    "千": 3,
    "t": 12,
    "b": 9,
    "m": 6,
    "k": 3,
}
_CURRENCY_PREFIX = {
    "us$": "USD",
    "u.s.$": "USD",
    "usd": "USD",
    "hk$": "HKD",
    "nt$": "TWD",
    "a$": "AUD",
    "c$": "CAD",
    "s$": "SGD",
    "$": "USD",
    "€": "EUR",
    "eur": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "rmb": "CNY",
    "cny": "CNY",
    "jpy": "JPY",
    "hkd": "HKD",
    # ¥ is yen in English copy and yuan in Chinese copy: decided per sentence below
    "¥": "¥",
    "￥": "¥",
}
_CURRENCY_SUFFIX = {
    "hong kong dollars": "HKD",
    "us dollars": "USD",
    "u.s. dollars": "USD",
    "dollars": "USD",
    "usd": "USD",
    "euros": "EUR",
    "euro": "EUR",
    "eur": "EUR",
    "pounds": "GBP",
    "gbp": "GBP",
    "yuan": "CNY",
    "renminbi": "CNY",
    "rmb": "CNY",
    "cny": "CNY",
    "yen": "JPY",
    "jpy": "JPY",
    "hkd": "HKD",
    "美元": "USD",
    "美金": "USD",
    "元人民币": "CNY",
    "人民币": "CNY",
    "欧元": "EUR",
    "日元": "JPY",
    "港元": "HKD",
    "港币": "HKD",
    "英镑": "GBP",
    "元": "CNY",
}
_COUNT_NOUNS = (
    "users|people|pieces|units|vehicles|cars|shares|employees|workers|customers|"
    "subscribers|devices|GPUs|chips|servers|deliveries|orders|"
    "件|台|辆|人|名|部|颗|块|片|张|户|位"
)
_PP = (
    "percentage points|percentage point|percentage-points|pct points|pct point|pp|ppts|"
    "个百分点|百分点"
)
_PCT = "%|％|percent|per cent|pct"
_NEG_SUFFIX = "decline|drop|decrease|fall|slump|contraction|lower|less|下降|下滑|减少"
_POS_SUFFIX = "increase|rise|gain|jump|growth|higher|more|增长|增加|上升"
_RANGE_SEP = "-|–|—|~|to|至|到"


def _alt(words: str | list[str]) -> str:
    """Alternation of literal words (escaped); ASCII words get word boundaries."""
    items = words.split("|") if isinstance(words, str) else words
    out = []
    for word in items:
        escaped = re.escape(word).replace(r"\ ", r"\s+")
        out.append(rf"{escaped}(?-u:\b)" if word[-1:].isascii() and word[-1].isalnum() else escaped)
    return "|".join(out)


def _latin_scale() -> str:
    multi = [w for w in _SCALES if w.isascii() and len(w) > 1]
    single = [w for w in _SCALES if w.isascii() and len(w) == 1]
    cjk = [w for w in _SCALES if not w.isascii()]
    return (
        rf"\s*(?:{'|'.join(multi)})(?-u:\b)|(?:{'|'.join(single)})(?-u:\b)|\s*(?:{'|'.join(cjk)})"
    )


_DIGITS = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
# (?-u:\b) is an ASCII word boundary: "B200" is not a figure, "超过1000亿" and "RMB5.2" are.
_NUM = rf"(?:\((?-u:\b){_DIGITS}\)|[-−]?(?-u:\b){_DIGITS})"
_NUM_AFTER_CURRENCY = rf"(?:\({_DIGITS}\)|[-−]?{_DIGITS})"
_CUR_PRE = "|".join(
    rf"(?-u:\b){re.escape(c)}\s?" if c[0].isalpha() else rf"{re.escape(c)}\s?"
    for c in _CURRENCY_PREFIX
)
_CUR_SUF = rf"\s*(?:{_alt(list(_CURRENCY_SUFFIX))})"
_SCALE = _latin_scale()
_QUAL = "|".join(_alt(v) for v in _QUALIFIERS.values())
_DIR = f"{_alt(_NEG_DIR)}|{_alt(_POS_DIR)}"


def _figure(n: int) -> str:
    return (
        rf"(?:(?P<cur{n}>{_CUR_PRE})(?P<num{n}c>{_NUM_AFTER_CURRENCY})|(?P<num{n}>{_NUM}))"
        rf"(?P<scale{n}>{_SCALE})?"
        rf"(?P<csuf{n}>{_CUR_SUF})?"
    )


# One figure, possibly a range, with what may surround it. Named groups are parsed below.
FIGURE_PATTERN = (
    r"(?i)"
    rf"(?:(?P<dir>{_DIR})\s*(?:(?:by|of)\s+)?(?:了)?)?"
    rf"(?:(?P<qual>{_QUAL})\s*)?"
    r"(?:(?P<frm>from)\s+)?"
    rf"(?P<f1>{_figure(1)})"
    r"(?:"
    rf"\s*(?P<sep>{_RANGE_SEP})\s*(?P<f2>{_figure(2)})"
    rf"|(?P<pct1>%|％)\s*(?P<psep>{_RANGE_SEP})\s*(?P<pnum>{_NUM})(?P<pct2>%|％)"
    r")?"
    rf"(?:\s*(?P<unit>{_alt(_PP)}|{_alt(_PCT)}|{_alt(_COUNT_NOUNS)}))?"
    r"(?P<qsuf>以上|以下|左右|多)?"
    rf"(?:\s+(?P<sdir>{_alt(_NEG_SUFFIX)}|{_alt(_POS_SUFFIX)}))?"
)

# a cheap test (polars' regex engine, all rows at once) for sentences that may hold a number
# in words; number_words reads them exactly
_WORD_HINT = (
    r"(?i)\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|a)[\s-]+(?:[a-z-]+\s+)*?"
    r"(?:thousand|million|billion|trillion)\b"
    r"|[零一二两三四五六七八九十百千](?:万亿|亿|万)|doubled|翻了?一?番|翻倍|一倍"
)
_NEG_DIR_SET = {w.lower() for w in _NEG_DIR.split("|")}
_LOWER_QUALS = {w.lower() for w in _QUALIFIERS["lower"].split("|")}
_UPPER_QUALS = {w.lower() for w in _QUALIFIERS["upper"].split("|")}
_NEG_SUFFIX_SET = {w.lower() for w in _NEG_SUFFIX.split("|")}
_PP_SET = {w.lower() for w in _PP.split("|")}
_PCT_SET = {w.lower() for w in _PCT.split("|")}

NUMBER_SCHEMA = NEWS_NUMBERS.columns


def _lower_ws(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ")


def _map(expr: pl.Expr, mapping: dict[str, object], dtype: pl.DataType) -> pl.Expr:
    return _lower_ws(expr).replace_strict(mapping, default=None, return_dtype=dtype)


def _num_parts(num: pl.Expr, scale_exp: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(value, negative, decimals) of a digits group such as "(1,234.5)" times 10^scale_exp."""
    digits = num.str.replace_all(r"[(),\-−]", "")
    negative = num.str.contains(r"^[(\-−]").fill_null(False)
    int_part = digits.str.extract(r"^(\d*)", 1)
    frac_part = digits.str.extract(r"\.(\d+)$", 1).fill_null("")
    decimals = frac_part.str.len_chars().cast(pl.Int32)
    mantissa = (int_part + frac_part).str.replace(r"^0+(\d)", "$1").cast(pl.Int64, strict=False)
    power = scale_exp - decimals
    # mantissa·10^k is exact in a double while below 2^53; dividing by an exact power of ten
    # gives the double nearest the true value
    value = (
        pl.when(power >= 0)
        .then(mantissa.cast(pl.Float64) * pl.lit(10.0).pow(power))
        .otherwise(mantissa.cast(pl.Float64) / pl.lit(10.0).pow(-power))
    )
    return value, negative, decimals


def extract_numbers(sentences: pl.DataFrame) -> pl.DataFrame:
    """Every figure in ``sentences`` (columns article_id, sentence_no, sentence) as one row.

    Returns the columns of :data:`NUMBER_SCHEMA`, in sentence order.
    """
    if sentences.height == 0:
        return pl.DataFrame(schema=NUMBER_SCHEMA)
    words = _word_rows(sentences)
    found = _matches(sentences)
    if found.height == 0:
        return words
    g = _split_from_to(_values(_parts(found)))
    out = _bounds(g).sort("article_id", "sentence_no", "match_no")
    out = out.with_columns(position=_positions(out))
    out = out.select(list(NUMBER_SCHEMA)).cast(NUMBER_SCHEMA)  # type: ignore[arg-type]
    if words.height == 0:
        return out
    return pl.concat([out, words]).sort(
        "article_id", "sentence_no", "position", maintain_order=True
    )


def _word_rows(sentences: pl.DataFrame) -> pl.DataFrame:
    """Figures written in words (:mod:`pipelines.news.number_words`), in the same columns."""
    candidates = sentences.filter(pl.col("sentence").str.contains(_WORD_HINT))
    rows = [
        {"article_id": article_id, "sentence_no": no, "sentence": sentence, **row}
        for article_id, no, sentence in candidates.select(
            "article_id", "sentence_no", "sentence"
        ).iter_rows()
        for row in word_figures(sentence)
    ]
    return pl.DataFrame(rows, schema=NUMBER_SCHEMA).select(list(NUMBER_SCHEMA))


def _matches(sentences: pl.DataFrame) -> pl.DataFrame:
    """One row per match of :data:`FIGURE_PATTERN` (``text``, ``match_no`` in its sentence)."""
    return (
        sentences.select("article_id", "sentence_no", "sentence")
        # one chunk: polars compiles the (large) pattern once per chunk
        .rechunk()
        .with_columns(text=pl.col("sentence").str.extract_all(FIGURE_PATTERN))
        .with_columns(match_no=pl.int_ranges(pl.col("text").list.len()))
        .explode("text", "match_no", empty_as_null=True)
        .drop_nulls("text")
        .rechunk()
    )


def _parts(found: pl.DataFrame) -> pl.DataFrame:
    """Each match split into its named groups (currency, digits, scale, unit, ...)."""
    return (
        found.with_columns(parts=pl.col("text").str.extract_groups(FIGURE_PATTERN))
        .unnest("parts")
        .with_columns(num1=pl.coalesce("num1c", "num1"), num2=pl.coalesce("num2c", "num2"))
    )


def _currency() -> pl.Expr:
    """The ISO currency of a match; ¥ is yuan in Chinese copy and yen in English copy."""
    cjk = pl.col("sentence").str.contains(r"[\p{Han}]")
    currency_raw = pl.coalesce(
        _map(pl.col("cur1"), _CURRENCY_PREFIX, pl.String),
        _map(pl.col("csuf1"), _CURRENCY_SUFFIX, pl.String),
        _map(pl.col("cur2"), _CURRENCY_PREFIX, pl.String),
        _map(pl.col("csuf2"), _CURRENCY_SUFFIX, pl.String),
    )
    return (
        pl.when(currency_raw == "¥")
        .then(pl.when(cjk).then(pl.lit("CNY")).otherwise(pl.lit("JPY")))
        .otherwise(currency_raw)
    )


def _values(g: pl.DataFrame) -> pl.DataFrame:
    """Currency, unit, the signed value of each end (v1, v2), scales and rounding."""
    unit_word = _lower_ws(pl.col("unit"))
    is_pp = unit_word.is_in(list(_PP_SET)).fill_null(False)
    is_pct = (unit_word.is_in(list(_PCT_SET)) | pl.col("pct1").is_not_null()).fill_null(False)
    currency = _currency()
    scale_exp_1 = _map(pl.col("scale1"), _SCALES, pl.Int32)
    scale_exp_2 = _map(pl.col("scale2"), _SCALES, pl.Int32)
    # "$3-4 billion": the scale written once applies to both ends
    unit_exp = pl.when(is_pp | is_pct).then(-2).otherwise(0)
    exp1 = pl.coalesce(scale_exp_1, scale_exp_2, pl.lit(0)) + unit_exp
    exp2 = pl.coalesce(scale_exp_2, scale_exp_1, pl.lit(0)) + unit_exp
    num2 = pl.coalesce(pl.col("num2"), pl.col("pnum"))
    v1, neg1, dec1 = _num_parts(pl.col("num1"), exp1)
    v2, neg2, dec2 = _num_parts(num2, exp2)
    dir_word = _lower_ws(pl.col("dir"))
    # "up from $13.5 billion", "rose from $74.6 billion to $84.7 billion": levels, not changes
    level_from = pl.col("frm").is_not_null()
    falling = ~level_from & (
        dir_word.is_in(list(_NEG_DIR_SET)).fill_null(False)
        | _lower_ws(pl.col("sdir")).is_in(list(_NEG_SUFFIX_SET)).fill_null(False)
    )
    return g.with_columns(
        currency=currency,
        unit=(
            pl.when(is_pp)
            .then(pl.lit("percentage_points"))
            .when(is_pct)
            .then(pl.lit("percent"))
            .when(currency.is_not_null())
            .then(pl.lit("money"))
            .otherwise(pl.lit("count"))
        ),
        v1=pl.when(neg1 ^ falling).then(-v1).otherwise(v1),
        v2=pl.when(neg2 ^ falling).then(-v2).otherwise(v2),
        scale1=pl.lit(10.0).pow(exp1),
        scale2=pl.lit(10.0).pow(exp2),
        prec1=pl.lit(0.5) * pl.lit(10.0).pow(exp1 - dec1),
        prec2=pl.lit(0.5) * pl.lit(10.0).pow(exp2 - dec2),
        change=~level_from & (pl.col("dir").is_not_null() | pl.col("sdir").is_not_null()),
        from_to=pl.col("frm").is_not_null() & pl.col("f2").is_not_null(),
        qual_word=_lower_ws(pl.coalesce(pl.col("qual"), pl.col("qsuf"))),
        has_marker=(
            pl.col("cur1").is_not_null()
            | pl.col("csuf1").is_not_null()
            | pl.col("scale1").is_not_null()
            | pl.col("unit").is_not_null()
            | pl.col("pct1").is_not_null()
            | pl.col("num2").is_not_null()
            | pl.col("num1").str.contains(r"[.,]")
        ),
    )


def _split_from_to(g: pl.DataFrame) -> pl.DataFrame:
    """ "from $74.6 billion to $84.7 billion" is two levels, not a range: one row each."""
    first = g.filter(pl.col("from_to")).with_columns(
        text=pl.col("frm") + " " + pl.col("f1"), num2=pl.lit(None, pl.String)
    )
    second = g.filter(pl.col("from_to")).with_columns(
        text=pl.col("sep") + " " + pl.col("f2"),
        v1=pl.col("v2"),
        scale1=pl.col("scale2"),
        prec1=pl.col("prec2"),
        num2=pl.lit(None, pl.String),
        match_no=pl.col("match_no") + 0.5,
    )
    rest = g.filter(~pl.col("from_to")).with_columns(pl.col("match_no").cast(pl.Float64))
    return pl.concat(
        [rest, first.with_columns(pl.col("match_no").cast(pl.Float64)), second],
        how="vertical_relaxed",
    )


def _bounds(g: pl.DataFrame) -> pl.DataFrame:
    """Value, low/high (ranges and bounds), scale and precision of figures with a marker."""
    is_range = pl.coalesce(pl.col("num2"), pl.col("pnum")).is_not_null()
    range_low = pl.min_horizontal("v1", "v2")
    range_high = pl.max_horizontal("v1", "v2")
    qual = pl.col("qual_word")
    low = (
        pl.when(is_range)
        .then(range_low)
        .when(qual.is_in(list(_LOWER_QUALS) + ["以上", "多"]))
        .then(pl.col("v1"))
    )
    high = (
        pl.when(is_range)
        .then(range_high)
        .when(qual.is_in(list(_UPPER_QUALS) + ["以下"]))
        .then(pl.col("v1"))
    )
    return g.filter(pl.col("has_marker")).with_columns(
        value=pl.when(is_range).then((range_low + range_high) / 2).otherwise(pl.col("v1")),
        low=low,
        high=high,
        scale=pl.col("scale1"),
        precision=pl.when(is_range)
        .then(pl.max_horizontal("prec1", "prec2"))
        .otherwise(pl.col("prec1")),
        qualifier=qual,
        text=pl.col("text").str.strip_chars(),
    )


def _positions(frame: pl.DataFrame) -> pl.Series:
    """Character offset of each figure's text in its sentence, matches taken left to right."""
    positions: list[int] = []
    last_key = None
    cursor = 0
    for article, number, sentence, text in frame.select(
        "article_id", "sentence_no", "sentence", "text"
    ).iter_rows():
        key = (article, number)
        if key != last_key:
            cursor, last_key = 0, key
        at = sentence.find(text, cursor)
        if at < 0:  # the match was split ("from X to Y"): look from the start
            at = max(sentence.find(text), 0)
        positions.append(at)
        cursor = at + len(text)
    return pl.Series("position", positions, dtype=pl.Int32)


def normalise(text: str) -> list[dict]:
    """The figures in one piece of text, as dicts (a convenience over :func:`extract_numbers`)."""
    frame = pl.DataFrame({"article_id": ["-"], "sentence_no": [0], "sentence": [text]})
    return extract_numbers(frame).drop("article_id", "sentence_no", "sentence").to_dicts()
