"""Declarative automation: SQL models, the published warehouse and the report follow their sources.

:func:`follow_upstream` is their ``automation_condition``; the ``capex_automation`` sensor
evaluates it, so a company's new filing, new prices or news reach the marts without anyone
pressing a button.
"""

import dagster as dg

# The group of the per-company SEC assets (pipelines/sec/assets.py).
SEC_GROUP = "sec"


def follow_upstream(*, wait_for_missing: bool = True) -> dg.AutomationCondition:
    """Materialise an asset once its upstream assets have been updated (``eager``), except that a
    company partition that is missing (a company whose load failed, or not loaded yet) does not
    hold back the models: the other companies' new filings still reach the marts.

    Unpartitioned upstream assets that are missing (e.g. news never fetched) still hold an asset
    back, so a model is not run against a table that does not exist; with
    ``wait_for_missing=False`` nothing missing holds it back (for the publish step, which only
    copies the file).
    """
    eager = dg.AutomationCondition.eager()
    if not wait_for_missing:
        return eager.without(~dg.AutomationCondition.any_deps_missing())
    companies = dg.AssetSelection.groups(SEC_GROUP)
    return eager.replace(
        "any_deps_missing", dg.AutomationCondition.any_deps_missing().ignore(companies)
    )


automation_sensor = dg.AutomationConditionSensorDefinition(
    "capex_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=(
        "Materialises the SQL models, the published warehouse and the report once the assets "
        "they read have been updated (their automation_condition), so new filings, prices and "
        "news reach the marts without manual steps."
    ),
)
