"""Claim checker against the labelled corpus: precision and recall per verdict.

    .venv/bin/python bench/bench_claims.py --warehouse warehouse/capex.duckdb

The warehouse is one built from the recorded filings (``capex run`` against ../shared/fixtures,
as tests/conftest.py `built_warehouse` does); the corpus is tests/fixtures/news/claim_corpus.json.
'close' is scored as 'mismatch' (both say the filings disagree), 'dropped' (no claim) as
'unverifiable' (neither judges the figure). Targets: mismatch precision ≥ 0.95, match precision
≥ 0.98, match recall ≥ 0.8.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.claim_corpus_support import (  # noqa: E402
    TARGETS,
    agrees,
    check_corpus,
    load_corpus,
    outcomes,
    scores,
)


def main() -> int:
    """Print the scores and every disagreement; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=ROOT / "warehouse" / "capex.duckdb")
    args = parser.parse_args()
    if not args.warehouse.is_file():
        raise SystemExit(
            f"{args.warehouse}: no warehouse there. Build one from the recorded filings with "
            "`capex run` (see tests/conftest.py `built_warehouse`) and pass --warehouse PATH."
        )
    cases = load_corpus()
    rows = outcomes(cases, check_corpus(cases, args.warehouse))
    print(f"{len(cases)} paragraphs, {len(rows)} labelled figures")
    got = scores(rows)
    missed = False
    for (verdict, measure), value in sorted(got.items()):
        target = TARGETS.get((verdict, measure))
        shown = "n/a" if value is None else f"{value:.3f}"
        flag = ""
        if target is not None:
            ok = value is None or value >= target
            missed |= not ok
            flag = f"  (target ≥ {target}: {'ok' if ok else 'MISSED'})"
        print(f"{verdict:>12} {measure:<9} {shown}{flag}")
    for r in rows:
        if not agrees(r["label"]["verdict"], r["got"]):
            label = r["label"]
            print(f"  {r['case']} {label['text']!r}: labelled {label['verdict']}, got {r['got']}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
