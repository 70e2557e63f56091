"""Recommendations: predicted vs actual $/1M tokens per deployment-day, and what to change.

The logic is ``pipelines/recommend`` (no dagster there). The asset reads the dbt tables,
runs the engine and writes two raw tables; the marts ``fct_efficiency_daily`` and
``fct_recommendations`` are dbt models over them (tag ``recommend``, built by their own
``@dbt_assets`` after this asset: ``pipelines/assets/dbt.py``).
"""

import datetime as dt

import dagster as dg

from pipelines.partitions import daily_partitions
from pipelines.recommend.engine import recommend
from pipelines.recommend.tables import efficiency_table, recommendation_table
from pipelines.recommend.warehouse_inputs import load_warehouse_inputs
from pipelines.resources import WarehouseResource
from pipelines.warehouse import replace_rows

EFFICIENCY_KEY = dg.AssetKey(["raw", "predicted_efficiency_daily"])
RECOMMENDATIONS_KEY = dg.AssetKey(["raw", "recommendations"])
UPSTREAM = [
    dg.AssetKey(["marts", "fct_cost_allocation_daily"]),
    dg.AssetKey(["intermediate", "int_allocation__gpu_hours"]),
    dg.AssetKey(["intermediate", "int_requests__mapped"]),
    dg.AssetKey(["intermediate", "int_telemetry__gpu_hourly"]),
    dg.AssetKey(["marts", "dim_deployments"]),
]
# The engine reads at least this many days up to the window's end: a one-day partition
# alone would calibrate on one day and rate every recommendation low on days observed.
LOOKBACK_DAYS = 7
_SPEC = {
    "group_name": "recommend",
    "kinds": {"duckdb", "polars"},
    "owners": ["team:unitcost"],
    "deps": UPSTREAM,
}


def read_window(window: dg.TimeWindow) -> tuple[dt.date, dt.date]:
    """The days the engine reads for a partition window: it, and the lookback before it."""
    end = window.end.date()
    return min(window.start.date(), end - dt.timedelta(days=LOOKBACK_DAYS)), end


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            EFFICIENCY_KEY,
            description="One row per deployment and UTC day: predicted vs actual cost, gap parts.",
            **_SPEC,
        ),
        dg.AssetSpec(
            RECOMMENDATIONS_KEY,
            description="One row per as-of day, deployment (or idle instance) and change kind.",
            **_SPEC,
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
)
def recommend_tables(context: dg.AssetExecutionContext, duckdb: WarehouseResource):
    """Run the engine on the window (plus lookback); replace its days and its as-of day."""
    window = context.partition_time_window
    start, end = window.start.date(), window.end.date()
    as_of = end - dt.timedelta(days=1)
    with duckdb.get_connection() as con:
        inputs = load_warehouse_inputs(con, *read_window(window))
        result = recommend(inputs)
        efficiency = efficiency_table(result.efficiency, start, end)
        recs = recommendation_table(result.recommendations, as_of)
        n_efficiency = replace_rows(
            con,
            "raw",
            "predicted_efficiency_daily",
            "usage_date >= ? and usage_date < ?",
            [start, end],
            efficiency,
        )
        n_recs = replace_rows(con, "raw", "recommendations", "as_of_date = ?", [as_of], recs)
    sources = result.calibration
    calibrated = sum(1 for f in sources.deployments.values() if f.source == "calibrated")
    yield dg.MaterializeResult(
        asset_key=EFFICIENCY_KEY,
        metadata={
            "dagster/row_count": n_efficiency,
            "deployments": len(inputs.configs),
            "calibrated_deployments": calibrated,
        },
    )
    yield dg.MaterializeResult(
        asset_key=RECOMMENDATIONS_KEY,
        metadata={"dagster/row_count": n_recs, "as_of_date": as_of.isoformat()},
    )
