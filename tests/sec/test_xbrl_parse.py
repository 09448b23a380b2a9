"""parse_xbrl against real SEC filings (../shared/fixtures) and hand-made twins.

Every figure asserted here was read from the filing itself (the printed tables of the inline
document, or the fact element of the instance), not from the parser's output; each test says
where. Amounts are in USD unless said otherwise.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.sec.xbrl import XbrlDocument, XbrlParseError, parse_xbrl
from pipelines.sec.xbrl_facts import FACT_SCHEMA

HAND_MADE = Path(__file__).parents[1] / "fixtures" / "xbrl"
FILINGS = "sec/filings"
SEGMENTS_AXIS = "us-gaap:StatementBusinessSegmentsAxis"
KEY = ["taxonomy", "concept", "unit", "period_start", "period_end", "dimensions_key"]

AAPL_10K_2023 = "AAPL/10-K_2023-09-30/aapl-20230930_htm.xml"
AAPL_10K_2024 = "AAPL/10-K_2024-09-28/aapl-20240928.htm"
AAPL_10Q_2024 = "AAPL/10-Q_2024-06-29/aapl-20240629.htm"
AMZN_10K_2022 = "AMZN/10-K_2022-12-31/amzn-20221231_htm.xml"
AMZN_10K_2024 = "AMZN/10-K_2024-12-31/amzn-20241231.htm"
GOOGL_10K_2024 = "GOOGL/10-K_2024-12-31/goog-20241231.htm"
META_8K_2025 = "META/8-K_2025-12-19_0001628280-25-058337/meta-20251219.htm"
NVDA_10K_2023 = "NVDA/10-K_2023-01-29/nvda-20230129.htm"
NVDA_10K_2025 = "NVDA/10-K_2025-01-26/nvda-20250126.htm"
TSLA_10Q_2024 = "TSLA/10-Q_2024-06-30/tsla-20240630_htm.xml"

_cache: dict[Path, XbrlDocument] = {}


def parsed(shared_fixtures: Path, relative: str) -> XbrlDocument:
    """Parse a recorded filing once per test session (they are 1-3 MB each)."""
    path = shared_fixtures / FILINGS / relative
    if path not in _cache:
        _cache[path] = parse_xbrl(path.read_bytes(), url=f"https://www.sec.gov/{relative}")
    return _cache[path]


def millions(n: int) -> Decimal:
    return Decimal(n) * 1_000_000


def one_value(
    doc: XbrlDocument,
    concept: str,
    start: date | None,
    end: date,
    dims: dict[str, str] | None = None,
    unit: str = "USD",
) -> Decimal:
    """The single value of ``concept`` for a period and exact set of dimensions."""
    key = "|".join(f"{a}={m}" for a, m in sorted((dims or {}).items()))
    period = pl.col("period_start").is_null() if start is None else pl.col("period_start") == start
    rows = doc.facts.filter(
        (pl.col("concept") == concept)
        & (pl.col("unit") == unit)
        & period
        & (pl.col("period_end") == end)
        & (pl.col("dimensions_key") == key)
    )
    assert rows.height == 1, f"{concept} {start}..{end} {key!r}: {rows.height} rows"
    return rows["value"][0]


# --------------------------------------------------------------------------------------------
# Real published figures.


def test_amazon_aws_segment_revenue_from_instance(shared_fixtures):
    doc = parsed(shared_fixtures, AMZN_10K_2022)
    assert (doc.kind, doc.parser) == ("instance", "xml")
    fy22 = (date(2022, 1, 1), date(2022, 12, 31))
    concept = "RevenueFromContractWithCustomerExcludingAssessedTax"
    # amzn-20221231_htm.xml, context i8e5f2cc..._D20220101-20221231 (StatementBusinessSegmentsAxis
    # = amzn:AmazonWebServicesSegmentMember, alone): <us-gaap:RevenueFromContractWith...>
    # 80096000000, decimals -6. AWS net sales 2022 = $80,096 M (90,757 M is AWS's 2023
    # figure, asserted from the FY2024 10-K below).
    aws = one_value(doc, concept, *fy22, {SEGMENTS_AXIS: "amzn:AmazonWebServicesSegmentMember"})
    assert aws == millions(80_096)
    # Same filing: North America 315,880 M, International 118,007 M, total 513,983 M.
    north_america = one_value(
        doc, concept, *fy22, {SEGMENTS_AXIS: "amzn:NorthAmericaSegmentMember"}
    )
    international = one_value(
        doc, concept, *fy22, {SEGMENTS_AXIS: "amzn:InternationalSegmentMember"}
    )
    total = one_value(doc, concept, *fy22)
    assert (north_america, international, total) == (
        millions(315_880),
        millions(118_007),
        millions(513_983),
    )
    assert north_america + international + aws == total
    assert (doc.document_type, doc.fiscal_year, doc.fiscal_period) == ("10-K", 2022, "FY")
    assert doc.period_end == date(2022, 12, 31)


def test_amazon_aws_segment_revenue_from_inline(shared_fixtures):
    doc = parsed(shared_fixtures, AMZN_10K_2024)
    # amzn-20241231.htm, "Net sales information is as follows (in millions)":
    # "AWS 90,757 107,556" for 2023 and 2024.
    concept = "RevenueFromContractWithCustomerExcludingAssessedTax"
    aws = {SEGMENTS_AXIS: "amzn:AmazonWebServicesSegmentMember"}
    assert one_value(doc, concept, date(2023, 1, 1), date(2023, 12, 31), aws) == millions(90_757)
    assert one_value(doc, concept, date(2024, 1, 1), date(2024, 12, 31), aws) == millions(107_556)


def test_alphabet_google_cloud_revenue_2024(shared_fixtures):
    doc = parsed(shared_fixtures, GOOGL_10K_2024)
    assert (doc.kind, doc.parser) == ("inline", "xml")
    # goog-20241231.htm, Note 15 segment table: "Google Cloud 26,280 33,088 43,229"
    # (2022, 2023, 2024); "Total revenues ... $ 350,018" for 2024.
    fy24 = (date(2024, 1, 1), date(2024, 12, 31))
    concept = "RevenueFromContractWithCustomerExcludingAssessedTax"
    cloud = {SEGMENTS_AXIS: "goog:GoogleCloudMember"}
    assert one_value(doc, concept, *fy24, cloud) == millions(43_229)
    assert one_value(doc, concept, *fy24) == millions(350_018)


def test_alphabet_shares_outstanding_per_class(shared_fixtures):
    doc = parsed(shared_fixtures, GOOGL_10K_2024)
    # goog-20241231.htm cover page: "As of January 28, 2025, there were 5,833 million shares of
    # Alphabet's Class A stock outstanding, 860 million shares of Alphabet's Class B stock
    # outstanding, and 5,497 million shares of the Alphabet's Class C stock outstanding."
    # Each is an ix:nonFraction with scale="6" and decimals="INF".
    rows = doc.facts.filter(
        (pl.col("taxonomy") == "dei") & (pl.col("concept") == "EntityCommonStockSharesOutstanding")
    )
    by_class = {
        row["dimensions"][0]["member"]: row["value"]
        for row in rows.iter_rows(named=True)
        if len(row["dimensions"]) == 1
        and row["dimensions"][0]["axis"] == "us-gaap:StatementClassOfStockAxis"
    }
    assert by_class == {
        "us-gaap:CommonClassAMember": millions(5_833),
        "us-gaap:CommonClassBMember": millions(860),
        "goog:CapitalClassCMember": millions(5_497),
    }
    assert rows.height == 3
    assert set(rows["unit"]) == {"shares"}
    assert set(rows["period_end"]) == {date(2025, 1, 28)}
    assert rows["period_start"].null_count() == 3
    assert rows["decimals"].null_count() == 3  # decimals="INF"


def test_tesla_q2_2024_revenue_and_automotive_segment(shared_fixtures):
    doc = parsed(shared_fixtures, TSLA_10Q_2024)
    assert (doc.document_type, doc.fiscal_year, doc.fiscal_period) == ("10-Q", 2024, "Q2")
    assert doc.period_end == date(2024, 6, 30)
    q2 = (date(2024, 4, 1), date(2024, 6, 30))
    # tsla-20240630_htm.xml: <us-gaap:Revenues contextRef="c-33" decimals="-6" id="f-1114">
    # 25500000000 (no dimensions); contextRef="c-304" (StatementBusinessSegmentsAxis =
    # tsla:AutomotiveSegmentMember) 22486000000; "c-308" (EnergyGenerationAndStorageSegment)
    # 3014000000. Tesla's published Q2 2024 total revenues: $25,500 M.
    assert one_value(doc, "Revenues", *q2) == millions(25_500)
    automotive = one_value(doc, "Revenues", *q2, {SEGMENTS_AXIS: "tsla:AutomotiveSegmentMember"})
    energy = one_value(
        doc, "Revenues", *q2, {SEGMENTS_AXIS: "tsla:EnergyGenerationAndStorageSegmentMember"}
    )
    assert (automotive, energy) == (millions(22_486), millions(3_014))
    assert automotive + energy == millions(25_500)


def test_nvidia_fy2025_revenue_and_compute_networking_segment(shared_fixtures):
    doc = parsed(shared_fixtures, NVDA_10K_2025)
    fy25 = (date(2024, 1, 29), date(2025, 1, 26))
    # nvda-20250126.htm, "Revenue by Reportable Segments ($ in millions)": "Compute &
    # Networking $ 116,193", "Graphics 14,304", "Total $ 130,497" for the year ended Jan 26,
    # 2025. Also companyfacts (SOURCES.md): Revenues CY2024 = 130,497,000,000.
    assert one_value(doc, "Revenues", *fy25) == millions(130_497)
    segment = {"srt:ConsolidationItemsAxis": "us-gaap:OperatingSegmentsMember"}
    compute = one_value(
        doc,
        "Revenues",
        *fy25,
        {**segment, SEGMENTS_AXIS: "nvda:ComputeAndNetworkingSegmentMember"},
    )
    graphics = one_value(
        doc, "Revenues", *fy25, {**segment, SEGMENTS_AXIS: "nvda:GraphicsSegmentMember"}
    )
    assert (compute, graphics) == (millions(116_193), millions(14_304))
    assert (doc.document_type, doc.fiscal_year, doc.fiscal_period) == ("10-K", 2025, "FY")
    assert doc.period_end == date(2025, 1, 26)


def test_apple_fy2024_revenue_and_net_sales_by_geography(shared_fixtures):
    doc = parsed(shared_fixtures, AAPL_10K_2024)
    fy24 = (date(2023, 10, 1), date(2024, 9, 28))
    concept = "RevenueFromContractWithCustomerExcludingAssessedTax"
    # aapl-20240928.htm, "Segment Operating Performance (dollars in millions)": Americas
    # $167,045, Europe 101,328, Greater China 66,952, Japan 25,052, Rest of Asia Pacific
    # 30,658, Total net sales $391,035 (2024). Companyfacts CY2024: 391,035,000,000.
    assert one_value(doc, concept, *fy24) == millions(391_035)
    expected = {
        "aapl:AmericasSegmentMember": 167_045,
        "aapl:EuropeSegmentMember": 101_328,
        "aapl:GreaterChinaSegmentMember": 66_952,
        "aapl:JapanSegmentMember": 25_052,
        "aapl:RestOfAsiaPacificSegmentMember": 30_658,
    }
    for member, amount in expected.items():
        assert one_value(doc, concept, *fy24, {SEGMENTS_AXIS: member}) == millions(amount)
    assert sum(expected.values()) == 391_035
    # Capex, "Payments for acquisition of property, plant and equipment (9,447)": tagged
    # positive (no sign attribute); companyfacts CY2024 = 9,447,000,000.
    assert one_value(doc, "PaymentsToAcquirePropertyPlantAndEquipment", *fy24) == millions(9_447)


def test_inline_sign_scale_and_formats_on_a_real_filing(shared_fixtures):
    doc = parsed(shared_fixtures, AAPL_10K_2024)
    # Balance sheet: "Accumulated deficit ( 19,154 ) ( 214 )" at Sept 28, 2024 / Sept 30, 2023,
    # tagged sign="-" scale="6" decimals="-6".
    deficit = "RetainedEarningsAccumulatedDeficit"
    assert one_value(doc, deficit, None, date(2024, 9, 28)) == -millions(19_154)
    assert one_value(doc, deficit, None, date(2023, 9, 30)) == -millions(214)
    # Income statement: "Other income/(expense), net 269 ( 565 ) ( 334 )" (2024, 2023, 2022).
    other = "NonoperatingIncomeExpense"
    assert one_value(doc, other, date(2023, 10, 1), date(2024, 9, 28)) == millions(269)
    assert one_value(doc, other, date(2022, 9, 25), date(2023, 9, 30)) == -millions(565)
    # Cash flow: "Proceeds from issuance of term debt, net — 5,228 5,465": the dash is
    # format="ixt:fixed-zero".
    debt = "ProceedsFromIssuanceOfLongTermDebt"
    assert one_value(doc, debt, date(2023, 10, 1), date(2024, 9, 28)) == 0
    assert one_value(doc, debt, date(2022, 9, 25), date(2023, 9, 30)) == millions(5_228)
    # Income taxes: "Effective tax rate 24.1 % 14.7 % 16.2 %" (scale="-2": 24.1 -> 0.241).
    rate = "EffectiveIncomeTaxRateContinuingOperations"
    assert one_value(doc, rate, date(2023, 10, 1), date(2024, 9, 28), unit="pure") == Decimal(
        "0.241"
    )
    # Cover: 15,116,786 thousand shares outstanding at Sept 28, 2024 (scale="3", nested
    # ix:nonFraction inside CommonStockSharesIssued): "15,116,786 and 15,550,061 shares issued
    # and outstanding" in the balance sheet's (in thousands) caption.
    outstanding = "CommonStockSharesOutstanding"
    shares = one_value(doc, outstanding, None, date(2024, 9, 28), unit="shares")
    assert shares == Decimal(15_116_786_000)


def test_dei_metadata_of_a_quarterly_and_an_8k_cover(shared_fixtures):
    quarter = parsed(shared_fixtures, AAPL_10Q_2024)
    # aapl-20240629.htm cover: "FORM 10-Q ... For the quarterly period ended June 29, 2024";
    # hidden dei facts: DocumentFiscalYearFocus 2024, DocumentFiscalPeriodFocus Q3.
    assert (quarter.document_type, quarter.fiscal_year, quarter.fiscal_period) == (
        "10-Q",
        2024,
        "Q3",
    )
    assert quarter.period_end == date(2024, 6, 29)
    cover = parsed(shared_fixtures, META_8K_2025)
    # An Item 5.02 8-K: a cover page with dei text facts only, "December 19, 2025".
    assert (cover.document_type, cover.fiscal_year, cover.period_end) == (
        "8-K",
        None,
        date(2025, 12, 19),
    )
    assert cover.facts.height == 0
    assert cover.facts.schema == pl.Schema(FACT_SCHEMA)


def test_instance_and_inline_agree_on_the_facts_they_share(shared_fixtures):
    # Apple's FY2023 10-K (instance) and FY2024 10-K (inline) both report FY2023 and FY2022
    # figures. Every shared fact agrees except the one Apple reclassified: the income-tax
    # reconciliation "Other" line for FY2022, 456 M in the FY2023 filing's instance and
    # "Other 10 ( 192 ) 160" (2024, 2023, 2022) in the FY2024 10-K.
    older = parsed(shared_fixtures, AAPL_10K_2023).facts
    newer = parsed(shared_fixtures, AAPL_10K_2024).facts
    shared = older.join(newer, on=KEY, how="inner", nulls_equal=True, suffix="_2024")
    assert shared.height > 400
    assert shared.filter(pl.col("dimensions_key") != "").height > 150
    differing = shared.filter(pl.col("value") != pl.col("value_2024"))
    assert differing.select("concept", "period_end", "value", "value_2024").rows() == [
        (
            "IncomeTaxReconciliationOtherAdjustments",
            date(2022, 9, 24),
            millions(456),
            millions(160),
        )
    ]


def test_html_fallback_for_a_document_that_is_not_xhtml(shared_fixtures):
    # nvda-20230129.htm is not well-formed XML (an ix:nonNumeric closes across a div), so it
    # goes through the HTML parser. Its "Revenue by Reportable Segments" table: "Compute &
    # Networking $ 15,068", "Graphics 11,906", "Total $ 26,974" (year ended January 29, 2023).
    doc = parsed(shared_fixtures, NVDA_10K_2023)
    assert (doc.kind, doc.parser) == ("inline", "html")
    fy23 = (date(2022, 1, 31), date(2023, 1, 29))
    assert one_value(doc, "Revenues", *fy23) == millions(26_974)
    segment = {"srt:ConsolidationItemsAxis": "us-gaap:OperatingSegmentsMember"}
    compute = {**segment, SEGMENTS_AXIS: "nvda:ComputeAndNetworkingMember"}
    graphics = {**segment, SEGMENTS_AXIS: "nvda:GraphicsMember"}
    assert one_value(doc, "Revenues", *fy23, compute) == millions(15_068)
    assert one_value(doc, "Revenues", *fy23, graphics) == millions(11_906)
    assert (doc.document_type, doc.fiscal_year, doc.period_end) == ("10-K", 2023, date(2023, 1, 29))


def test_html_fallback_gives_the_same_facts_as_the_xml_parser(shared_fixtures):
    body = (shared_fixtures / FILINGS / AAPL_10Q_2024).read_bytes()
    # An HTML entity is fine for the HTML parser but not for XML: this forces the fallback.
    broken = body.replace(b"&#160;", b"&nbsp;")
    assert broken != body
    xml_doc = parse_xbrl(body, url="aapl-20240629.htm")
    html_doc = parse_xbrl(broken, url="aapl-20240629.htm")
    assert (xml_doc.parser, html_doc.parser) == ("xml", "html")
    assert html_doc.facts.height > 500
    assert html_doc.facts.sort(KEY).equals(xml_doc.facts.sort(KEY))
    assert (html_doc.document_type, html_doc.fiscal_period, html_doc.period_end) == (
        xml_doc.document_type,
        xml_doc.fiscal_period,
        xml_doc.period_end,
    )


ALL_FILINGS = [
    AAPL_10K_2023,
    AAPL_10K_2024,
    AAPL_10Q_2024,
    AMZN_10K_2022,
    AMZN_10K_2024,
    GOOGL_10K_2024,
    "META/10-K_2024-12-31/meta-20241231.htm",
    NVDA_10K_2023,
    NVDA_10K_2025,
    "TSLA/10-K_2023-12-31/tsla-20231231.htm",
    "TSLA/10-K_2024-12-31/tsla-20241231.htm",
    TSLA_10Q_2024,
]


@pytest.mark.parametrize("relative", ALL_FILINGS)
def test_every_recorded_filing_parses_to_one_row_per_fact(shared_fixtures, relative):
    doc = parsed(shared_fixtures, relative)
    facts = doc.facts
    assert facts.schema == pl.Schema(FACT_SCHEMA)
    assert facts.height > 500
    assert doc.document_type in {"10-K", "10-Q"}
    assert facts.select(KEY).is_duplicated().sum() == 0
    # Facts without dimensions have a null list and an empty key; the others list their
    # pairs sorted by axis, and the key spells the same pairs.
    plain = facts.filter(pl.col("dimensions_key") == "")
    assert plain["dimensions"].null_count() == plain.height
    for dims, key in (
        facts.filter(pl.col("dimensions_key") != "")
        .select("dimensions", "dimensions_key")
        .iter_rows()
    ):
        axes = [d["axis"] for d in dims]
        assert axes == sorted(axes)
        assert key == "|".join(f"{d['axis']}={d['member']}" for d in dims)
    assert facts["period_end"].null_count() == 0
    assert facts.filter(pl.col("period_start") > pl.col("period_end")).height == 0
    assert set(facts["unit"]) >= {"USD", "shares", "USD/shares"}
    assert doc.conflicts == 0


# --------------------------------------------------------------------------------------------
# Hand-made twins (tests/fixtures/xbrl/README.md): every format, checked value by value.


def hand_made(name: str) -> bytes:
    return (HAND_MADE / name).read_bytes()


# Worked out by hand from example-20241231.htm:
#   "1,234.5" scale 6 -> 1,234,500,000; its rounded twin "1.2" scale 9 decimals -8 agrees;
#   "(56)" sign="-" scale 6 -> -56,000,000; fixed-zero "—" -> 0; "two" -> 2;
#   "0.35" sign="-" -> -0.35; "24.1" scale -2 -> 0.241; "1.234.567,00" comma-decimal ->
#   1,234,567; "50,400" scale 3 -> 50,400,000 (and the nested outer fact, same text);
#   "64" scale -2 -> 0.64 on a typed dimension.
TWIN_FACTS = {
    ("NumberOfReportableSegments", "Segment", date(2024, 12, 31), ""): Decimal(2),
    ("Revenues", "USD", date(2024, 12, 31), ""): Decimal(1_234_500_000),
    ("Revenues", "USD", date(2023, 12, 31), ""): Decimal(987_600_000),
    (
        "Revenues",
        "USD",
        date(2024, 12, 31),
        "srt:ConsolidationItemsAxis=us-gaap:OperatingSegmentsMember"
        "|us-gaap:StatementBusinessSegmentsAxis=ex:CloudSegmentMember",
    ): Decimal(400_000_000),
    ("NetIncomeLoss", "USD", date(2024, 12, 31), ""): Decimal(-56_000_000),
    ("NetIncomeLoss", "USD", date(2023, 12, 31), ""): Decimal(12_000_000),
    ("ProceedsFromIssuanceOfLongTermDebt", "USD", date(2024, 12, 31), ""): Decimal(0),
    ("EarningsPerShareDiluted", "USD/shares", date(2024, 12, 31), ""): Decimal("-0.35"),
    ("EffectiveIncomeTaxRateContinuingOperations", "pure", date(2024, 12, 31), ""): Decimal(
        "0.241"
    ),
    ("RevenuesEuro", "EUR", date(2024, 12, 31), ""): Decimal(1_234_567),
    ("CommonStockSharesAuthorized", "shares", date(2024, 12, 31), ""): Decimal(50_400_000),
    ("CommonStockSharesIssued", "shares", date(2024, 12, 31), ""): Decimal(50_400_000),
    (
        "RevenueRemainingPerformanceObligationPercentage",
        "pure",
        date(2024, 12, 31),
        "us-gaap:RevenueRemainingPerformanceObligationExpectedTimingOfSatisfactionStartDateAxis"
        "=2025-01-01",
    ): Decimal("0.64"),
}


@pytest.mark.parametrize("name", ["example-20241231.htm", "example-20241231_htm.xml"])
def test_hand_made_twin_values(name):
    doc = parse_xbrl(hand_made(name), url=name)
    got = {
        (row["concept"], row["unit"], row["period_end"], row["dimensions_key"]): row["value"]
        for row in doc.facts.iter_rows(named=True)
    }
    assert got == TWIN_FACTS
    assert doc.facts.height == len(TWIN_FACTS)
    revenue = doc.facts.filter(
        (pl.col("concept") == "Revenues")
        & (pl.col("period_end") == date(2024, 12, 31))
        & (pl.col("dimensions_key") == "")
    )
    assert revenue["decimals"].to_list() == [-5]  # the precise one of the two duplicates
    assert (doc.duplicates, doc.conflicts, doc.nil_facts) == (1, 0, 1)
    assert (doc.document_type, doc.fiscal_year, doc.fiscal_period, doc.period_end) == (
        "10-K",
        2024,
        "FY",
        date(2024, 12, 31),
    )
    segments = doc.facts.filter(pl.col("concept") == "NumberOfReportableSegments")
    assert segments["decimals"].to_list() == [None]  # decimals="INF"
    cloud = doc.facts.filter(pl.col("dimensions_key").str.contains("CloudSegmentMember"))
    assert cloud["dimensions"].to_list() == [
        [
            {"axis": "srt:ConsolidationItemsAxis", "member": "us-gaap:OperatingSegmentsMember"},
            {"axis": SEGMENTS_AXIS, "member": "ex:CloudSegmentMember"},
        ]
    ]


def test_hand_made_inline_and_instance_give_the_same_frame():
    inline = parse_xbrl(hand_made("example-20241231.htm"), url="example-20241231.htm")
    instance = parse_xbrl(hand_made("example-20241231_htm.xml"), url="example-20241231_htm.xml")
    assert (inline.kind, instance.kind) == ("inline", "instance")
    assert inline.facts.sort(KEY).equals(instance.facts.sort(KEY))


def test_conflicting_duplicates_keep_the_most_precise_and_are_counted():
    # The rounded copy now says 1.3 billion, which 1,234.5 million does not round to.
    body = hand_made("example-20241231.htm").replace(
        b'format="ixt:num-dot-decimal">1.2</ix:nonFraction>',
        b'format="ixt:num-dot-decimal">1.3</ix:nonFraction>',
    )
    doc = parse_xbrl(body, url="conflict.htm")
    assert (doc.duplicates, doc.conflicts) == (1, 1)
    revenue = doc.facts.filter(
        (pl.col("concept") == "Revenues")
        & (pl.col("period_end") == date(2024, 12, 31))
        & (pl.col("dimensions_key") == "")
    )
    assert revenue.select("value", "decimals").rows() == [(Decimal(1_234_500_000), -5)]


# --------------------------------------------------------------------------------------------
# Bad input: a clear error naming the URL and the cause, never half a result.

URL = "https://www.sec.gov/Archives/edgar/data/1/000000000124000001/x_htm.xml"


def raises(body: bytes, *fragments: str) -> str:
    with pytest.raises(XbrlParseError) as info:
        parse_xbrl(body, url=URL)
    message = str(info.value)
    assert message.startswith(URL + ": ")
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_html_error_pages_are_not_xbrl():
    well_formed = (
        b"<!DOCTYPE html><html><head><title>Request Rate Threshold Exceeded</title></head>"
        b"<body><p>Your request has been identified as part of a network of automated "
        b"tools.</p></body></html>"
    )
    raises(well_formed, "not an XBRL document", "ix:header")
    sloppy = b"<html><body>Access Denied<br>Reference #18.1234</body></html>"
    raises(sloppy, "not an XBRL document", "not well-formed XML")


def test_empty_and_non_xbrl_xml_bodies():
    raises(b"", "empty body")
    raises(b"  \n", "empty body")
    raises(b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'/>", "root element")


def test_truncated_instance_fails(shared_fixtures):
    body = (shared_fixtures / FILINGS / AMZN_10K_2022).read_bytes()
    raises(body[: len(body) // 2], "not well-formed XML", "fetch it again")


def test_truncated_inline_fails(shared_fixtures):
    body = (shared_fixtures / FILINGS / GOOGL_10K_2024).read_bytes()
    raises(body[: len(body) // 2], "cut short", "fetch it again")
    # Cut inside the header, and cut just before the closing </html>.
    raises(body[: body.index(b"</ix:header>")], "cut short")
    raises(body[: body.rindex(b"</html>")], "cut short")


def test_truncated_non_xhtml_inline_fails(shared_fixtures):
    # The HTML fallback would happily recover a cut document; it must refuse.
    body = (shared_fixtures / FILINGS / NVDA_10K_2023).read_bytes()
    raises(body[: int(len(body) * 0.9)], "cut short")


def test_no_contexts():
    body = hand_made("example-20241231_htm.xml")
    start, end = body.index(b"<context "), body.rindex(b"</context>") + len(b"</context>")
    raises(body[:start] + body[end:], "no xbrli:context found")


def test_missing_context_ref_inline():
    body = hand_made("example-20241231.htm").replace(
        b'name="us-gaap:NetIncomeLoss" contextRef="c-fy24" ', b'name="us-gaap:NetIncomeLoss" '
    )
    raises(body, "us-gaap:NetIncomeLoss", "without a contextRef")


def test_missing_context_ref_instance():
    body = hand_made("example-20241231_htm.xml").replace(
        b'<us-gaap:NetIncomeLoss contextRef="c-fy23" ', b"<us-gaap:NetIncomeLoss "
    )
    raises(body, "us-gaap:NetIncomeLoss", "no contextRef")


def test_unknown_context_and_unit_refs():
    inline = hand_made("example-20241231.htm")
    raises(
        inline.replace(b'contextRef="c-fy23"', b'contextRef="c-fy22"', 1),
        "'c-fy22' names no xbrli:context",
    )
    raises(
        inline.replace(b'unitRef="usdPerShare"', b'unitRef="usdPerShareX"'),
        "us-gaap:EarningsPerShareDiluted",
        "'usdPerShareX' names no xbrli:unit",
    )
    raises(
        inline.replace(b'unitRef="usdPerShare" ', b""),
        "us-gaap:EarningsPerShareDiluted",
        "without a unitRef",
    )


def test_unreadable_values():
    inline = hand_made("example-20241231.htm")
    raises(
        inline.replace(b'format="ixt:num-comma-decimal"', b'format="ixt:num-space-decimal-x"'),
        "ex:RevenuesEuro",
        "unsupported number format",
    )
    raises(inline.replace(b">987.6<", b">98x.6<"), "us-gaap:Revenues", "'98x.6' is not a number")
    raises(inline.replace(b">two<", b">several<"), "'several' is not a number in words")
    instance = hand_made("example-20241231_htm.xml")
    raises(instance.replace(b">12000000<", b">12 million<"), "'12 million' is not a number")
    raises(instance.replace(b">12000000<", b">12_000_000<"), "'12_000_000' is not a number")
    raises(instance.replace(b">12000000<", b">NaN<"), "'NaN' is not a number")


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("ixt:num-dot-decimal", "1,234,567.25", "1234567.25"),
        ("ixt:numdotdecimal", "1 234 567.25", "1234567.25"),  # transformation registry 2
        ("ixt:num-comma-decimal", "1.234.567,25", "1234567.25"),
        ("ixt:numcommadecimal", "1 234 567,25", "1234567.25"),
        ("ixt:num-unit-decimal", "1,234,567 euros and 5 cents", "1234567.05"),
        ("ixt:zerodash", "-", "0"),
        ("ixt:fixed-zero", "nil", "0"),
        ("ixt-sec:numwordsen", "One hundred twenty-three thousand four hundred six", "123406"),
        ("ixt-sec:numwordsen", "none", "0"),
        (None, "1234567.25", "1234567.25"),
    ],
)
def test_inline_number_formats(fmt, text, expected):
    # The hand-made EUR fact, rewritten with another format and display text.
    attribute = f' format="{fmt}"'.encode() if fmt else b""
    body = hand_made("example-20241231.htm").replace(
        b' format="ixt:num-comma-decimal">1.234.567,00<', attribute + b">" + text.encode() + b"<"
    )
    facts = parse_xbrl(body, url="formats.htm").facts
    euro = facts.filter(pl.col("concept") == "RevenuesEuro")
    assert euro["value"].to_list() == [Decimal(expected)]


def test_midnight_datetime_end_is_the_previous_day():
    # XBRL 2.1 section 4.7.2: a bare date as an end/instant means the end of that day, so
    # 2025-01-01T00:00:00 is the same instant as 2024-12-31.
    body = hand_made("example-20241231_htm.xml").replace(
        b"<instant>2024-12-31</instant>", b"<instant>2025-01-01T00:00:00</instant>"
    )
    doc = parse_xbrl(body, url="midnight.xml")
    shares = doc.facts.filter(pl.col("concept") == "CommonStockSharesIssued")
    assert shares["period_end"].to_list() == [date(2024, 12, 31)]


def test_forever_context_facts_are_skipped():
    # A fact with no period (xbrli:forever) cannot be filed under a period_end.
    body = hand_made("example-20241231_htm.xml").replace(
        b"<period><startDate>2023-01-01</startDate><endDate>2023-12-31</endDate></period>",
        b"<period><forever/></period>",
    )
    doc = parse_xbrl(body, url="forever.xml")
    assert doc.facts.filter(pl.col("period_end") == date(2023, 12, 31)).height == 0
    assert doc.facts.height == len(TWIN_FACTS) - 2  # Revenues and NetIncomeLoss for 2023
