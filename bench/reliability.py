"""Write RELIABILITY.md from the reliability tests' own results (not a test).

Runs every test that records a fault class through the ``reliability`` fixture
(tests/conftest.py) with ``--reliability-report``; the plugin there writes one row per fault
class: how many cases the test tried, what must hold, and whether it held.

    .venv/bin/python bench/reliability.py            # writes RELIABILITY.md at the root
    .venv/bin/python bench/reliability.py -x -q      # extra options go to pytest
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def reliability_tests() -> list[str]:
    """The test files that use the ``reliability`` fixture."""
    return sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("test_*.py")
        if "reliability.record(" in path.read_text(encoding="utf-8")
    )


def main(argv: list[str]) -> int:
    report = ROOT / "RELIABILITY.md"
    command = [sys.executable, "-m", "pytest", *reliability_tests(),
               f"--reliability-report={report}", *argv]  # fmt: skip
    print(" ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT)
    print(f"wrote {report}" if report.exists() else "no report written")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
