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
