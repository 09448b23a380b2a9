"""Benchmark parse_xbrl on every recorded filing in ../shared/fixtures/sec/filings.

Not a test: prints, for each file, the best-of-N wall time, MB/s and fact counts, then the
totals. The real load parses about 30 filings of 1-3 MB per company.

    python bench/bench_xbrl_parse.py [--repeat 5] [--fixtures PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipelines.sec.xbrl import XbrlParseError, parse_xbrl

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FIXTURES = ROOT.parent / "shared" / "fixtures"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per file; best is kept")
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    args = parser.parse_args(argv)

    filings = args.fixtures / "sec" / "filings"
    files = sorted(p for p in filings.rglob("*") if p.suffix in {".htm", ".xml"})
    files = [p for p in files if not p.name.endswith("-index.html")]
    if not files:
        print(f"no filings under {filings}", file=sys.stderr)
        return 2

    header = f"{'file':58} {'MB':>6} {'kind':>8} {'parser':>6} {'best s':>7} {'MB/s':>6} "
    print(header + f"{'facts':>6} {'dupes':>6} {'confl':>5}")
    total_bytes = total_seconds = total_facts = 0
    for path in files:
        body = path.read_bytes()
        name = str(path.relative_to(filings))
        best = float("inf")
        try:
            for _ in range(args.repeat):
                start = time.perf_counter()
                doc = parse_xbrl(body, url=name)
                best = min(best, time.perf_counter() - start)
        except XbrlParseError as exc:
            print(f"{name:58} ERROR {exc}")
            continue
        mb = len(body) / 1e6
        total_bytes += len(body)
        total_seconds += best
        total_facts += doc.facts.height
        print(
            f"{name:58} {mb:6.2f} {doc.kind:>8} {doc.parser:>6} {best:7.3f} {mb / best:6.1f} "
            f"{doc.facts.height:6d} {doc.duplicates:6d} {doc.conflicts:5d}"
        )
    print(
        f"{'total':58} {total_bytes / 1e6:6.2f} {'':>8} {'':>6} {total_seconds:7.3f} "
        f"{total_bytes / 1e6 / total_seconds:6.1f} {total_facts:6d}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
