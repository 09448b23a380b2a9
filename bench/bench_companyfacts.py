"""Benchmark: normalize and land each companyfacts file (not a test).

For every file in ../shared/fixtures/sec/companyfacts, in a fresh subprocess each, best of 7:
decoding + normalization from the file's bytes (``normalize_companyfacts``), then the same plus
landing into staging.facts of an open DuckDB file (one transaction, as the pipeline does); the
peak resident memory of one landing, file read included, above the process's resident size
after a first landing of a one-fact document (which pays the one-time costs: lazy imports,
thread pools, the table's first blocks); what opening and closing (checkpointing) the
file costs alone; and, in the same process, edgartools' ``json.loads`` +
``EntityFactsParser.parse_company_facts`` + ``to_dataframe`` on the same file (install the
optional ``bench`` extra). Linux only (/proc/self/clear_refs resets the peak).

Targets (issue 13): NVIDIA landed in ≤ 0.08 s and ≥ 3x faster than edgartools' parse +
to_dataframe alone, peak memory ≤ 10x the file. The machine may be shared: the load average is
printed.

    .venv/bin/python bench/bench_companyfacts.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "sec" / "companyfacts"

CHILD = r"""
import json, sys, tempfile, time
from pathlib import Path
import duckdb
from pipelines.sec.companyfacts import normalize_companyfacts
from pipelines.core.tables import FACTS
from pipelines.sec.facts import FACTS_INSERT_SELECT
from pipelines.core.warehouse import Warehouse, set_threads
from pipelines.sec.assets import ONE_COMPANY_THREADS

def status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

def land(con, body, ticker):
    frame = normalize_companyfacts(body, ticker, 1)
    con.execute("BEGIN TRANSACTION")
    rows = warehouse.replace_rows(FACTS, frame, {"ticker": ticker}, con, FACTS_INSERT_SELECT)
    con.execute("COMMIT")
    return rows

path = Path(sys.argv[1])
tmp = Path(tempfile.mkdtemp())
warehouse = Warehouse(tmp / "build.duckdb", tmp / "capex.duckdb")
with warehouse.connect() as con:
    con.execute(FACTS.ddl())
con = duckdb.connect(str(warehouse.build_path))
set_threads(con, ONE_COMPANY_THREADS)  # as the company steps land (Warehouse.connect)
# one-time costs (lazy imports, thread pools, the table's first blocks) paid on a one-fact
# document first, so the peak is what landing this file costs
tiny = b'{"facts": {"dei": {"X": {"units": {"shares": [{"end": "2024-01-01", "val": 1}]}}}}}'
land(con, tiny, "WARMUP")
baseline_rss = status("VmRSS")
Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM, the peak resident size
body = path.read_bytes()
rows = land(con, body, "X")
peak = status("VmHWM") - baseline_rss

normalized, landed = [], []
for _ in range(7):
    started = time.perf_counter()
    frame = normalize_companyfacts(body, "X", 1)
    normalized.append(time.perf_counter() - started)
    con.execute("BEGIN TRANSACTION")
    warehouse.replace_rows(FACTS, frame, {"ticker": "X"}, con, FACTS_INSERT_SELECT)
    con.execute("COMMIT")
    landed.append(time.perf_counter() - started)
con.close()
# what opening, committing and closing (checkpointing) the file costs alone, per landing
overhead = []
for _ in range(5):
    started = time.perf_counter()
    with warehouse.connect() as con:
        con.execute("SELECT 1")
    overhead.append(time.perf_counter() - started)

edgar = None
try:
    from edgar.entity.parser import EntityFactsParser
except ImportError:
    pass
else:
    edgar_times = []
    for _ in range(7):
        started = time.perf_counter()
        EntityFactsParser.parse_company_facts(json.loads(body)).to_dataframe()
        edgar_times.append(time.perf_counter() - started)
    edgar = min(edgar_times)
print(json.dumps({"rows": rows, "normalized": min(normalized), "landed": min(landed),
                  "peak_bytes": peak, "connect_seconds": min(overhead), "edgartools": edgar}))
"""


def main() -> int:
    if not FIXTURES.is_dir():
        print(f"{FIXTURES} is absent: the benchmark reads the recorded companyfacts there")
        return 1
    print(f"load average: {os.getloadavg()} on {len(os.sched_getaffinity(0))} cores")
    print(
        f"{'file':24} {'MB':>6} {'rows':>7} {'normalize s':>11} {'landed s':>8} {'MB/s':>6} "
        f"{'peak MB':>8} {'peak/size':>9} {'open+close s':>12} {'edgartools s':>12} "
        f"{'edgartools/landed':>17}"
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
        edgar = result["edgartools"]
        print(
            f"{path.name:24} {size / 1e6:6.2f} {result['rows']:7d} {result['normalized']:11.3f} "
            f"{result['landed']:8.3f} {size / 1e6 / result['landed']:6.1f} "
            f"{result['peak_bytes'] / 1e6:8.1f} {result['peak_bytes'] / size:9.1f} "
            f"{result['connect_seconds']:12.3f} "
            + (
                f"{edgar:12.3f} {edgar / result['landed']:16.1f}x"
                if edgar
                else "  (edgartools not installed: pip install -e '.[bench]')"
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
