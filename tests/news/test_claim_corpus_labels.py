"""The labelled claim corpus (tests/fixtures/news/claim_corpus.json) is well-formed and true.

The corpus is the yardstick of the claim checker (issue 11): each figure of each paragraph is
labelled with its subject, metric, period and expected verdict. These tests check the labels
themselves, not the checker: every figure text is in its paragraph, the mix of languages and
styles is there, and every ``match`` / ``mismatch`` label agrees with the recorded filings as
built into a warehouse (a match within rounding of the filed value, a mismatch clearly off).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import duckdb
import pytest

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "news" / "claim_corpus.json"

METRICS = {
    "revenue",
    "revenue_yoy",
    "capex",
    "capex_yoy",
    "net_income",
    "operating_income",
    "market_cap",
}
VERDICTS = {"match", "mismatch", "unverifiable", "dropped"}
TICKERS = {"AAPL", "MSFT", "GOOGL", "AMZN", "META", "NVDA", "TSLA"}

# A money match is within 1% of the filed value (journalists round to three figures); a rate
# match within 0.6 percentage points (a whole percent rounds by at most 0.5). A mismatch is
# clearly outside: more than 5% off, or more than 2 points for a rate.
MATCH_REL = 0.01
MATCH_RATE_POINTS = 0.006
MISMATCH_REL = 0.05
MISMATCH_RATE_POINTS = 0.02

# Revenue lines that are not business segments but disaggregations under
# srt:ProductOrServiceAxis, by the segment name the corpus uses (see the fixtures README).
DISAGGREGATIONS = {
    ("GOOGL", "Google Search & other"): "goog:GoogleSearchOtherMember",
    ("GOOGL", "YouTube ads"): "goog:YouTubeAdvertisingRevenueMember",
    ("GOOGL", "Google Network"): "goog:GoogleNetworkMember",
    ("GOOGL", "Google advertising"): "goog:GoogleAdvertisingRevenueMember",
    ("GOOGL", "Google subscriptions, platforms, and devices"): (
        "goog:SubscriptionsPlatformsAndDevicesRevenueMember"
    ),
    ("META", "Advertising"): "us-gaap:AdvertisingMember",
    ("AMZN", "Advertising services"): "us-gaap:AdvertisingMember",
    ("AMZN", "Third-party seller services"): "amzn:ThirdPartySellerServicesMember",
    ("NVDA", "Data Center"): "nvda:DataCenterMember",
    ("NVDA", "Gaming"): "nvda:GamingMember",
    ("TSLA", "Automotive revenues"): "tsla:AutomotiveRevenuesMember",
    ("TSLA", "Automotive regulatory credits"): "tsla:AutomotiveRegulatoryCreditsMember",
    ("AAPL", "iPhone"): "aapl:IPhoneMember",
    ("AAPL", "Services"): "us-gaap:ServiceMember",
}


def load_corpus() -> list[dict]:
    """The corpus as a list of paragraphs."""
    return json.loads(CORPUS.read_text(encoding="utf-8"))


def figures(corpus: list[dict]) -> list[tuple[dict, dict]]:
    """(paragraph, figure) pairs of the whole corpus."""
    return [(case, fig) for case in corpus for fig in case["figures"]]


class Filings:
    """Filed values of a built warehouse, keyed like the corpus labels."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def _one(self, sql: str, params: list) -> float | None:
        rows = self.con.execute(sql, params).fetchall()
        values = {float(r[0]) for r in rows if r[0] is not None}
        if len(values) > 1:
            raise AssertionError(f"several filed values for {params}: {sorted(values)}")
        return values.pop() if values else None

    def level(self, ticker, segment, metric, year, quarter) -> float | None:
        """Company or segment ``metric`` (revenue, capex, ...) for a fiscal year or quarter."""
        if segment is None:
            if quarter is None:
                sql = (
                    "select value from staging.int_metric_annual where ticker = ? and segment = ''"
                    " and metric = ? and fiscal_year = ?"
                )
                return self._one(sql, [ticker, metric, year])
            sql = (
                "select value from marts.metric_quarterly where ticker = ? and metric = ?"
                " and fiscal_year = ? and fiscal_quarter = ?"
            )
            return self._one(sql, [ticker, metric, year, quarter])
        if metric != "revenue":  # segment operating income: the filings give fiscal years only
            if quarter is not None:
                return None
            sql = (
                "select value from staging.int_metric_annual where ticker = ? and segment = ?"
                " and metric = ? and fiscal_year = ?"
            )
            return self._one(sql, [ticker, segment, metric, year])
        member = DISAGGREGATIONS.get((ticker, segment))
        if member is None:
            sql = (
                "select revenue from marts.segment_revenue where ticker = ? and segment = ?"
                " and fiscal_year = ? and fiscal_quarter is not distinct from ?"
            )
            return self._one(sql, [ticker, segment, year, quarter])
        return self._disaggregation(ticker, member, year, quarter)

    def _disaggregation(self, ticker, member, year, quarter) -> float | None:
        if quarter is None:
            period = (
                "select fy_start as period_start, fy_end as period_end"
                " from staging.int_fiscal_years where ticker = ? and fiscal_year = ?"
            )
            params = [ticker, year]
        else:
            period = (
                "select period_start, period_end from staging.int_fiscal_quarters"
                " where ticker = ? and fiscal_year = ? and fiscal_quarter = ?"
            )
            params = [ticker, year, quarter]
        sql = f"""
            select f.value from staging.facts as f, ({period}) as p
            where f.ticker = ? and f.dimensions['srt:ProductOrServiceAxis'] = ?
              and f.concept in ('RevenueFromContractWithCustomerExcludingAssessedTax', 'Revenues')
              and abs(f.period_start - p.period_start) <= 7
              and abs(f.period_end - p.period_end) <= 7
        """
        return self._one(sql, [*params, ticker, member])

    def value(self, fig: dict) -> float | None:
        """The filed value a figure's label points at (summed over a group), or None."""
        metric, year, quarter = fig["metric"], fig["fiscal_year"], fig["fiscal_quarter"]
        # "capex including finance-lease principal payments" names its own definition
        parts = [metric.removesuffix("_yoy"), *fig.get("includes", [])]
        subjects = fig["group"] or [fig["ticker"]]
        total, before = 0.0, 0.0
        for ticker in subjects:
            for part in parts:
                now = self.level(ticker, fig["segment"], part, year, quarter)
                if now is None:
                    return None
                total += now
                if metric.endswith("_yoy"):
                    prior = self.level(ticker, fig["segment"], part, year - 1, quarter)
                    if prior is None:
                        return None
                    before += prior
        return total / before - 1 if metric.endswith("_yoy") else total


def half_unit(fig: dict) -> float:
    """Half a unit of the figure's last written digit, in the units of its value.

    "$2.1 billion" allows 0.05 billion either way, "300.4亿美元" 0.05亿; a figure in words
    ("两千亿") has no written digits and is held to the relative tolerance alone.
    """
    digits = re.search(r"\d[\d,]*(?:\.(\d+))?", fig["text"])
    if digits is None or not fig["value"]:
        return 0.0
    written = float(digits.group(0).replace(",", ""))
    if written == 0:
        return 0.0
    scale = abs(fig["value"]) / written
    return 0.5 * 10 ** -len(digits.group(1) or "") * scale * (1 + 1e-9)


def judge(fig: dict, filed: float) -> str:
    """'match', 'mismatch' or 'between' (neither clearly) for a figure's value and bound."""
    claimed, bound = fig["value"], fig["bound"]
    rounding = half_unit(fig)
    if fig["metric"].endswith("_yoy"):
        off = filed - claimed  # percentage points, as a fraction
        near, far = max(MATCH_RATE_POINTS, rounding), MISMATCH_RATE_POINTS
    else:
        off = (filed - claimed) / abs(filed)
        near, far = max(MATCH_REL, rounding / abs(filed)), MISMATCH_REL
    if bound == "low":  # "more than X": the filed value is at least X
        return "match" if off >= -near else "mismatch" if off < -far else "between"
    if bound == "high":  # "nearly X": at most X, and not far below it
        if -0.1 <= off <= near:
            return "match"
        return "mismatch" if off > far or off < -0.2 else "between"
    if abs(off) <= near:
        return "match"
    return "mismatch" if abs(off) > far else "between"


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    """The labelled corpus."""
    return load_corpus()


def test_corpus_shape(corpus):
    """At least 40 paragraphs, unique ids, both languages, three styles, fields as documented."""
    assert len(corpus) >= 40
    ids = [case["id"] for case in corpus]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert {case["language"] for case in corpus} == {"en", "zh"}
    assert {case["style"] for case in corpus} == {"press", "newswire", "blog"}
    for case in corpus:
        assert case["id"].startswith(f"{case['language']}-{case['style']}-"), case["id"]
        assert 1 <= len(case["figures"]) <= 4, case["id"]
        assert len(case["published"]) == 10 and case["published"][4] == "-", case["id"]


def test_every_figure_is_in_its_paragraph(corpus):
    """Each figure's text is an exact substring of its paragraph, labelled with known values."""
    for case, fig in figures(corpus):
        where = f"{case['id']}: {fig['text']!r}"
        assert fig["text"] in case["text"], where
        assert fig["verdict"] in VERDICTS, where
        assert fig["bound"] in {None, "low", "high"}, where
        assert fig["ticker"] is None or fig["ticker"] in TICKERS, where
        assert fig["group"] is None or set(fig["group"]) <= TICKERS, where
        assert not (fig["ticker"] and fig["group"]), where
        assert fig["fiscal_quarter"] in {None, 1, 2, 3, 4}, where
        assert fig["note"].strip(), where
        if fig["verdict"] != "dropped":
            assert fig["metric"] in METRICS, where
        if fig["verdict"] in {"match", "mismatch"}:
            assert fig["ticker"] or fig["group"], where
            assert fig["value"] is not None and fig["fiscal_year"], where
            assert fig["metric"] != "market_cap", where


def test_verdict_mix(corpus):
    """Mostly true figures, some false ones, and traps of every kind the issue names."""
    counts = Counter(fig["verdict"] for _, fig in figures(corpus))
    total = sum(counts.values())
    assert counts["match"] >= 0.35 * total, counts
    assert counts["mismatch"] >= 0.10 * total, counts
    assert counts["unverifiable"] >= 0.10 * total, counts
    assert counts["dropped"] >= 0.05 * total, counts
    labelled = [fig for _, fig in figures(corpus)]
    assert any(f["group"] for f in labelled)
    assert any(f["segment"] for f in labelled if f["verdict"] == "match")
    assert any(f["segment"] for f in labelled if f["verdict"] == "unverifiable")
    assert any(f["bound"] for f in labelled if f["verdict"] == "match")
    assert any(f["bound"] for f in labelled if f["verdict"] == "dropped")


def test_a_dropped_threshold_sits_beside_its_exact_figure(corpus):
    """A dropped threshold ("passed $40 billion, reaching $43.2 billion") has its exact figure."""
    subject = ("ticker", "group", "segment", "metric", "fiscal_year", "fiscal_quarter")
    for case in corpus:
        for fig in case["figures"]:
            if fig["verdict"] != "dropped" or fig["bound"] is None or fig["metric"] is None:
                continue
            exact = [
                other
                for other in case["figures"]
                if other["bound"] is None
                and other["verdict"] != "dropped"
                and all(other[key] == fig[key] for key in subject)
            ]
            assert exact, f"{case['id']} {fig['text']!r}: no exact figure for the dropped bound"


@pytest.fixture(scope="module")
def filings(built_warehouse: Path):
    """The recorded filings, as built into a warehouse by ``capex run``."""
    con = duckdb.connect(str(built_warehouse), read_only=True)
    yield Filings(con)
    con.close()


def test_match_and_mismatch_labels_agree_with_the_filings(corpus, filings):
    """A match is within rounding of the filed value; a mismatch is clearly off it."""
    wrong = []
    for case, fig in figures(corpus):
        if fig["verdict"] not in {"match", "mismatch"}:
            continue
        filed = filings.value(fig)
        if filed is None:
            wrong.append(f"{case['id']} {fig['text']!r}: nothing filed for this label")
            continue
        verdict = judge(fig, filed)
        if verdict != fig["verdict"]:
            wrong.append(f"{case['id']} {fig['text']!r}: filed {filed:,.4f} -> {verdict}")
    assert not wrong, "\n".join(wrong)


def test_unverifiable_periods_are_absent_from_the_filings(corpus, filings):
    """A figure labelled unverifiable for want of filings has indeed nothing filed."""
    for case, fig in figures(corpus):
        if fig["verdict"] == "unverifiable" and "not in the filings" in fig["note"]:
            assert filings.value(fig) is None, f"{case['id']} {fig['text']!r} is filed"
