"""The SQL-model machinery: discovery, lineage parsed from SQL, build order, Dagster assets."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.core.resources import CapexResource
from pipelines.models import assets as sql_models
from pipelines.models import checks as mart_checks
from pipelines.models.seed_tables import (
    METRIC_DEFINITIONS,
    METRIC_MAP,
    PERIOD_LENGTHS,
    SEGMENT_MAP,
    SeedError,
    load_seeds,
    parse_seed,
    period_lengths,
    read_seed_text,
    validate_metric_seeds,
    validate_period_lengths,
)
from pipelines.models.sqlmodels import (
    SQL_DIR,
    SqlModelError,
    build_models,
    discover_models,
    external_dependencies,
    load_model,
    parse_dependencies,
    topological_order,
    with_upstream,
)
from tests.quarter_support import (
    QUARTER_MARTS,
    build_quarter_marts,
    fact,
    facts_frame,
    land_facts,
    new_warehouse,
    rows,
)


def write(sql_dir: Path, relative: str, text: str) -> Path:
    path = sql_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- discovery and naming ------------------------------------------------------------------


def test_folder_is_the_schema_and_file_name_the_table(tmp_path):
    write(tmp_path, "staging/stg_things.sql", "-- Things, cleaned.\nselect 1 as x")
    write(tmp_path, "marts/things.sql", "select x from staging.stg_things")
    models = discover_models(tmp_path)
    assert sorted(models) == ["marts.things", "staging.stg_things"]
    assert models["marts.things"].deps == {"staging.stg_things"}
    assert models["staging.stg_things"].description == "Things, cleaned."
    assert (
        models["marts.things"]
        .create_statement()
        .startswith("CREATE OR REPLACE TABLE marts.things AS")
    )


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("things.sql", "sql/<schema>/<name>.sql"),
        ("reports/things.sql", "unknown schema folder 'reports'"),
        ("raw/things.sql", "unknown schema folder 'raw'"),
        ("marts/Bad-Name.sql", "not a valid table name"),
    ],
)
def test_misplaced_model_files_are_rejected(tmp_path, relative, message):
    write(tmp_path, relative, "select 1")
    with pytest.raises(SqlModelError, match=message):
        discover_models(tmp_path)


def test_description_keeps_paragraphs_of_the_leading_comment(tmp_path):
    path = write(
        tmp_path,
        "marts/x.sql",
        "-- First line\n-- continues.\n--\n-- Second paragraph.\nselect 1 -- not this\n",
    )
    assert load_model(path, tmp_path).description == "First line continues.\n\nSecond paragraph."


# --- dependencies ---------------------------------------------------------------------------


def test_dependencies_are_the_tables_read_not_the_ctes():
    sql = """
        with recent as (select * from staging.facts where filed > '2024-01-01'),
             named as (select * from recent join staging.companies using (ticker))
        select * from named
        where ticker in (select ticker from marts.capex_quarterly)
        union all select * from STAGING.Prices
    """
    assert parse_dependencies(sql) == {
        "staging.facts",
        "staging.companies",
        "marts.capex_quarterly",
        "staging.prices",
    }


def test_table_functions_are_not_dependencies():
    sql = "select r.range, u.x from range(3) as r, unnest([1, 2]) as u(x)"
    assert parse_dependencies(sql) == frozenset()


def test_an_unqualified_table_is_an_error_naming_it():
    with pytest.raises(SqlModelError, match="table 'facts' is not schema-qualified"):
        parse_dependencies("select * from facts", where="sql/marts/x.sql")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select from where", "does not parse"),
        ("select 1; select 2", "exactly one SELECT"),
        ("create table marts.x as select 1", "exactly one SELECT"),
    ],
)
def test_a_model_is_one_select(sql, message):
    with pytest.raises(SqlModelError, match=message):
        parse_dependencies(sql)


def test_build_order_follows_dependencies_and_cycles_are_named(tmp_path):
    write(tmp_path, "marts/c.sql", "select * from marts.b join staging.a using (x)")
    write(tmp_path, "marts/b.sql", "select * from staging.a")
    write(tmp_path, "staging/a.sql", "select * from staging.facts")
    models = discover_models(tmp_path)
    assert [m.table for m in topological_order(models)] == ["staging.a", "marts.b", "marts.c"]
    assert external_dependencies(models) == {"staging.facts"}
    assert sorted(with_upstream(models, ["marts.b"])) == ["marts.b", "staging.a"]

    write(tmp_path, "staging/a.sql", "select * from marts.c")
    with pytest.raises(SqlModelError, match="cycle: marts.b, marts.c, staging.a"):
        topological_order(discover_models(tmp_path))


def test_a_model_reading_itself_is_rejected(tmp_path):
    write(tmp_path, "marts/x.sql", "select * from marts.x")
    with pytest.raises(SqlModelError, match="reads its own table marts.x"):
        discover_models(tmp_path)


# --- building on a real DuckDB file ---------------------------------------------------------


def test_models_build_in_order_and_a_failure_names_the_file_and_keeps_old_tables(tmp_path):
    sql_dir = tmp_path / "sql"
    write(sql_dir, "staging/numbers.sql", "select range as n from range(5)")
    write(sql_dir, "marts/total.sql", "select sum(n) as total from staging.numbers")
    warehouse = new_warehouse(tmp_path)
    with warehouse.connect() as con:
        built = build_models(con, discover_models(sql_dir))
    assert {table: rows_ for table, (rows_, _) in built.items()} == {
        "staging.numbers": 5,
        "marts.total": 1,
    }
    assert rows(warehouse, "select total from marts.total") == [{"total": 10}]

    write(sql_dir, "marts/total.sql", "select sum(n) as total from staging.missing_table")
    with pytest.raises(SqlModelError) as failure, warehouse.connect() as con:
        build_models(con, discover_models(sql_dir))
    message = str(failure.value)
    assert "marts.total" in message and "total.sql" in message
    assert "staging.missing_table" in message
    # the failed build rolled back: the previous table is intact
    assert rows(warehouse, "select total from marts.total") == [{"total": 10}]


# --- grains ---------------------------------------------------------------------------------


def test_grain_lines_are_parsed_and_kept_out_of_the_description(tmp_path):
    write(
        tmp_path,
        "marts/things.sql",
        "-- grain: ticker, fiscal_year\n-- grain: ticker, period_end\n--\n-- Things per year.\n"
        "select 'A' as ticker, 2024 as fiscal_year, date '2024-12-31' as period_end",
    )
    model = discover_models(tmp_path)["marts.things"]
    assert model.grains == (("ticker", "fiscal_year"), ("ticker", "period_end"))
    assert model.description == "Things per year."


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("-- grain:", "must list column names"),
        ("-- grain: ticker; year", "must list column names"),
        ("-- grain: ticker, fiscal_yaer", r"names column\(s\) \['fiscal_yaer'\]"),
    ],
)
def test_a_bad_grain_names_the_file_and_the_fix(tmp_path, header, message):
    write(tmp_path, "marts/things.sql", f"{header}\nselect 'A' as ticker, 2024 as fiscal_year")
    with pytest.raises(SqlModelError, match=message) as failure:
        discover_models(tmp_path)
    assert "things.sql" in str(failure.value)


def test_unique_keys_reports_rows_sharing_a_grain(tmp_path):
    write(
        tmp_path,
        "marts/things.sql",
        "-- grain: ticker, fiscal_year\n-- grain: ticker, period_end\n"
        "select * from (values ('A', 2023, date '2023-12-31'), ('A', 2024, date '2023-12-31'))"
        " as v(ticker, fiscal_year, period_end)",
    )
    model = discover_models(tmp_path)["marts.things"]
    con = duckdb.connect()
    try:
        con.execute("create schema marts")
        build_models(con, [model])
        outcome = mart_checks.unique_keys(con, model.table, model.grains)
    finally:
        con.close()
    assert not outcome.passed
    assert outcome.sample.select("key", "rows").rows() == [("ticker+period_end", 2)]


# --- the repository's own models ------------------------------------------------------------


def test_every_repository_model_parses_and_the_quarter_marts_exist():
    models = discover_models(SQL_DIR)
    assert set(QUARTER_MARTS) == {
        "marts.capex_annual",
        "marts.capex_by_calendar_quarter",
        "marts.capex_quarterly",
        "marts.metric_quarterly",
        "marts.metric_quarterly_pit",
        "marts.revenue_growth",
        "marts.segment_revenue",
    }
    topological_order(models)  # no cycle


def test_every_repository_mart_declares_its_grain():
    """A mart without a ``-- grain:`` line would silently lose its unique-key check."""
    models = discover_models(SQL_DIR)
    marts = [m for m in models.values() if m.schema == "marts"]
    assert [m.table for m in marts if not m.grains] == []
    assert models["marts.capex_quarterly"].grains == (
        ("ticker", "fiscal_year", "fiscal_quarter"),
        ("ticker", "calendar_year", "calendar_quarter"),
    )
    assert models["marts.valuation_daily"].grains == (("ticker", "date"),)
    assert "grain" not in models["marts.capex_quarterly"].description


def test_assets_have_the_table_key_and_the_sql_lineage():
    models = discover_models(SQL_DIR)
    by_key = {key: asset for asset in sql_models.MODEL_ASSETS for key in asset.keys}
    assert set(by_key) == {dg.AssetKey([m.schema, m.name]) for m in models.values()}
    for model in models.values():
        asset = by_key[dg.AssetKey([model.schema, model.name])]
        upstream = {dep.asset_key for dep in asset.specs_by_key[asset.key].deps}
        assert upstream == {dg.AssetKey(d.split(".")) for d in model.deps}, model.table
    facts_readers = [
        m.table for m in models.values() if "staging.facts" in m.deps
    ]  # the foundation's Python asset
    assert facts_readers == ["staging.stg_metric_facts"]


def test_definitions_load_with_the_assets_and_checks():
    defs = dg.Definitions(
        assets=sql_models.ASSETS,
        asset_checks=sql_models.CHECKS,
        resources={"capex": CapexResource()},
    )
    dg.Definitions.validate_loadable(defs)
    check_keys = {key for check in sql_models.CHECKS for key in check.check_keys}
    assert dg.AssetCheckKey(dg.AssetKey(["marts", "metric_quarterly"]), "quarters_sum_to_year") in (
        check_keys
    )
    assert {key.asset_key for key in check_keys if key.name == "unique_keys"} == {
        dg.AssetKey([m.schema, m.name]) for m in discover_models(SQL_DIR).values() if m.grains
    }


def _small_company() -> list[dict]:
    """Two fiscal years of a calendar-year company: revenue quarters and YTD capex."""
    out = []
    for year, revenue, capex in [
        (2023, (10, 11, 12, 13), (1, 3, 6, 10)),
        (2024, (20, 22, 24, 26), (2, 5, 9, 14)),
    ]:
        accn = f"{year}"
        ends = [f"{year}-03-31", f"{year}-06-30", f"{year}-09-30", f"{year}-12-31"]
        starts = [f"{year}-01-01", f"{year}-04-01", f"{year}-07-01", f"{year}-10-01"]
        for q in range(3):
            filing = dict(accession=f"q{q + 1}-{accn}", filed=f"{year}-{3 * q + 5:02d}-01")
            out.append(fact("Revenues", starts[q], ends[q], revenue[q] * 1000, **filing))
            out.append(
                fact(
                    "PaymentsToAcquirePropertyPlantAndEquipment",
                    starts[0],
                    ends[q],
                    capex[q] * 100,
                    **filing,
                )
            )
        annual = dict(accession=f"k-{accn}", filed=f"{year + 1}-02-01", form="10-K")
        out.append(fact("Revenues", starts[0], ends[3], sum(revenue) * 1000, **annual))
        out.append(
            fact(
                "PaymentsToAcquirePropertyPlantAndEquipment",
                starts[0],
                ends[3],
                capex[3] * 100,
                **annual,
            )
        )
    return out


def test_assets_materialize_through_dagster_and_checks_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPEX_WAREHOUSE", str(tmp_path / "capex.duckdb"))
    capex = CapexResource()
    warehouse = capex.warehouse
    land_facts(warehouse, {"TEST": facts_frame(_small_company())})

    wanted = with_upstream(discover_models(SQL_DIR), QUARTER_MARTS)
    selection = [sql_models.metric_seeds] + [
        a for a in sql_models.MODEL_ASSETS if ".".join(a.key.path) in wanted
    ]
    checks = [
        c
        for c in sql_models.CHECKS
        if next(iter(c.check_keys)).asset_key in {k for a in selection for k in a.keys}
    ]
    defs = dg.Definitions(assets=selection, asset_checks=checks, resources={"capex": capex})
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process()
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(checks)
    assert all(e.passed for e in evaluations), [e for e in evaluations if not e.passed]
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {key for asset in selection for key in asset.keys}
    capex_rows = rows(
        warehouse,
        "select fiscal_year, fiscal_quarter, capex, capex_yoy, capex_ttm "
        "from marts.capex_quarterly where fiscal_year = 2024 order by fiscal_quarter",
    )
    # 2024 YTD capex 200, 500, 900, 1400 → quarters 200, 300, 400, 500 (2023: 100, 200, 300, 400)
    assert [r["capex"] for r in capex_rows] == [200, 300, 400, 500]
    assert [round(r["capex_yoy"], 6) for r in capex_rows] == [1.0, 0.5, round(4 / 3 - 1, 6), 0.25]
    assert [r["capex_ttm"] for r in capex_rows] == [1100, 1200, 1300, 1400]


# --- seeds ----------------------------------------------------------------------------------


def test_repository_seeds_are_valid_and_never_map_non_cash_capex():
    seeds = load_seeds()
    concepts = set(seeds["metric_map"]["concept"])
    assert "CapitalExpendituresIncurredButNotYetPaid" not in concepts
    assert {"PaymentsToAcquirePropertyPlantAndEquipment", "PaymentsToAcquireProductiveAssets"} <= (
        concepts
    )


def _seed_frames(metric_map_text: str):
    return (
        parse_seed(METRIC_DEFINITIONS, read_seed_text(METRIC_DEFINITIONS)),
        parse_seed(METRIC_MAP, metric_map_text),
        parse_seed(SEGMENT_MAP, read_seed_text(SEGMENT_MAP)),
    )


@pytest.mark.parametrize(
    ("extra_row", "message"),
    [
        ("capex,,9,us-gaap,CapitalExpendituresIncurredButNotYetPaid,", "non-cash disclosure"),
        ("capx,,1,us-gaap,Revenues,", r"metric\(s\) \['capx'\] are not in metric_definitions"),
        ("capex,,1,us-gaap,SomethingElse,", "distinct priorities and concepts"),
    ],
)
def test_bad_metric_map_rows_fail_with_the_fix(extra_row, message):
    text = read_seed_text(METRIC_MAP).rstrip("\n") + "\n" + extra_row + "\n"
    with pytest.raises(SeedError, match=message):
        validate_metric_seeds(*_seed_frames(text))


def test_a_malformed_seed_value_names_file_line_and_column():
    text = "metric,ticker,priority,taxonomy,concept,note\nrevenue,,first,us-gaap,Revenues,\n"
    with pytest.raises(SeedError, match=r"metric_map.csv line 2, column priority: 'first'"):
        parse_seed(METRIC_MAP, text)


def test_period_lengths_are_the_fiscal_calendars_quarters_and_years():
    """One definition of a period's length: 52/53-week quarters (12 to 14 weeks) and years."""
    lengths = period_lengths()
    assert sorted(lengths) == [3, 6, 9, 12]
    assert (lengths[3].min_days, lengths[3].max_days) == (84, 98)
    assert (lengths[12].min_days, lengths[12].max_days) == (357, 371)
    assert lengths[3].nominal_days * 4 == lengths[12].nominal_days == 365.25


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("3,84,98,91.3125,\n6,175,196,182.625,\n9,266,287,273.9375,\n", r"months must be"),
        (
            "3,84,98,91.3125,\n6,98,196,182.625,\n9,266,287,273.9375,\n12,357,371,365.25,\n",
            "months 3 and 6 overlap",
        ),
        (
            "3,84,98,99,\n6,175,196,182.625,\n9,266,287,273.9375,\n12,357,371,365.25,\n",
            "min_days <= nominal_days <= max_days",
        ),
    ],
)
def test_bad_period_lengths_fail_with_the_fix(rows, message):
    text = "months,min_days,max_days,nominal_days,description\n" + rows
    with pytest.raises(SeedError, match=message):
        validate_period_lengths(parse_seed(PERIOD_LENGTHS, text))


def test_seed_tables_land_in_the_warehouse(tmp_path):
    warehouse = new_warehouse(tmp_path)
    land_facts(warehouse, {"TEST": facts_frame(_small_company())})
    build_quarter_marts(warehouse)
    con = duckdb.connect(str(warehouse.build_path), read_only=True)
    try:
        counts = dict(
            con.execute(
                "select table_name, estimated_size from duckdb_tables() "
                "where schema_name = 'staging' and table_name in "
                "('metric_map', 'metric_definitions', 'segment_map', 'period_lengths')"
            ).fetchall()
        )
    finally:
        con.close()
    assert set(counts) == {"metric_map", "metric_definitions", "segment_map", "period_lengths"}
