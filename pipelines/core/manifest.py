"""raw.manifest: what raw/ holds, one row per stored version, rebuilt from the sidecars."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import polars as pl

from pipelines.core.rawstore import RawStore
from pipelines.core.tables import MANIFEST
from pipelines.core.warehouse import replace_rows

# fetched_at arrives as the sidecar's ISO text, parsed below.
_SCHEMA = {**MANIFEST.columns, "fetched_at": pl.String}


def record_manifest(con: duckdb.DuckDBPyConnection, store: RawStore, keys: Iterable[str]) -> int:
    """Replace the manifest rows of ``keys`` by every version raw/ holds for them.

    Rows come from the sidecars alone, so an offline rebuild writes the same rows.
    """
    keys = sorted(set(keys))
    rows = []
    for key in keys:
        for doc in store.versions(key):
            row = doc.manifest_row()
            row["path"] = doc.path.relative_to(store.root).as_posix()
            rows.append(row)
    frame = pl.DataFrame(rows, schema=_SCHEMA).with_columns(
        pl.col("fetched_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ")
    )
    return replace_rows(con, MANIFEST, frame, {"key": keys})
