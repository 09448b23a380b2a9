"""Benchmark: normalize and land each companyfacts file (not a test).

For every file in ../shared/fixtures/sec/companyfacts, in a fresh subprocess each:
json parse + polars normalization + landing into a DuckDB file (one transaction, as the
pipeline does), best of 5 runs; peak memory above the process's baseline after imports;
and, as the floor, DuckDB's own ``read_json`` of the same file with an explicit MAP schema.

Target (issue 2): the NVIDIA document normalized and landed in under 0.25 s, with peak memory
under 10x the document's size.

    .venv/bin/python bench/bench_companyfacts.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "sec" / "companyfacts"

CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
import duckdb
from pipelines.sec.companyfacts import normalize_companyfacts
from pipelines.core.tables import FACTS
from pipelines.sec.facts import FACTS_INSERT_SELECT
from pipelines.core.warehouse import Warehouse

path = Path(sys.argv[1])
body = path.read_bytes()
tmp = Path(tempfile.mkdtemp())
warehouse = Warehouse(tmp / "build.duckdb", tmp / "capex.duckdb")
with warehouse.connect() as con:
    con.execute(FACTS.ddl())
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
timings = []
rows = 0
for _ in range(5):
    started = time.perf_counter()
    frame = normalize_companyfacts(json.loads(body), "X", 1)
    rows = warehouse.replace_rows(FACTS, frame, {"ticker": "X"},
                                  select=FACTS_INSERT_SELECT)
    timings.append(time.perf_counter() - started)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - baseline
# what opening, committing and closing (checkpointing) the file costs alone, per landing
overhead = []
for _ in range(5):
    started = time.perf_counter()
    with warehouse.connect() as con:
        con.execute("SELECT 1")
    overhead.append(time.perf_counter() - started)

con = duckdb.connect()
floor = []
for _ in range(5):
    started = time.perf_counter()
    con.execute(
        "SELECT count(*) FROM read_json(?, columns = {cik: 'BIGINT', entityName: 'VARCHAR', "
        "facts: 'MAP(VARCHAR, MAP(VARCHAR, JSON))'}, maximum_object_size = 268435456)",
        [str(path)],
    ).fetchall()
    floor.append(time.perf_counter() - started)
print(json.dumps({"rows": rows, "seconds": min(timings), "peak_bytes": peak,
                  "connect_seconds": min(overhead), "duckdb_read_json_seconds": min(floor)}))
"""


def main() -> int:
    if not FIXTURES.is_dir():
        print(f"{FIXTURES} is absent: the benchmark reads the recorded companyfacts there")
        return 1
    print(
        f"{'file':24} {'MB':>6} {'rows':>7} {'seconds':>8} {'MB/s':>7} {'peak MB':>8} "
        f"{'peak/size':>9} {'empty txn s':>11} {'duckdb read_json s':>19}"
    )
    for path in sorted(FIXTURES.glob("*.json")):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        size = path.stat().st_size
        print(
            f"{path.name:24} {size / 1e6:6.2f} {result['rows']:7d} {result['seconds']:8.3f} "
            f"{size / 1e6 / result['seconds']:7.1f} {result['peak_bytes'] / 1e6:8.1f} "
            f"{result['peak_bytes'] / size:9.1f} {result['connect_seconds']:11.3f} "
            f"{result['duckdb_read_json_seconds']:19.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
