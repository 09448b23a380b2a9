"""Schedules, the new-filing sensor, declarative automation and the freshness check.

The sensor runs for real: it polls the local SEC (tests/sec_server.py) over HTTP, a new filing
is made to appear there, and the sensor is evaluated with ``dagster.build_sensor_context`` on a
real (temporary) Dagster instance; the run it requests is then executed and published, and the
sensor evaluated again, also with its cursor lost.

The new filing is NVIDIA's 8-K of 2026-03-06 (accession 0001045810-26-000024, items 5.02 and
9.01, period of report 2026-03-02; ../shared/fixtures/sec/filings/NVDA/8-K_2026-03-02_*), filed
after the recorded submissions listing (which ends 2026-03-04).
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.core.config import ConfigError, load_settings
from pipelines.definitions import build_definitions
from pipelines.orchestration.automation import follow_upstream
from pipelines.sec.freshness import next_report_form, quarter_freshness
from pipelines.sec.sensors import (
    Watermark,
    dump_cursor,
    new_filings,
    parse_cursor,
)
from tests.conftest import capex_environment

TICKERS = {"AAPL", "MSFT", "GOOGL", "AMZN", "META", "NVDA", "TSLA"}
NVDA_SUBMISSIONS = "/submissions/CIK0001045810.json"
NVDA_8K = {
    "accessionNumber": "0001045810-26-000024",
    "filingDate": "2026-03-06",
    "reportDate": "2026-03-02",
    "acceptanceDateTime": "2026-03-06T21:11:25.000Z",
    "act": "34",
    "form": "8-K",
    "fileNumber": "000-23985",
    "filmNumber": "26731070",
    "items": "5.02,9.01",
    "core_type": "8-K",
    "size": 165811,
    "isXBRL": 1,
    "isInlineXBRL": 1,
    "primaryDocument": "nvda-20260302.htm",
    "primaryDocDescription": "8-K",
}


def _filings(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "accession": [r[0] for r in rows],
            "form": [r[1] for r in rows],
            "filed": [date.fromisoformat(r[2]) for r in rows],
        }
    )


# NVIDIA filings from its submissions: the FY2025 10-K, a Form 4, and the 8-K above.
TEN_K = ("0001045810-25-000023", "10-K", "2025-02-26")
FORM_4 = ("0001347842-26-000007", "4", "2026-03-04")
EIGHT_K = ("0001045810-26-000024", "8-K", "2026-03-06")


def test_new_filings_are_those_after_the_watermark():
    mark = Watermark(date(2025, 2, 26), frozenset({TEN_K[0]}))
    new, after = new_filings(_filings(EIGHT_K, FORM_4, TEN_K), mark)
    assert new["accession"].to_list() == [EIGHT_K[0]]  # the Form 4 does not count
    assert after == Watermark(date(2026, 3, 6), frozenset({EIGHT_K[0]}))

    # nothing new: same rows against the new watermark
    again, same = new_filings(_filings(EIGHT_K, FORM_4, TEN_K), after)
    assert again.is_empty() and same == after

    # a second filing on the watermark's day is new; both are remembered
    same_day = ("0001045810-26-000025", "8-K/A", "2026-03-06")
    new, after2 = new_filings(_filings(same_day, EIGHT_K, TEN_K), after)
    assert new["accession"].to_list() == [same_day[0]]
    assert after2.accessions == {EIGHT_K[0], same_day[0]}

    # without a watermark every 10-K/10-Q/8-K is new, newest first
    new, first = new_filings(_filings(TEN_K, FORM_4, EIGHT_K), None)
    assert new["accession"].to_list() == [EIGHT_K[0], TEN_K[0]]
    assert first == Watermark(date(2026, 3, 6), frozenset({EIGHT_K[0]}))


def test_cursor_round_trip():
    marks = {"NVDA": Watermark(date(2026, 3, 6), frozenset({EIGHT_K[0]}))}
    text = dump_cursor(marks)
    assert json.loads(text)["version"] == 1
    assert parse_cursor(text) == marks
    assert parse_cursor(None) == {} and parse_cursor("") == {}
    # a cursor written by another version starts from the warehouse baseline again
    assert parse_cursor(json.dumps({"version": 99, "companies": {}})) == {}


def _schedules_and_jobs(settings) -> tuple[list, list]:
    """The schedules and jobs of the code location built for ``settings``."""
    definitions = build_definitions(settings)
    return list(definitions.schedules), list(definitions.jobs)


def test_schedule_crons_and_timezone_come_from_the_environment():
    schedules, jobs = _schedules_and_jobs(
        load_settings(
            {
                "CAPEX_PRICES_CRON": "0 18 * * 1-5",
                "CAPEX_FILINGS_CRON": "15 5 * * *",
                "CAPEX_NEWS_CRON": "0 */6 * * *",
                "CAPEX_SCHEDULE_TIMEZONE": "UTC",
            }
        )
    )
    by_name = {s.name: s for s in schedules}
    assert {n: s.cron_schedule for n, s in by_name.items()} == {
        "filings_daily": "15 5 * * *",
        "prices_daily": "0 18 * * 1-5",
        "news_refresh_schedule": "0 */6 * * *",
    }
    assert {s.execution_timezone for s in schedules} == {"UTC"}
    assert {s.default_status for s in schedules} == {dg.DefaultScheduleStatus.STOPPED}
    assert by_name["filings_daily"].job_name == "company_refresh"
    assert {j.name for j in jobs} == {
        "company_refresh",
        "models_refresh",
        "prices_refresh",
        "news_refresh",
    }


def test_schedule_defaults_and_autostart():
    schedules, _jobs = _schedules_and_jobs(load_settings({"CAPEX_AUTOSTART": "1"}))
    assert {s.name: s.cron_schedule for s in schedules} == {
        "filings_daily": "0 6 * * *",
        "prices_daily": "30 17 * * 1-5",
        "news_refresh_schedule": "0 7,12,17,22 * * *",
    }
    assert {s.execution_timezone for s in schedules} == {"America/New_York"}
    assert {s.default_status for s in schedules} == {dg.DefaultScheduleStatus.RUNNING}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CAPEX_PRICES_CRON", "30 25 * * *", "CAPEX_PRICES_CRON='30 25 * * *' is not a cron"),
        ("CAPEX_NEWS_CRON", "often", "CAPEX_NEWS_CRON='often' is not a cron"),
        ("CAPEX_SCHEDULE_TIMEZONE", "Mars/Olympus", "is not a time zone"),
        ("CAPEX_FILING_SENSOR_SECONDS", "5", "at least 30"),
    ],
)
def test_bad_schedule_settings_name_the_variable(variable, value, message):
    with pytest.raises(ConfigError, match=message.replace("*", r"\*")):
        build_definitions(load_settings({variable: value}))


def test_filings_schedule_requests_one_run_per_company():
    repository = build_definitions(load_settings()).get_repository_def()
    filings_daily = repository.get_schedule_def("filings_daily")
    tick = datetime(2026, 3, 9, 6, 0)
    with dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=repository
    ) as context:
        requests = filings_daily.evaluate_tick(context).run_requests
    assert {r.partition_key for r in requests} == TICKERS
    assert len({r.run_key for r in requests}) == len(requests) == len(TICKERS)


def test_the_code_location_has_schedules_sensors_checks_and_the_report():
    repository = build_definitions(load_settings()).get_repository_def()
    assert {s.name for s in repository.schedule_defs} == {
        "filings_daily",
        "prices_daily",
        "news_refresh_schedule",
    }
    assert {s.name for s in repository.sensor_defs} >= {"new_filing_sensor", "capex_automation"}
    for schedule in repository.schedule_defs:
        assert repository.get_job(schedule.job_name)  # every schedule's job resolves
    prices = repository.get_job("prices_refresh").asset_layer.executable_asset_keys
    assert dg.AssetKey(["staging", "prices"]) in prices
    assert dg.AssetKey(["reports", "capex_report"]) in prices  # the report follows prices
    models = repository.get_job("models_refresh").asset_layer.executable_asset_keys
    assert dg.AssetKey(["reports", "capex_report"]) in models
    news = repository.get_job("news_refresh").asset_layer.executable_asset_keys
    assert dg.AssetKey(["marts", "claim_checks"]) in news
    fresh = dg.AssetCheckKey(dg.AssetKey(["staging", "facts"]), "latest_quarter_fresh")
    assert fresh in repository.asset_graph.asset_check_keys


def test_follow_upstream_lets_a_company_through_while_another_is_missing():
    """The condition SQL models use: a company's new facts reach a model even though another
    company was never loaded; the model is not requested twice for one update. A table that was
    never built holds a model back, but not the publish step."""
    from pipelines.core.resources import CapexResource
    from pipelines.sec import assets as sec
    from pipelines.sec.partitions import company_partitions

    def asset(key, deps=(), condition=None):
        """An executable asset (only those are requested) with our asset key and condition."""
        return dg.asset(key=key, deps=list(deps), automation_condition=condition)(lambda: None)

    news = asset(["staging", "news_articles"])
    model = asset(["marts", "example"], [sec.FACTS], follow_upstream())
    claims = asset(["marts", "claims"], [model, news], follow_upstream())
    publish = asset(
        ["warehouse", "published"], [model, claims, news], follow_upstream(wait_for_missing=False)
    )
    defs = dg.Definitions(
        assets=[
            *sec.build_assets(company_partitions(load_settings())),
            model,
            claims,
            publish,
            news,
        ],
        resources={"capex": CapexResource()},
    )
    instance = dg.DagsterInstance.ephemeral()

    def requested(cursor):
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
        keys = {r.key.to_user_string() for r in result.results if r.true_subset.size and r.key}
        return keys, result.cursor

    keys, cursor = requested(None)
    assert keys == set()  # nothing loaded: nothing to do
    instance.report_runless_asset_event(dg.AssetMaterialization(sec.FACTS, partition="NVDA"))
    keys, cursor = requested(cursor)
    # NVDA loaded, the six others still missing: the model and the publish step go;
    # the claims wait for the news that were never fetched
    assert keys == {"marts/example", "warehouse/published"}
    keys, cursor = requested(cursor)
    assert keys == set()


# Freshness: deadlines of large accelerated filers (10-Q 40 days, 10-K 60 days after the
# period), after a quarter of at most 98 days. Filing dates are the companies' own.


def test_nvidia_first_quarter_10q_was_due_after_its_fiscal_2025_10k():
    # NVIDIA's FY2025 ended 2025-01-26; its Q1 FY2026 10-Q was filed 2025-05-28.
    assert next_report_form(date(2025, 1, 26), "0131") == "10-Q"
    filed = quarter_freshness(date(2025, 1, 26), "0131", as_of=date(2025, 5, 28))
    assert filed.fresh and filed.due_by == date(2025, 6, 13)
    late = quarter_freshness(date(2025, 1, 26), "0131", as_of=date(2025, 6, 14))
    assert not late.fresh and late.days_overdue == 1


def test_a_fourth_quarter_waits_for_the_10k():
    # Apple's Q3 FY2024 ended 2024-06-29; the next report is the FY2024 10-K (year end
    # 2024-09-28), filed 2024-11-01.
    assert next_report_form(date(2024, 6, 29), "0928") == "10-K"
    assert quarter_freshness(date(2024, 6, 29), "0928", date(2024, 11, 1)).fresh
    # Alphabet's Q3 2024 ended 2024-09-30; its 10-K for 2024 was filed 2025-02-05.
    alphabet = quarter_freshness(date(2024, 9, 30), "1231", date(2025, 2, 5))
    assert alphabet.next_form == "10-K" and alphabet.fresh
    # NVIDIA's Q3 FY2026 ends 2025-10-26: the next quarter closes fiscal 2026 (late January)
    assert next_report_form(date(2025, 10, 26), "0131") == "10-K"


def test_no_quarter_at_all_is_not_fresh():
    result = quarter_freshness(None, "0630", date(2025, 1, 1))
    assert not result.fresh and result.due_by is None


# The sensor against the local SEC.


@pytest.fixture
def sensor_env(monkeypatch, fake_sec, built_warehouse: Path, tmp_path: Path) -> Path:
    """Settings pointed at the local SEC and at a copy of a built warehouse."""
    shutil.copytree(built_warehouse.parent, tmp_path / "warehouse")
    for name in [n for n in os.environ if n.startswith("CAPEX_")]:
        monkeypatch.delenv(name)
    for name, value in capex_environment(fake_sec, tmp_path).items():
        if name.startswith(("CAPEX_", "SEC_")):
            monkeypatch.setenv(name, value)
    yield tmp_path
    fake_sec.extra.pop(NVDA_SUBMISSIONS, None)


def _evaluate(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    definitions = build_definitions(load_settings())
    sensor = definitions.get_repository_def().get_sensor_def("new_filing_sensor")
    result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def _with_new_filing(fake_sec) -> None:
    document = json.loads(fake_sec.route(NVDA_SUBMISSIONS))
    recent = document["filings"]["recent"]
    for column, values in recent.items():
        values.insert(0, NVDA_8K.get(column, ""))
    fake_sec.extra[NVDA_SUBMISSIONS] = json.dumps(document).encode()


def test_a_new_filing_triggers_exactly_one_run_for_its_company(sensor_env, fake_sec):
    from pipelines.core.warehouse import Warehouse

    published = sensor_env / "warehouse" / "capex.duckdb"
    with dg.instance_for_test() as instance:
        # first start, no cursor: the warehouse already holds every company's filings
        first = _evaluate(instance, None)
        assert first.run_requests == []
        assert set(parse_cursor(first.cursor)) == TICKERS

        _with_new_filing(fake_sec)
        second = _evaluate(instance, first.cursor)
        assert [(r.partition_key, r.run_key) for r in second.run_requests] == [
            ("NVDA", "0001045810-26-000024")
        ]
        request = second.run_requests[0]
        assert request.tags["capex/form"] == "8-K"
        assert parse_cursor(second.cursor)["NVDA"] == Watermark(
            date(2026, 3, 6), frozenset({"0001045810-26-000024"})
        )

        # evaluated again, and after a restart from the stored cursor: no second run
        assert _evaluate(instance, second.cursor).run_requests == []
        assert _evaluate(instance, dump_cursor(parse_cursor(second.cursor))).run_requests == []

        # the requested run loads the filing; after publishing, a sensor that lost its cursor
        # starts from the warehouse and does not request the filing again either
        job = build_definitions(load_settings()).resolve_job_def("company_refresh")
        run = job.execute_in_process(
            partition_key=request.partition_key, instance=instance, tags=request.tags
        )
        assert run.success
        Warehouse.from_settings(load_settings()).publish()
        con = duckdb.connect(str(published), read_only=True)
        try:
            loaded = con.execute(
                "SELECT form, filed, report_date, primary_document FROM staging.filings "
                "WHERE ticker = 'NVDA' AND accession = '0001045810-26-000024'"
            ).fetchall()
        finally:
            con.close()
        assert loaded == [("8-K", date(2026, 3, 6), date(2026, 3, 2), "nvda-20260302.htm")]
        assert _evaluate(instance, None).run_requests == []

        # the company run also checked the freshness of NVIDIA's latest quarter: the 10-Q for
        # the quarter ended 2026-04-26 (filed 2026-05-20) makes the next one due 2026-09-11
        (check,) = [
            e for e in run.get_asset_check_evaluations() if e.check_name == "latest_quarter_fresh"
        ]
        assert check.metadata["latest_quarter_end"].value == "2026-04-26"
        assert check.metadata["due_by"].value == "2026-09-11"
        assert check.passed == (date.today() <= date(2026, 9, 11))


def test_a_company_whose_submissions_fail_keeps_its_watermark(sensor_env, fake_sec):
    tesla = "/submissions/CIK0001318605.json"
    with dg.instance_for_test() as instance:
        first = _evaluate(instance, None)
        _with_new_filing(fake_sec)
        fake_sec.faults[tesla] = [(404, {}, b"Not Found")]
        try:
            result = _evaluate(instance, first.cursor)
        finally:
            fake_sec.faults.pop(tesla, None)
    assert [r.partition_key for r in result.run_requests] == ["NVDA"]
    marks = parse_cursor(result.cursor)
    assert marks["TSLA"] == parse_cursor(first.cursor)["TSLA"]
