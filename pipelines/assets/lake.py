"""The Parquet lake: after a window's ingest, its days of the raw tables (and the whole
snapshot and billing tables) written as Parquet under ``lake.root`` (pipelines/lake).

Downstream of every raw table it exports and upstream of the dbt models that read them
(``UnitcostDbtTranslator``), so dbt on Spark (``engine: spark``) reads the window just loaded.
Without ``lake:`` in unitcost.yaml (the default) it writes nothing.
"""

import dagster as dg

from pipelines.lake.export import LakeExport, export_recommend, export_window
from pipelines.lake.tables import LAKE_TABLES, RECOMMEND_TABLES
from pipelines.partitions import daily_partitions, window_days
from pipelines.resources import UnitcostConfigResource, WarehouseResource

LAKE_KEY = dg.AssetKey(["lake", "raw_tables"])
LAKE_RECOMMEND_KEY = dg.AssetKey(["lake", "recommend_tables"])


# A multi-asset of one, as the ingest assets: the same single-run backfill policy (one export
# over a run's whole window) without @asset's beta warning for it.
def _lake_asset(key: dg.AssetKey, tables, description: str):
    return dg.multi_asset(
        specs=[
            dg.AssetSpec(
                key,
                deps=[dg.AssetKey(["raw", t.name]) for t in tables],
                description=description,
                group_name="lake",
                kinds={"duckdb", "parquet"},
                owners=["team:unitcost"],
            )
        ],
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb",
    )


@_lake_asset(
    LAKE_KEY,
    LAKE_TABLES,
    "The raw tables dbt reads as Parquet, hive-partitioned by UTC day (lake.root).",
)
def lake_raw_tables(
    context: dg.AssetExecutionContext, unitcost: UnitcostConfigResource, duckdb: WarehouseResource
) -> dg.MaterializeResult:
    """Replace the window's day partitions and the whole tables in the lake (if configured)."""
    settings = unitcost.settings()
    if settings.lake_root is None:
        return dg.MaterializeResult(metadata={"enabled": False})
    days = window_days(context.partition_time_window)
    with duckdb.get_connection() as con:
        result = export_window(con, settings.lake_root, days, settings.s3)
    return _result(settings.lake_root, result, days=len(days))


@_lake_asset(
    LAKE_RECOMMEND_KEY,
    RECOMMEND_TABLES,
    "The recommendation engine's raw tables as Parquet (lake.root), whole.",
)
def lake_recommend_tables(
    context: dg.AssetExecutionContext, unitcost: UnitcostConfigResource, duckdb: WarehouseResource
) -> dg.MaterializeResult:
    """Replace the engine's tables in the lake (if configured), for the recommendation marts."""
    settings = unitcost.settings()
    if settings.lake_root is None:
        return dg.MaterializeResult(metadata={"enabled": False})
    with duckdb.get_connection() as con:
        result = export_recommend(con, settings.lake_root, settings.s3)
    return _result(settings.lake_root, result)


def _result(root, result: LakeExport, **extra) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "enabled": True,
            "root": str(root),
            **extra,
            "dagster/row_count": sum(result.rows.values()),
            "rows_by_table": result.rows,
            "tables_not_in_warehouse": result.missing_tables,
        }
    )
