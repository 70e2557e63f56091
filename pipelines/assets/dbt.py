"""The dbt project as assets: two dbt invocations per ``unitcost run``, one per
``@dbt_assets``, and no fewer without moving the recommendation engine into dbt.

- ``dbt_models``: every model but the recommendation marts, in the daily job. Registry and
  catalog dimensions (no ``daily`` tag) are unpartitioned assets built in the same ``dbt
  build`` as the daily models (``UnitcostDbtTranslator.get_asset_spec``); their Python inputs
  (registry, catalogs, instance types) refresh in the snapshot job that runs first.
- ``dbt_recommend_models``: the recommendation marts (tag ``recommend``). They read the raw
  tables the Python asset ``recommend_tables`` writes from the daily marts, so they are built
  after it, by a second invocation. One ``dbt build`` would have to run that Python between
  two of its models: as a dbt Python model, which would move the engine, its unitcost.yaml
  settings and its Dagster metadata into dbt. One ``@dbt_assets`` over every model does not
  help either: Dagster breaks the cycle through ``recommend_tables`` by splitting it, and with
  the blocking checks in between it splits it into three steps, not two (dagster 1.13.27).

Daily models receive the partition window (half-open) in dbt's environment,
``UNITCOST_DBT_MIN_DATE``/``UNITCOST_DBT_MAX_DATE`` (macros/partition_window.sql), not as
``--vars``: changed vars make dbt re-parse the whole project (~7 s a step), while the
environment leaves dbt's kept parse (pipelines/dbt_project.py) valid for every window. They
delete-then-insert exactly that window, so re-running a partition gives identical tables.

With ``engine: spark`` dbt builds on Spark, writing its tables as Parquet under the lake; once a
pass has ended, the tables it built become DuckDB views over those files
(``pipelines/lake/spark_tables.py``), so the steps after it read Spark's marts by their usual
names. With DuckDB (the default) nothing more happens.

Each invocation's target folder is moved to ``target/latest/<asset>`` when dbt ends
(``retire_target``), so runs do not pile up folders in ``target/``.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, dbt_assets

from pipelines.assets.lake import LAKE_KEY, LAKE_RECOMMEND_KEY
from pipelines.dbt_project import dbt_project, retire_target
from pipelines.dbt_resource import UnitcostDbtCliResource
from pipelines.lake.paths import is_s3
from pipelines.lake.s3 import prepare_s3
from pipelines.lake.spark_tables import built_tables, create_views
from pipelines.lake.tables import LAKE_TABLES, RECOMMEND_TABLES
from pipelines.partitions import daily_partitions
from pipelines.resources import UnitcostConfigResource, WarehouseResource

DAILY_TAG, RECOMMEND_TAG = "daily", "recommend"
# The Parquet lake's asset (pipelines/assets/lake.py): a model reading a table it exports runs
# after it, so dbt on Spark reads the window just ingested.
_LAKE_KEYS = {t.name: LAKE_KEY for t in LAKE_TABLES} | {
    t.name: LAKE_RECOMMEND_KEY for t in RECOMMEND_TABLES
}
RECOMMEND_SELECTOR = f"tag:{RECOMMEND_TAG}"


class UnitcostDbtTranslator(DagsterDbtTranslator):
    """Groups by dbt layer, owners from ``meta.owner``, one-line descriptions, and daily
    partitions for the models tagged ``daily`` or ``recommend`` (the others are dimensions:
    unpartitioned).

    Every dbt source is a table a Python asset writes into the ``raw`` schema, so a source
    maps to the key ``raw/<table>`` whatever source group it is declared in.
    """

    def get_asset_spec(self, manifest, unique_id, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        tags = props.get("tags", [])
        reads = props.get("depends_on", {}).get("nodes", [])
        sources = {n.split(".")[-1] for n in reads if n.startswith("source.")}
        lake = {_LAKE_KEYS[s] for s in sources if s in _LAKE_KEYS}
        if lake:
            spec = spec.merge_attributes(deps=sorted(lake, key=str))
        if DAILY_TAG in tags or RECOMMEND_TAG in tags:
            return spec.replace_attributes(partitions_def=daily_partitions)
        return spec

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


def dbt_window_env(window: dg.TimeWindow) -> dict[str, str]:
    """The half-open UTC day window ``[min_date, max_date)`` that daily models rebuild, as
    the environment variables macros/partition_window.sql reads."""
    return {
        "UNITCOST_DBT_MIN_DATE": window.start.date().isoformat(),
        "UNITCOST_DBT_MAX_DATE": window.end.date().isoformat(),
    }


def _window_env(context: dg.AssetExecutionContext) -> dict[str, str] | None:
    """The window of a step with daily models; None for dimensions materialized on their own
    (a subset without daily models is unpartitioned)."""
    if context.assets_def.partitions_def is None:
        return None
    return dbt_window_env(context.partition_time_window)


translator = UnitcostDbtTranslator()


def _build(
    context: dg.AssetExecutionContext,
    dbt: UnitcostDbtCliResource,
    unitcost: UnitcostConfigResource,
    duckdb: WarehouseResource,
    env: Mapping[str, str] | None = None,
):
    """``dbt build`` streamed as Dagster events; on Spark, DuckDB views over what it built;
    its target folder retired afterwards."""
    invocation = dbt.cli(["build"], context=context, env=env)
    try:
        yield from invocation.stream()
        settings = unitcost.settings()
        if settings.engine == "spark":
            # dbt has exited: its run_results.json and manifest.json are complete
            tables = built_tables(invocation.target_path)
            with duckdb.get_connection() as con:
                if settings.lake_root is not None and is_s3(settings.lake_root):
                    prepare_s3(con, str(settings.lake_root), settings.s3)
                views = create_views(con, tables)
            context.log.info(f"DuckDB views over Spark's tables: {', '.join(views)}")
    finally:
        # Only once dbt has exited: moving the folder under a live dbt would break it.
        if invocation.process.poll() is not None:
            retire_target(invocation.target_path, context.op_execution_context.op.name)


# The decorators set no partitions_def: the translator gives each model its own.
@dbt_assets(
    manifest=dbt_project.manifest_path,
    exclude=RECOMMEND_SELECTOR,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    name="dbt_models",
    pool="duckdb",
)
def dbt_models(
    context: dg.AssetExecutionContext,
    dbt: UnitcostDbtCliResource,
    unitcost: UnitcostConfigResource,
    duckdb: WarehouseResource,
):
    yield from _build(context, dbt, unitcost, duckdb, _window_env(context))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=RECOMMEND_SELECTOR,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    name="dbt_recommend_models",
    pool="duckdb",
)
def dbt_recommend_models(
    context: dg.AssetExecutionContext,
    dbt: UnitcostDbtCliResource,
    unitcost: UnitcostConfigResource,
    duckdb: WarehouseResource,
):
    yield from _build(context, dbt, unitcost, duckdb, _window_env(context))
