"""Benchmark: SEC's companyfacts.zip of N companies → staging.facts (not a test).

Builds an archive of N synthetic companies from the recorded companyfacts in
../shared/fixtures/sec/companyfacts*/ (each a recorded document with its CIK rewritten), then
lands it into a fresh DuckDB file two ways, each in a fresh subprocess:

* ``python``: the pipeline's path (:func:`pipelines.sec.bulk_assets.land_archive_facts`):
  members read in place from the zip, decoded by msgspec and read by polars in batches of 32 MB
  of JSON, one batch read ahead in a thread while DuckDB writes the previous one (Arrow handed
  over without a copy);
* ``duckdb``: members of a batch (16 MB; even so, above the pipeline's 512 MB DuckDB memory
  limit, so it runs without it) extracted to a temporary folder and read by DuckDB's
  ``read_json`` with an explicit schema (facts as nested MAPs), then unnested in SQL.

Prints, per N and path: seconds, MB/s of JSON (uncompressed), rows, peak RSS, CPU seconds (all
threads; MB per CPU-second is what an unloaded machine would give per core), and the count and
sum of the values landed, so that both paths can be seen to land the same rows.
Targets (issue 13): ≥ 75 MB/s on 2 cores, peak RSS < 2 GB whatever N. The machine may be shared:
the load average is printed beside the numbers.

    .venv/bin/python bench/bench_bulk.py            # N = 100
    .venv/bin/python bench/bench_bulk.py --n 100 1000 5000
    .venv/bin/python bench/bench_bulk.py --n 5000 --paths python --marts   # and the marts
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "sec"

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
import duckdb
from pipelines.core import tables
from pipelines.core.warehouse import Warehouse
from pipelines.sec.bulk import company_members, open_archive, plan_batches
from pipelines.sec.bulk_assets import land_archive_facts

archive, database, path_kind, marts = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
warehouse = Warehouse(database, database + ".published")
with warehouse.connect() as con:
    con.execute(tables.FACTS.ddl())
started = time.perf_counter()
if path_kind == "python":  # the pipeline's landing, as the staging/facts asset runs it
    with warehouse.connect() as con:
        with open_archive(archive) as zf:  # a ticker each, as the marts group by ticker
            tickers = {cik: f"X{cik}" for cik in company_members(zf)}
        land_archive_facts(warehouse, con, archive, tickers, None)
else:
    import tempfile
    schema = ("MAP(VARCHAR, MAP(VARCHAR, STRUCT(label VARCHAR, description VARCHAR, "
              "units MAP(VARCHAR, STRUCT(\"start\" VARCHAR, \"end\" VARCHAR, val VARCHAR, "
              "accn VARCHAR, fy INTEGER, fp VARCHAR, form VARCHAR, filed VARCHAR, "
              "frame VARCHAR)[]))))")
    sql = f'''
    INSERT INTO staging.facts BY NAME
    WITH docs AS (
        SELECT cik, facts FROM read_json(?, columns = {{cik: 'BIGINT', facts: '{schema}'}},
                                         format = 'auto', maximum_object_size = 1073741824)),
    t AS (SELECT cik, unnest(map_entries(facts)) AS t FROM docs),
    c AS (SELECT cik, t.key AS taxonomy, unnest(map_entries(t.value)) AS c FROM t),
    u AS (SELECT cik, taxonomy, c.key AS concept, unnest(map_entries(c.value.units)) AS u FROM c),
    f AS (SELECT cik, taxonomy, concept, u.key AS unit, unnest(u.value) AS f FROM u)
    SELECT NULL AS ticker, cik, taxonomy, concept, unit,
           CAST(f.start AS DATE) AS period_start, CAST(f."end" AS DATE) AS period_end,
           CAST(f.val AS DECIMAL(38, 10)) AS value, NULL AS decimals, f.accn AS accession,
           f.form, f.fy AS fiscal_year, f.fp AS fiscal_period, CAST(f.filed AS DATE) AS filed,
           f.frame, NULL AS dimensions, 'companyfacts' AS source
    FROM f
    '''
    # read_json of nested maps needs more than the pipeline's memory limit (see README)
    with open_archive(archive) as zf, duckdb.connect(database) as con:
        for batch in plan_batches(zf, {}, None, 16 << 20):
            with tempfile.TemporaryDirectory() as tmp:
                files = [zf.extract(info, tmp) for info, _cik, _ticker in batch]
                con.execute(sql, [files])
seconds = time.perf_counter() - started
own = resource.getrusage(resource.RUSAGE_SELF)
cpu, rss = own.ru_utime + own.ru_stime, own.ru_maxrss * 1024  # of the landing
models_seconds = None
if marts == "marts":
    from pipelines.models.seed_tables import write_seeds
    from pipelines.models.sqlmodels import discover_models, marts_without, rebuild, with_upstream
    models_started = time.perf_counter()
    with warehouse.connect() as con:
        write_seeds(warehouse, con)
    every = discover_models()
    rebuild(warehouse, with_upstream(every, marts_without(every, "staging.prices")))
    models_seconds = time.perf_counter() - models_started
con = duckdb.connect(database)
rows, total = con.execute("SELECT count(*), sum(value)::VARCHAR FROM staging.facts").fetchone()
con.close()
models_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "rows": rows, "sum": total, "rss": rss, "cpu": cpu,
                  "models": models_seconds, "models_rss": models_rss}))
"""


def recorded_documents() -> list[dict]:
    """The recorded companyfacts documents (recent and April 2022 vintages)."""
    paths = sorted(FIXTURES.glob("companyfacts*/CIK*.json"))
    return [json.loads(p.read_bytes()) for p in paths]


def build_archive(path: Path, n: int, documents: list[dict]) -> int:
    """A companyfacts.zip of ``n`` companies; returns the JSON bytes it holds."""
    total = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for number in range(n):
            cik = 9_000_000 + number
            document = dict(documents[number % len(documents)], cik=cik)
            body = json.dumps(document, separators=(",", ":")).encode()
            archive.writestr(f"CIK{cik:010d}.json", body)
            total += len(body)
    return total


def run(archive: Path, kind: str, marts: bool) -> dict:
    marts_arg = "marts" if marts and kind == "python" else "-"
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
        out = subprocess.run(  # noqa: PLW1510 (the error is reported, not raised)
            [sys.executable, "-c", CHILD, str(archive), f"{tmp}/w.duckdb", kind, marts_arg],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100], help="companies per archive")
    parser.add_argument(
        "--paths", nargs="+", default=["python", "duckdb"], choices=["python", "duckdb"]
    )
    parser.add_argument(
        "--marts",
        action="store_true",
        help="after the python path, build every SQL model not needing prices, and time it",
    )
    args = parser.parse_args()
    if not FIXTURES.is_dir():
        print(f"{FIXTURES} is absent: the benchmark reads the recorded companyfacts there")
        return 1
    documents = recorded_documents()
    print(f"cores: {len(os.sched_getaffinity(0))}; load average at start: {os.getloadavg()}")
    print(
        f"{'N':>6} {'path':7} {'JSON MB':>8} {'zip MB':>7} {'rows':>11} {'seconds':>8} "
        f"{'MB/s':>6} {'CPU s':>6} {'MB/CPU-s':>8} {'RSS MB':>7}  sum of values"
    )
    for n in args.n:
        with tempfile.TemporaryDirectory(prefix="bench-bulk-zip-") as tmp:
            archive = Path(tmp) / "companyfacts.zip"
            started = time.perf_counter()
            json_bytes = build_archive(archive, n, documents)
            built = time.perf_counter() - started
            print(f"{n:>6} (archive built in {built:.1f}s)")
            for kind in args.paths:
                r = run(archive, kind, args.marts)
                if "error" in r:
                    print(f"{n:>6} {kind:7} failed: {r['error']}", flush=True)
                    continue
                print(
                    f"{n:>6} {kind:7} {json_bytes / 1e6:8.1f} {archive.stat().st_size / 1e6:7.1f} "
                    f"{r['rows']:>11,} {r['seconds']:8.2f} {json_bytes / 1e6 / r['seconds']:6.1f} "
                    f"{r['cpu']:6.1f} {json_bytes / 1e6 / r['cpu']:8.1f} "
                    f"{r['rss'] / 1e6:7.0f}  {r['sum']}",
                    flush=True,
                )
                if r["models"] is not None:
                    print(
                        f"{n:>6} {kind:7} SQL models built in {r['models']:.1f} s (peak RSS "
                        f"{r['models_rss'] / 1e6:.0f} MB, DuckDB's default memory limit): "
                        f"landing and models {(r['seconds'] + r['models']) / 60:.1f} min",
                        flush=True,
                    )
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
