"""marts.capex_leaders: the 50 largest capex spenders of each calendar quarter."""

from __future__ import annotations

import pytest

from pipelines.models.seed_tables import write_seeds
from pipelines.models.sqlmodels import discover_models, rebuild, with_upstream
from tests.quarter_support import (
    PPE,
    calendar_year,
    facts_frame,
    land_facts,
    new_warehouse,
    rows,
)


@pytest.fixture(scope="module")
def leaders(tmp_path_factory) -> list[dict]:
    """52 companies spending 1..52 (millions) a quarter in 2024; the largest also in 2023 (half
    as much) with revenue of ten times its 2024 capex."""
    warehouse = new_warehouse(tmp_path_factory.mktemp("leaders"))
    frames = {}
    for n in range(1, 53):
        capex = n * 1_000_000
        facts = calendar_year(2024, PPE, (capex,) * 4, cash_flow=True)
        if n == 52:
            facts += calendar_year(2023, PPE, (capex // 2,) * 4, cash_flow=True)
            facts += calendar_year(2024, "Revenues", (capex * 10,) * 4)
        frames[f"C{n:02d}"] = facts_frame(facts, f"C{n:02d}")
    land_facts(warehouse, frames)
    with warehouse.connect() as con:
        write_seeds(warehouse, con)
    rebuild(warehouse, with_upstream(discover_models(), ["marts.capex_leaders"]))
    return rows(
        warehouse,
        "select * from marts.capex_leaders where calendar_year = 2024 and calendar_quarter = 2 "
        "order by rank",
    )


def test_the_fifty_largest_spenders_in_order(leaders):
    assert [r["rank"] for r in leaders] == list(range(1, 51))
    assert [r["ticker"] for r in leaders][:3] == ["C52", "C51", "C50"]
    assert leaders[-1]["ticker"] == "C03"  # C02 and C01 are beyond the 50th


def test_growth_and_intensity_of_the_leader(leaders):
    top = leaders[0]
    assert top["capex"] == 52_000_000
    assert top["capex_yoy"] == pytest.approx(1.0)  # twice the 26 million of a year before
    assert top["capex_to_revenue"] == pytest.approx(0.1)
    assert leaders[1]["capex_yoy"] is None  # no year-ago quarter
