"""The dbt project as assets: snapshot models (registry dimensions), daily models, and the
recommendation marts, built after the Python asset that writes their sources (tag
``recommend``: in the daily selection they would make one op feed itself through Python).

Daily models receive the partition window as ``--vars {min_date, max_date}`` (half-open) and
delete-then-insert exactly that window, so re-running a partition gives identical tables.

Each invocation's target folder is moved to ``target/latest/<asset>`` when dbt ends
(``retire_target``), so runs do not pile up folders in ``target/``.
"""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from pipelines.dbt_project import dbt_project, retire_target
from pipelines.partitions import daily_partitions

DAILY_SELECTOR = "tag:daily"
RECOMMEND_SELECTOR = "tag:recommend"


class UnitcostDbtTranslator(DagsterDbtTranslator):
    """Groups by dbt layer, owners from ``meta.owner``, one-line descriptions.

    Every dbt source is a table a Python asset writes into the ``raw`` schema, so a source
    maps to the key ``raw/<table>`` whatever source group it is declared in.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return dbt_resource_props["source_name"]
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "marts"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        owner = dbt_resource_props.get("meta", {}).get("owner")
        return [owner] if owner else ["team:unitcost"]

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        text = (dbt_resource_props.get("description") or "").strip()
        return text.splitlines()[0] if text else dbt_resource_props["name"]


def dbt_partition_vars(window: dg.TimeWindow) -> dict[str, str]:
    """The half-open UTC day window ``[min_date, max_date)`` that daily models rebuild."""
    return {"min_date": window.start.date().isoformat(), "max_date": window.end.date().isoformat()}


translator = UnitcostDbtTranslator()


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, args: list[str]):
    """``dbt <args>`` streamed as Dagster events; its target folder retired afterwards."""
    invocation = dbt.cli(args, context=context)
    try:
        yield from invocation.stream()
    finally:
        # Only once dbt has exited: moving the folder under a live dbt would break it.
        if invocation.process.poll() is not None:
            retire_target(invocation.target_path, context.op_execution_context.op.name)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    exclude=f"{DAILY_SELECTOR} {RECOMMEND_SELECTOR}",
    dagster_dbt_translator=translator,
    name="dbt_snapshot_models",
    pool="duckdb",
)
def dbt_snapshot_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from _build(context, dbt, ["build"])


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=DAILY_SELECTOR,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    name="dbt_daily_models",
    pool="duckdb",
)
def dbt_daily_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    dbt_vars = dbt_partition_vars(context.partition_time_window)
    yield from _build(context, dbt, ["build", "--vars", json.dumps(dbt_vars)])


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=RECOMMEND_SELECTOR,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    name="dbt_recommend_models",
    pool="duckdb",
)
def dbt_recommend_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    dbt_vars = dbt_partition_vars(context.partition_time_window)
    yield from _build(context, dbt, ["build", "--vars", json.dumps(dbt_vars)])
