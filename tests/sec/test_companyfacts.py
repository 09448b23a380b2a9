"""companyfacts → staging.facts rows: exact values, every vintage, the columns of the contract."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from pipelines.sec.companyfacts import normalize_companyfacts, parse_companyfacts
from pipelines.sec.facts import FACT_SCHEMA


def _document(*facts: dict, unit: str = "USD") -> bytes:
    return json.dumps({"facts": {"us-gaap": {"Revenues": {"units": {unit: list(facts)}}}}}).encode()


def test_values_are_exact_for_floats_and_huge_integers():
    frame = normalize_companyfacts(
        _document(
            {"end": "2024-06-30", "val": 6.08, "accn": "a"},
            {"end": "2024-06-30", "val": 0.0001, "accn": "b"},
            {"end": "2024-06-30", "val": 391035000000, "accn": "c"},
            {"end": "2024-06-30", "val": 12345678901234567891, "accn": "d"},
        ),
        "X",
        1,
    )
    assert frame["value"].to_list() == [
        Decimal("6.08"),
        Decimal("0.0001"),
        Decimal("391035000000"),
        Decimal("12345678901234567891"),
    ]


def test_columns_and_types_follow_the_contract():
    frame = normalize_companyfacts(
        _document(
            {
                "start": "2024-04-01",
                "end": "2024-06-30",
                "val": 84742000000,
                "accn": "0001652044-24-000079",
                "fy": 2024,
                "fp": "Q2",
                "form": "10-Q",
                "filed": "2024-07-24",
                "frame": "CY2024Q2",
            }
        ),
        "GOOGL",
        1652044,
    )
    assert {k: v for k, v in frame.schema.items() if k != "dimensions_key"} == FACT_SCHEMA
    row = frame.drop("dimensions_key").row(0, named=True)
    assert row == {
        "ticker": "GOOGL",
        "cik": 1652044,
        "taxonomy": "us-gaap",
        "concept": "Revenues",
        "unit": "USD",
        "period_start": date(2024, 4, 1),
        "period_end": date(2024, 6, 30),
        "value": Decimal("84742000000"),
        "decimals": None,
        "accession": "0001652044-24-000079",
        "form": "10-Q",
        "fiscal_year": 2024,
        "fiscal_period": "Q2",
        "filed": date(2024, 7, 24),
        "frame": "CY2024Q2",
        "dimensions": None,
        "source": "companyfacts",
    }


def test_every_vintage_of_a_real_document_is_kept(shared_fixtures):
    """Apple's 8-K facts (fy/fp null, filed 2015-01-28) stay: filtering on form drops them."""
    path = shared_fixtures / "sec" / "companyfacts" / "CIK0000320193.json"
    document = json.loads(path.read_bytes())
    expected = sum(
        len(facts)
        for concepts in document["facts"].values()
        for body in concepts.values()
        for facts in body["units"].values()
    )
    frame = normalize_companyfacts(path.read_bytes(), "AAPL", 320193)
    assert frame.height == expected
    eight_k = frame.filter(
        (pl.col("concept") == "PaymentsToAcquireProductiveAssets")
        & (pl.col("form") == "8-K")
        & (pl.col("period_end") == date(2014, 9, 27))
    )
    # SOURCES.md: 9,571,000,000 for 2013-09-29 → 2014-09-27, from an 8-K with fy/fp null
    assert eight_k["value"].to_list()[0] == Decimal("9571000000")
    assert eight_k["fiscal_year"].to_list()[0] is None


def test_empty_document():
    assert normalize_companyfacts(b'{"facts": {}}', "X", 1).height == 0


def test_values_keep_the_json_text_past_float_precision():
    """Values are read as SEC's JSON text, not through a float: a 25-digit integer (past
    both 2**53 and 2**64) lands exactly, and 1.5e9 is 1,500,000,000."""
    frame = normalize_companyfacts(
        b'{"facts": {"us-gaap": {"Revenues": {"units": {"USD": ['
        b'{"end": "2024-06-30", "val": 1234567890123456789012345, "accn": "a"},'
        b'{"end": "2024-06-30", "val": 1.5e9, "accn": "b"}]}}}}}',
        "X",
        1,
    )
    assert frame["value"].to_list() == [Decimal("1234567890123456789012345"), Decimal("1.5e9")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"cik": 1, "facts": {"us-gaap": {', "malformed JSON"),
        (b'{"cik": 1}', "not a companyfacts document (Object missing required field `facts`)"),
        (
            b'{"facts": {"us-gaap": {"Revenues": {"units": {"USD": 7}}}}}',
            "not a companyfacts document (Expected `array`, got `int` - at "
            "`$.facts[...][...].units[...]`; at facts.us-gaap.Revenues.units.USD)",
        ),
        (
            b'{"facts": {"dei": {"Shares": {"units": {"shares": [{"end": "2024-06-30", '
            b'"val": 1, "fy": "twenty"}]}}}}}',
            "facts of an unexpected shape",
        ),
        (
            b'{"facts": {"dei": {"Shares": {"units": {"shares": [1, 2]}}}}}',
            "facts of an unexpected shape",
        ),
    ],
)
def test_a_document_of_the_wrong_shape_is_named(body, message):
    """A body that is not JSON, or JSON that is not companyfacts, raises ValueError saying
    which: the fetch step turns it into an error naming the URL, the bulk step skips the
    member by name."""
    with pytest.raises(ValueError, match=re.escape(message)):
        normalize_companyfacts(parse_companyfacts(body), "X", 1)
