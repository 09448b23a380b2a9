"""The published warehouse: what users query (an atomically replaced copy, or a snapshot)."""

from collections.abc import Sequence

import dagster as dg

from pipelines.core.resources import CapexResource
from pipelines.orchestration.automation import follow_upstream

PUBLISHED = dg.AssetKey(["warehouse", "published"])


def published_warehouse_asset(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """An asset that publishes the build file once everything in ``upstream`` is built."""

    @dg.asset(
        key=PUBLISHED,
        deps=list(upstream),
        automation_condition=follow_upstream(wait_for_missing=False),
        group_name="warehouse",
        kinds={"duckdb"},
        description=(
            "Embedded: copies the private build file to CAPEX_WAREHOUSE (default "
            "warehouse/capex.duckdb) with an atomic rename: readers keep the version they "
            "opened and never see a half-written table, and never block a refresh. DuckLake "
            "(CAPEX_CATALOG): nothing to copy, readers see every commit; records the snapshot."
        ),
    )
    def published_warehouse(capex: CapexResource) -> dg.MaterializeResult:
        metadata = capex.warehouse.publish()
        if "path" in metadata:
            metadata["path"] = dg.MetadataValue.path(metadata["path"])
        return dg.MaterializeResult(metadata=metadata)

    return published_warehouse
