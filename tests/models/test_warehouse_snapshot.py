"""Every table of a build of the seven companies equals the recorded snapshot.

Guards refactorings (issue: one home per subject): moving code must change no table, column or
value. The snapshot is ``tests/fixtures/warehouse_snapshot.json``; see ``tests/warehouse_snapshot``.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.warehouse_snapshot import SNAPSHOT, table_digests


def test_every_table_equals_the_recorded_snapshot(built_warehouse: Path) -> None:
    recorded = json.loads(SNAPSHOT.read_text())
    built = table_digests(built_warehouse)
    assert sorted(built) == sorted(recorded), "tables added or removed"
    changed = {
        name: (recorded[name], built[name]) for name in built if built[name] != recorded[name]
    }
    assert not changed, f"tables differ from the snapshot: {changed}"


def test_the_run_summary_gives_each_companys_latest_quarter(built_warehouse: Path) -> None:
    """Root cause: the summary joined the latest quarters USING (name), which matched the
    company's name in staging.companies instead of its ticker, so every row printed '-'."""
    log = (built_warehouse.parent.parent / "run.log").read_text()
    rows = [line.split() for line in log.splitlines() if line[:1].isupper()]
    lines = {row[0]: row[-1] for row in rows if len(row) == 5}
    assert lines["GOOGL"] == "2026-03-31" and lines["NVDA"] == "2026-04-26"
    assert lines["AAPL"] == "2025-12-27" and lines["AMZN"] == "-"
