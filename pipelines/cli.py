"""The ``capex`` command: run the pipeline through Dagster, query the warehouse, open the UI."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from pipelines.core.config import ConfigError, Settings, load_settings, with_overrides
from pipelines.core.rawstore import RawStore
from pipelines.core.warehouse import Warehouse, WarehouseError

EPILOG = """\
examples:
  SEC_USER_AGENT='Jane Analyst jane@example.com' capex run
  capex run --tickers NVDA,AAPL          # a subset, or companies beyond the default seven
  capex run --universe all                # every SEC filer, from SEC's nightly bulk archives
  CAPEX_OFFLINE=1 capex run               # rebuild every table from raw/, no network
  capex sql "SELECT * FROM marts.capex_quarterly WHERE ticker = 'NVDA' ORDER BY period_end"
  capex sql --as-of 2025-01-31 "SELECT count(*) FROM staging.filings"   # DuckLake only
  CAPEX_STOOQ_APIKEY=... capex prices check   # every price provider, closes compared
  capex ui                                # the Dagster UI on http://127.0.0.1:3000

Settings come from environment variables (README, 'Environment variables').
"""


def _settings(args: argparse.Namespace) -> Settings:
    """The environment's settings with this command's flags over them."""
    return with_overrides(
        load_settings(),
        tickers=getattr(args, "tickers", None),
        since=getattr(args, "since", None),
        offline=True if getattr(args, "offline", False) else None,
        universe=getattr(args, "universe", None),
    )


def _failure_messages(result) -> list[str]:
    messages = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            cause = error.cause.message.strip() if error and error.cause else ""
            text = (error.message.strip() if error else "step failed").splitlines()[-1]
            messages.append(f"{event.step_key}: {cause or text}")
    return messages


def _metadata_text(evaluation) -> str:
    return ", ".join(f"{k}={getattr(v, 'value', v)}" for k, v in evaluation.metadata.items())


# Beyond this many companies (CAPEX_UNIVERSE=all) only the followed ones are listed.
SUMMARY_MAX_ROWS = 40

SUMMARY_SQL = """
SELECT coalesce(c.ticker, 'CIK' || lpad(c.cik::VARCHAR, 10, '0')) AS name,
       coalesce(f.facts, 0), coalesce(f.filing_facts, 0), coalesce(f.filings, 0),
       q.latest_quarter
FROM staging.companies AS c
LEFT JOIN (SELECT cik, count(*) AS facts,
                  count(*) FILTER (WHERE source = 'filing') AS filing_facts,
                  count(DISTINCT accession) FILTER (WHERE source = 'filing') AS filings
           FROM staging.facts GROUP BY cik) AS f USING (cik)
LEFT JOIN (SELECT ticker, max(period_end) AS latest_quarter FROM marts.metric_quarterly
           GROUP BY ticker) AS q ON q.ticker = c.ticker
WHERE ? OR list_contains(?, c.cik)
ORDER BY name
"""


def _print_company_summary(warehouse: Warehouse, settings: Settings) -> bool:
    """Facts per company in the published warehouse, and each company's latest quarter (only
    the followed companies when the universe is larger than a screen).

    Returns False when there is nothing published to summarise.
    """
    import duckdb

    from pipelines.sec.partitions import universe

    followed = [c.cik for c in universe(settings).values()]
    try:
        with warehouse.reader() as con:
            companies = con.execute("SELECT count(*) FROM staging.companies").fetchone()[0]
            everyone = companies <= SUMMARY_MAX_ROWS
            rows = con.execute(SUMMARY_SQL, [everyone, followed]).fetchall()
    except (FileNotFoundError, duckdb.Error, WarehouseError):
        return False  # tables not built (every company failed): the failures say why
    print(f"\n{'ticker':8} {'facts':>9} {'from filings':>13} {'filings':>8}  latest quarter end")
    for ticker, facts, filing_facts, filings, latest in rows:
        print(f"{ticker:8} {facts:>9,} {filing_facts:>13,} {filings:>8}  {latest or '-'}")
    if not everyone:
        print(f"... and {companies - len(rows):,} more companies (staging.companies)")
    print()
    return True


def _price_providers(result) -> dict | None:
    """The per-ticker provider record of a run's ``staging/prices`` materialization."""
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if materialization.asset_key.path == ["staging", "prices"]:
            providers = materialization.metadata.get("providers")
            return providers.value if providers is not None else None
    return None


def price_summary_lines(providers: dict) -> list[str]:
    """One line per ticker: the provider that won and why each earlier one was passed over."""
    lines = []
    for ticker, record in providers.items():
        passed = "; ".join(f"{name}: {why}" for name, why in record["passed_over"])
        if record["provider"] is None:
            lines.append(f"{ticker:8} {'-':8} no provider answered ({passed or 'no provider set'})")
            continue
        text = f"{ticker:8} {record['provider']:8} {record['days']:>6,} days"
        if record.get("note"):
            text += f"  {record['note']}"
        if passed:
            text += f"  (passed over: {passed})"
        lines.append(text)
    return lines


def _check_warnings(result, label: str) -> list[tuple[str, str]]:
    """(severity, line) for each asset check of ``result`` that did not pass."""
    warnings = []
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            key = evaluation.asset_check_key
            severity = evaluation.severity.value
            warnings.append(
                (
                    severity,
                    f"{label}: check {key.asset_key.to_user_string()}:{key.name} did not pass "
                    f"({severity}; {_metadata_text(evaluation)})",
                )
            )
    return warnings


# `capex run` exit codes (README, 'Exit codes'; `capex run --help`).
EXIT_OK = 0  # every step succeeded and no ERROR check failed
EXIT_STEP_FAILED = 1  # a step failed (a company, the models, the news...)
EXIT_USAGE = 2  # bad usage or settings: nothing was run
EXIT_CHECK_FAILED = 3  # every step ran but an ERROR check failed: stale or partial data

EXIT_CODES_HELP = """\
exit codes:
  0  every step succeeded and no ERROR check failed
  1  a step failed (its source named); the other companies and sources still landed
  2  bad usage or settings (nothing was run)
  3  every step ran, but an ERROR check failed: some data is stale or partial (the summary
     lists what was kept from the previous run, per source)
"""


@dataclass
class RunOutcome:
    """What the runs of `capex run` did: failed steps, failed checks, what was kept."""

    failures: list[tuple[str, str]] = field(default_factory=list)  # (run label, message)
    failed_checks: list[str] = field(default_factory=list)  # ERROR severity
    warnings: list[str] = field(default_factory=list)  # WARN severity
    kept: list[str] = field(default_factory=list)  # from materializations' KEPT_METADATA
    providers: dict | None = None  # the price provider of each ticker (staging/prices)

    def exit_code(self) -> int:
        """The one exit-code rule of `capex run`."""
        if self.failures:
            return EXIT_STEP_FAILED
        return EXIT_CHECK_FAILED if self.failed_checks else EXIT_OK

    def add(self, label: str, result) -> None:
        """Record one job run's failed steps, failed checks and kept data."""
        from pipelines.core.checks import KEPT_METADATA

        for severity, text in _check_warnings(result, label):
            (self.failed_checks if severity == "ERROR" else self.warnings).append(text)
        for event in result.get_asset_materialization_events():
            kept = event.step_materialization_data.materialization.metadata.get(KEPT_METADATA)
            if kept is not None:
                self.kept.append(str(getattr(kept, "value", kept)))
        self.providers = _price_providers(result) or self.providers
        if not result.success:
            for message in _failure_messages(result) or ["run failed"]:
                self.failures.append((label, message))


def _kept_companies(outcome: RunOutcome, warehouse: Warehouse) -> None:
    """Name the rows each failed company keeps from the previous run (SEC source)."""
    import duckdb

    tickers = sorted({label.split("[")[1].rstrip("]") for label, _ in outcome.failures
                      if label.startswith("company_refresh[")})  # fmt: skip
    if not tickers:
        return
    try:
        with warehouse.reader() as con:
            counts = dict(
                con.execute(
                    "SELECT ticker, count(*) FROM staging.facts WHERE list_contains(?, ticker) "
                    "GROUP BY ticker",
                    [tickers],
                ).fetchall()
            )
    except (FileNotFoundError, duckdb.Error, WarehouseError):
        counts = {}
    parts = [
        f"{t} {counts[t]:,} facts" if counts.get(t) else f"{t} nothing (never loaded)"
        for t in tickers
    ]
    outcome.kept.insert(0, "SEC: " + ", ".join(parts))


def _print_outcome(
    outcome: RunOutcome, plan_size: int, total: float, warehouse, settings: Settings
) -> None:
    failed_runs = len({label for label, _ in outcome.failures})
    print(f"\n{plan_size - failed_runs} of {plan_size} runs succeeded in {total:.1f}s.")
    checks = outcome.failed_checks + outcome.warnings
    if checks:
        print(f"{len(checks)} check(s) did not pass:")
    for text in checks:
        print(f"  {text}")
    _kept_companies(outcome, warehouse)
    summarised = _print_company_summary(warehouse, settings)
    if outcome.providers:
        print("prices: the provider of each ticker (CAPEX_PRICE_SOURCES; README, 'Prices')")
        for line in price_summary_lines(outcome.providers):
            print(f"  {line}")
        print()
    if outcome.kept:
        print("Kept from the previous run (a source failed):")
        for text in outcome.kept:
            print(f"  {text}")
    if summarised:
        print(
            f'Query it: capex sql "SELECT * FROM marts.capex_quarterly LIMIT 5" '
            f"({warehouse.location})"
        )
    if outcome.failures:
        print("Failed:", file=sys.stderr)
        for label, message in outcome.failures:
            print(f"  {label}: {message}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    """Materialise every asset for every selected company, through Dagster."""
    settings = _settings(args)
    if not settings.offline:
        from pipelines.sec.client import check_user_agent

        check_user_agent(settings.sec_user_agent)
    warehouse = Warehouse.from_settings(settings)
    warehouse.check_ready()  # before any fetch: a catalog that is down writes nothing
    import dagster as dg

    from pipelines.definitions import build_code_location

    instance = (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )
    level = "INFO" if args.verbose else "WARNING"
    run_config = {"loggers": {"console": {"config": {"log_level": level}}}}
    location = build_code_location(settings)
    plan = location.run_plan()
    swept = RawStore(settings.raw_dir).sweep_partial()
    if swept:
        print(f"removed {len(swept)} partial file(s) an interrupted run left in raw/")
    outcome = RunOutcome()
    started = time.monotonic()
    mode = "offline, from raw/" if settings.offline else "online"
    print(f"capex run: {len(plan)} runs ({mode}); warehouse {warehouse.location}", flush=True)
    for number, (job_name, key) in enumerate(plan, start=1):
        label = f"{job_name}[{key}]" if key else job_name
        print(f"[{number}/{len(plan)}] {label} ... ", end="", flush=True)
        step_started = time.monotonic()
        job = location.definitions.resolve_job_def(job_name)
        result = job.execute_in_process(
            partition_key=key, instance=instance, raise_on_error=False, run_config=run_config
        )
        elapsed = time.monotonic() - step_started
        failures_before = len(outcome.failures)
        outcome.add(label, result)
        if result.success:
            print(f"ok ({elapsed:.1f}s)", flush=True)
        else:
            print(f"FAILED ({elapsed:.1f}s)", flush=True)
            for _label, message in outcome.failures[failures_before:]:
                print(f"    {message}", flush=True)
    _print_outcome(outcome, len(plan), time.monotonic() - started, warehouse, settings)
    return outcome.exit_code()


def parse_as_of(text: str) -> datetime:
    """``--as-of``: a date means the end of that day (UTC); a time without a zone is UTC."""
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            value = datetime.combine(day + timedelta(days=1), datetime.min.time())
            value -= timedelta(microseconds=1)
        else:
            value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ConfigError(
            f"--as-of {text!r} is not a date or time; use YYYY-MM-DD (the end of that day, "
            "UTC) or YYYY-MM-DDTHH:MM:SS[+HH:MM]"
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cmd_prices_check(args: argparse.Namespace) -> int:
    """Ask every price provider for each ticker and compare their closes (0: they agree)."""
    from pipelines.market.prices import check_providers, price_universe
    from pipelines.sec.partitions import universe

    settings = _settings(args)
    symbols = price_universe(universe(settings))
    disagreeing = 0
    for check in check_providers(settings, RawStore(settings.raw_dir), symbols):
        ticker = check.symbol.ticker
        for name, answer in check.answers.items():
            if answer is None:
                print(f"{ticker:8} {name:8} no answer: {check.reasons[name]}")
            else:
                first, last = answer.frame["date"].min(), answer.frame["date"].max()
                print(f"{ticker:8} {name:8} {answer.frame.height:>6,} days {first} .. {last}")
        for other, common, differences in check.comparisons:
            first = next(n for n, a in check.answers.items() if a is not None)
            verdict = f"{differences.height} differ by more than 1%"
            print(f"{ticker:8} {first} vs {other}: {common} common days, {verdict}")
            for row in differences.head(5).iter_rows(named=True):
                print(
                    f"{'':8}   {row['date']}: {row['close_a']:g} vs {row['close_b']:g} "
                    f"({row['difference']:+.2%})"
                )
            disagreeing += differences.height > 0
    print(f"\n{disagreeing} ticker(s) where providers differ by more than 1% on some day.")
    return 1 if disagreeing else 0


def cmd_sql(args: argparse.Namespace) -> int:
    """Run a query against the published warehouse (or a past snapshot) and print it."""
    import duckdb

    as_of = parse_as_of(args.as_of) if args.as_of else None
    warehouse = Warehouse.from_settings(load_settings())
    try:
        with warehouse.reader(as_of) as con:
            frame = con.execute(args.query).pl()
    except duckdb.Error as exc:
        print(f"capex sql: {exc}", file=sys.stderr)
        return 1
    if args.csv:
        sys.stdout.write(frame.write_csv())
    else:
        import polars as pl

        with pl.Config(
            tbl_rows=args.max_rows,
            tbl_cols=-1,
            fmt_str_lengths=60,
            tbl_width_chars=1000,
            thousands_separator=False,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
            tbl_formatting="ASCII_MARKDOWN",
        ):
            print(frame)
        print(f"({frame.height} row{'s' if frame.height != 1 else ''})")
    return 0


def cmd_publish(_args: argparse.Namespace) -> int:
    warehouse = Warehouse.from_settings(load_settings())
    details = ", ".join(f"{k}={v}" for k, v in warehouse.publish().items())
    print(f"published {warehouse.location} ({details})")
    return 0


def cmd_companies(args: argparse.Namespace) -> int:
    from pipelines.sec.partitions import universe

    for company in universe(_settings(args)).values():
        print(f"{company.ticker:8} {company.cik:>10}  {company.name}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    """Start ``dagster dev`` on this code location."""
    home = os.environ.setdefault("DAGSTER_HOME", os.path.abspath(".dagster_home"))
    os.makedirs(home, exist_ok=True)
    config = os.path.join(home, "dagster.yaml")
    if not os.path.exists(config):
        with open(config, "w") as handle:
            handle.write("nux:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n")
    command = [
        "dagster",
        "dev",
        "-m",
        "pipelines.definitions",
        "-h",
        args.host,
        "-p",
        str(args.port),
    ]
    print(f"DAGSTER_HOME={home}; {' '.join(command)}", flush=True)
    os.execvp(command[0], command)
    return 0


def _add_run_command(commands) -> None:
    """The ``capex run`` command and its options."""
    run = commands.add_parser(
        "run",
        help="fetch, land and model everything (the main job)",
        description="Fetch, land and model every selected company and source, through "
        "Dagster. Each source (SEC, prices, news, FX) fails alone: what it held before is "
        "kept and named in the summary.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--tickers",
        help="comma-separated tickers (default: CAPEX_TICKERS or the "
        "seven in pipelines/seeds/companies.csv)",
    )
    run.add_argument("--since", help="first filing date to load, YYYY-MM-DD (CAPEX_SINCE)")
    run.add_argument(
        "--universe",
        choices=["seed", "all"],
        help="'all': every SEC filer, from SEC's bulk archives; 'seed' (default): the seven "
        "of pipelines/seeds/companies.csv or --tickers (CAPEX_UNIVERSE)",
    )
    run.add_argument(
        "--offline",
        action="store_true",
        help="rebuild from raw/ without the network (CAPEX_OFFLINE=1)",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="show Dagster's step logs")
    run.set_defaults(func=cmd_run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capex",
        description="capex-watch: Big Tech capex, revenue growth and valuation from SEC "
        "filings, prices and news, in a DuckDB warehouse built by Dagster.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    _add_run_command(commands)

    sql = commands.add_parser("sql", help="query the published warehouse")
    sql.add_argument("query", help='a SQL query, e.g. "SELECT * FROM marts.capex_quarterly"')
    sql.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    sql.add_argument("--max-rows", type=int, default=50, help="rows shown in table mode")
    sql.add_argument(
        "--as-of",
        metavar="WHEN",
        help="read the warehouse as it was then: YYYY-MM-DD (end of that day, UTC) or an ISO "
        "date and time; needs the DuckLake backend (CAPEX_CATALOG), whose every commit is a "
        "snapshot",
    )
    sql.set_defaults(func=cmd_sql)

    prices = commands.add_parser("prices", help="price providers")
    prices_commands = prices.add_subparsers(dest="prices_command", required=True)
    check_text = (
        "ask every provider (CAPEX_PRICES_DIR, then CAPEX_PRICE_SOURCES) for each ticker and "
        "compare closes on common days after split adjustment; exits 1 when a day differs by "
        "more than 1%%. Answers land in raw/, where the providers_agree check reads them"
    )
    check = prices_commands.add_parser("check", help=check_text, description=check_text)
    check.add_argument("--tickers", help="comma-separated tickers (default: the universe)")
    check.add_argument(
        "--offline", action="store_true", help="compare what raw/ holds (CAPEX_OFFLINE=1)"
    )
    check.set_defaults(func=cmd_prices_check)

    companies = commands.add_parser("companies", help="list the selected companies")
    companies.add_argument("--tickers", help="comma-separated tickers")
    companies.set_defaults(func=cmd_companies)

    publish = commands.add_parser("publish", help="publish the build file for readers")
    publish.set_defaults(func=cmd_publish)

    ui = commands.add_parser("ui", help="start the Dagster UI (dagster dev)")
    ui.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1, this machine only; the UI has no log-in: "
        "put an authenticating reverse proxy in front before binding a public address)",
    )
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"capex: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, WarehouseError) as exc:
        print(f"capex: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
