"""The words claims are read with: company names and tickers, metric words, segment names and
the cues (forecast, comparison, sequential, aggregate) that change how a figure is read.

Company aliases, ticker symbols that stand for another ticker (GOOG → GOOGL), metric words
and segment names are seed data in ``pipelines/seeds/`` (``news_companies.csv``,
``news_ticker_aliases.csv``, ``news_metric_words.csv``, ``news_segments.csv``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources


def seed_rows(name: str) -> list[dict[str, str]]:
    """The rows of ``pipelines/seeds/<name>`` as dicts."""
    text = resources.files("pipelines.seeds").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@dataclass(frozen=True)
class Mention:
    """A word of the vocabulary found in a sentence."""

    start: int
    end: int
    value: str  # ticker, or metric name
    segment: str | None = None
    sure: bool = True  # False: a word that usually, not always, names the metric ("spent")


def word_regex(words: Iterable[str], ignore_case: bool) -> re.Pattern:
    """One alternation of literal ``words`` (longest first); ASCII ends get word boundaries."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        escaped = re.escape(word)
        if word[0].isascii() and word[0].isalnum():
            escaped = r"(?<![A-Za-z0-9])" + escaped
        if word[-1].isascii() and word[-1].isalnum():
            escaped += r"(?![A-Za-z0-9])"
        parts.append(escaped)
    return re.compile("|".join(parts), re.IGNORECASE if ignore_case else 0)


class CompanyFinder:
    """Finds company mentions (names, tickers, cashtags) in a sentence."""

    def __init__(self, aliases: Mapping[str, str], symbols: Mapping[str, str] | None = None):
        self.aliases = dict(aliases)  # alias → ticker
        self.symbols = dict(symbols or {})  # ticker symbol → the ticker it stands for
        self.tickers = set(self.aliases.values())
        self.name_re = word_regex(self.aliases, ignore_case=False)
        self.ticker_re = re.compile(
            r"(?:NASDAQ|Nasdaq|NYSE|纳斯达克|纽交所)\s*[:：]\s*([A-Z]{1,5})"
            r"|(?<![A-Za-z])([A-Z]{1,5})\.(?:US|O|OQ|N)(?![A-Za-z])"
            r"|\$([A-Z]{1,5})(?![A-Za-z])"
            r"|[(（]([A-Z]{2,5})[)）]"
        )

    @classmethod
    def from_seed(cls) -> CompanyFinder:
        """The finder of ``news_companies.csv`` and ``news_ticker_aliases.csv``."""
        return cls(
            {row["alias"]: row["ticker"] for row in seed_rows("news_companies.csv")},
            {row["symbol"]: row["ticker"] for row in seed_rows("news_ticker_aliases.csv")},
        )

    def find(self, sentence: str) -> list[Mention]:
        """Company mentions in ``sentence``, left to right."""
        found = [
            Mention(m.start(), m.end(), self.aliases[m.group(0)])
            for m in self.name_re.finditer(sentence)
        ]
        for m in self.ticker_re.finditer(sentence):
            ticker = next(g for g in m.groups() if g)
            ticker = self.symbols.get(ticker, ticker)
            if ticker in self.tickers:
                found.append(Mention(m.start(), m.end(), ticker))
        return sorted(found, key=lambda x: x.start)


def load_metric_words() -> list[tuple[re.Pattern, str, bool]]:
    """(pattern, metric, sure) of ``news_metric_words.csv``: a metric's rows joined in file
    order (sure and unsure words apart), metrics in the order they first appear (an earlier
    metric's word wins an overlap)."""
    grouped: dict[tuple[str, bool], list[str]] = {}
    for row in seed_rows("news_metric_words.csv"):
        grouped.setdefault((row["metric"], row["sure"] != "no"), []).append(row["pattern"])
    return [(re.compile("|".join(p), re.IGNORECASE), m, sure) for (m, sure), p in grouped.items()]


@dataclass(frozen=True)
class Group:
    """A phrase naming several companies at once ("the Magnificent Seven", "Big Tech", "七巨头")
    and its members: a fixed list, or empty when the phrase means the companies the article
    names."""

    alias: str
    members: tuple[str, ...]


class GroupFinder:
    """Finds group phrases (``news_groups.csv``) in a sentence."""

    def __init__(self, groups: Mapping[str, tuple[str, ...]]):
        self.groups = dict(groups)
        self.regex = word_regex(self.groups, ignore_case=False) if self.groups else None

    @classmethod
    def from_seed(cls) -> GroupFinder:
        """The finder of ``news_groups.csv`` (members separated by ';')."""
        return cls(
            {
                row["alias"]: tuple(m for m in (row["members"] or "").split(";") if m)
                for row in seed_rows("news_groups.csv")
            }
        )

    def find(self, sentence: str) -> list[tuple[Mention, Group]]:
        """Group phrases in ``sentence``, left to right."""
        if self.regex is None:
            return []
        return [
            (
                Mention(m.start(), m.end(), "group"),
                Group(m.group(0), self.groups[m.group(0)]),
            )
            for m in self.regex.finditer(sentence)
        ]


def load_segments() -> dict[str, list[tuple[str, str]]]:
    """Per ticker, (alias, segment) pairs of ``news_segments.csv``."""
    by_ticker: dict[str, list[tuple[str, str]]] = {}
    for row in seed_rows("news_segments.csv"):
        by_ticker.setdefault(row["ticker"], []).append((row["alias"], row["segment"]))
    return by_ticker


# metrics the filings report; growth and ratios are derived from these
FILED_METRICS = {"revenue", "capex", "net_income", "operating_income"}
MONEY_METRICS = FILED_METRICS | {"market_cap"}
FORECAST_CUE = re.compile(
    r"\b(?:expects?|expected|expectations?|outlook|guidance|guided|forecasts?|forecasted|"
    r"projects?|projected|projections?|anticipates?|anticipated|estimates?|estimated|"
    r"plans? to|intends? to|aims? to|targets?|on track to|is set to)\b"
    r"|预计|预期|展望|指引|计划|有望|预测|目标",
    re.IGNORECASE,
)
COMPARE_CUE = re.compile(
    r"compared (?:with|to)|versus|\bvs\.?|\bfrom\b|against|up from|down from|than|"
    r"去年同期为|上年同期为|而去年同期|对比|相比|较",
    re.IGNORECASE,
)
QOQ_CUE = re.compile(
    r"sequential|quarter[- ](?:over|on)[- ]quarter|\bq/?oq\b|"
    r"(?:from|than|over) (?:in )?the (?:previous|prior|preceding|last|first|second|third) quarter|"
    r"环比|上季度|上一季度",
    re.IGNORECASE,
)
AGGREGATE_CUE = re.compile(
    r"together|combined|collectively|in total|altogether|in aggregate"
    r"|合计|总共|共计|一共|七巨头|巨头们",
    re.IGNORECASE,
)
# a clause boundary between a company's name and a figure: the name may not own the figure
CLAUSE_BREAK = re.compile(r"[,;，；、:：]|\b(?:while|but|whereas|although|as)\b|而|但")
# "nearly X" is at most X and not far below it: within NEARLY_FLOOR of it
NEARLY = {"nearly", "almost", "close to", "just under", "将近", "接近", "近"}
NEARLY_FLOOR = 0.9
RESPECTIVELY = re.compile(r"\brespectively\b|分别", re.IGNORECASE)
# the end of a clause: names before it own no figure after it
CLAUSE_END = re.compile(r"[;；。]")
# a segment spoken of without its name: its figures are no company totals
UNNAMED_SEGMENT = re.compile(
    r"\b(?:the|this|that) (?:segment|unit|division|business(?:es)?)\b|该业务|该部门|这项业务"
)
LIST_GAP = re.compile(r"^\s*(?:,|，|、|and|&|和|与|及|以及|,\s*and)\s*$")
