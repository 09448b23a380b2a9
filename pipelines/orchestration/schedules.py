"""Scheduled refreshes and the automation condition that carries new data into the marts.

* ``filings_daily`` (``CAPEX_FILINGS_CRON``, default 06:00 every day): one ``company_refresh``
  run per company, catching whatever the new-filing sensor (pipelines/sec/sensors.py) missed.
* ``prices_daily`` (``CAPEX_PRICES_CRON``, default 17:30 Monday to Friday, after the US close):
  the ``prices_refresh`` job, the price assets and everything downstream of them.
* ``news_refresh_schedule`` (``CAPEX_NEWS_CRON``, default 07:00, 12:00, 17:00 and 22:00): the
  ``news_refresh`` job, the news assets and everything downstream of them.

Times are in ``CAPEX_SCHEDULE_TIMEZONE`` (default America/New_York). Schedules start STOPPED
(turn them on in the UI under Automation), or RUNNING when ``CAPEX_AUTOSTART=1``.

SQL models, the published warehouse and the report follow their sources through declarative
automation (pipelines/orchestration/automation.py).
"""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from pipelines.core.config import ConfigError, Settings
from pipelines.orchestration.jobs import Jobs


def default_status(settings: Settings) -> dg.DefaultScheduleStatus:
    """STOPPED unless CAPEX_AUTOSTART=1 (the status a schedule has before anyone toggles it)."""
    return (
        dg.DefaultScheduleStatus.RUNNING if settings.autostart else dg.DefaultScheduleStatus.STOPPED
    )


def _check_timezone(settings: Settings) -> str:
    try:
        ZoneInfo(settings.schedule_timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"CAPEX_SCHEDULE_TIMEZONE={settings.schedule_timezone!r} is not a time zone; use an "
            "IANA name such as America/New_York or UTC"
        ) from exc
    return settings.schedule_timezone


def _schedule(variable: str, cron: str, fn, **kwargs) -> dg.ScheduleDefinition:
    """``dg.schedule`` whose invalid cron string names the environment variable to fix."""
    try:
        return dg.schedule(cron, **kwargs)(fn)
    except dg.DagsterInvalidDefinitionError as exc:
        raise ConfigError(
            f"{variable}={cron!r} is not a cron string; use five fields "
            "(minute hour day-of-month month day-of-week), e.g. '30 17 * * 1-5'"
        ) from exc


def company_run_requests(tickers: list[str], scheduled_for: datetime | None) -> list[dg.RunRequest]:
    """One ``company_refresh`` run per company; the run key makes a tick idempotent."""
    stamp = scheduled_for.isoformat() if scheduled_for else "manual"
    return [
        dg.RunRequest(
            run_key=f"{ticker}@{stamp}",
            partition_key=ticker,
            tags={"capex/trigger": "filings_daily"},
        )
        for ticker in tickers
    ]


def build_schedules(
    settings: Settings, jobs: Jobs, tickers: list[str]
) -> list[dg.ScheduleDefinition]:
    """The three schedules, from ``settings``, launching ``jobs`` (``tickers``: the companies)."""
    timezone = _check_timezone(settings)
    status = default_status(settings)

    def filings_daily(context: dg.ScheduleEvaluationContext):
        return company_run_requests(tickers, context.scheduled_execution_time)

    def prices_daily(_context: dg.ScheduleEvaluationContext):
        return dg.RunRequest(tags={"capex/trigger": "prices_daily"})

    def news_refresh_schedule(_context: dg.ScheduleEvaluationContext):
        return dg.RunRequest(tags={"capex/trigger": "news_refresh_schedule"})

    common = dict(execution_timezone=timezone, default_status=status)
    return [
        _schedule(
            "CAPEX_FILINGS_CRON",
            settings.filings_cron,
            filings_daily,
            job=jobs.company,
            description=f"Every company's SEC documents at {settings.filings_cron} ({timezone}); "
            "the SQL models follow through declarative automation.",
            **common,
        ),
        _schedule(
            "CAPEX_PRICES_CRON",
            settings.prices_cron,
            prices_daily,
            job=jobs.prices,
            description=f"Prices after the US close, at {settings.prices_cron} ({timezone}).",
            **common,
        ),
        _schedule(
            "CAPEX_NEWS_CRON",
            settings.news_cron,
            news_refresh_schedule,
            job=jobs.news,
            description=f"News sources, at {settings.news_cron} ({timezone}).",
            **common,
        ),
    ]
