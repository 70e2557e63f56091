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
from pipelines.resources import UnitcostConfigResource, WarehouseResource
from pipelines.warehouse import replace_rows

EFFICIENCY_KEY = dg.AssetKey(["raw", "predicted_efficiency_daily"])
RECOMMENDATIONS_KEY = dg.AssetKey(["raw", "recommendations"])
UPSTREAM = [
    dg.AssetKey(["marts", "fct_cost_allocation_daily"]),
    dg.AssetKey(["intermediate", "int_allocation__gpu_hours"]),
    dg.AssetKey(["intermediate", "int_billing__commitment_coverage"]),
    dg.AssetKey(["intermediate", "int_billing__usd_rates"]),
    dg.AssetKey(["intermediate", "int_requests__replica_sweep"]),
    dg.AssetKey(["intermediate", "int_requests__gpu_time_hourly"]),
    dg.AssetKey(["intermediate", "int_telemetry__gpu_hourly"]),
    dg.AssetKey(["marts", "dim_deployments"]),
    dg.AssetKey(["marts", "fct_saturation_hourly"]),
    dg.AssetKey(["intermediate", "int_prefix_cache__hourly"]),
    dg.AssetKey(["marts", "fct_prefix_cache_daily"]),
]
# Recommendations as of a window's last day summarise this many days up to its end, however
# the run was cut: a one-day partition alone would rate every recommendation low on days
# observed, and a month-long backfill would average away the newest load.
LOOKBACK_DAYS = 7
# A day's efficiency row is scored with efficiencies fitted on the days before it only (out
# of sample, unitcost.yaml recommend.calibration.window_days), so the engine reads them too:
# the daily job and a backfill agree.
_SPEC = {
    "group_name": "recommend",
    "kinds": {"duckdb", "polars"},
    "owners": ["team:unitcost"],
    "deps": UPSTREAM,
}


def read_window(window: dg.TimeWindow, calibration_days: int = 7) -> tuple[dt.date, dt.date]:
    """The days the engine reads for a partition window: it, the calibration window before
    its first day, and the recommendations' lookback before its last."""
    start, end = window.start.date(), window.end.date()
    since = min(start - dt.timedelta(days=calibration_days), end - dt.timedelta(days=LOOKBACK_DAYS))
    return since, end


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            EFFICIENCY_KEY,
            description="One row per deployment and UTC day: the cost model's GPU-seconds "
            "(modelled, best batch, reference, floor) for fct_efficiency_daily to price.",
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
def recommend_tables(
    context: dg.AssetExecutionContext, duckdb: WarehouseResource, unitcost: UnitcostConfigResource
):
    """Run the engine on the window (plus lookback); replace its days and its as-of day."""
    window = context.partition_time_window
    start, end = window.start.date(), window.end.date()
    as_of = end - dt.timedelta(days=1)
    settings = unitcost.settings()  # unitcost.yaml's recommend: policy, API prices, calibration
    calibration = settings.recommend.calibration
    with duckdb.get_connection() as con:
        inputs = load_warehouse_inputs(con, *read_window(window, calibration.window_days))
        result = recommend(
            inputs,
            settings.policy,
            settings.api_prices(),
            min_calibration_requests=calibration.min_requests,
            calibration_window_days=calibration.window_days,
            min_calibration_days=calibration.min_days,
            recommend_since=end - dt.timedelta(days=LOOKBACK_DAYS),
        )
        efficiency = efficiency_table(result.efficiency, start, end)
        recs = recommendation_table(result.recommendations, as_of)
        n_efficiency = replace_rows(
            con, "raw", "predicted_efficiency_daily", efficiency, window=("usage_date", start, end)
        )
        n_recs = replace_rows(con, "raw", "recommendations", recs, match={"as_of_date": as_of})
    sources = result.calibration
    calibrated = sum(1 for f in sources.deployments.values() if f.source == "calibrated")
    yield dg.MaterializeResult(
        asset_key=EFFICIENCY_KEY,
        metadata={
            "dagster/row_count": n_efficiency,
            "deployments": len(inputs.configs),
            "calibrated_deployments": calibrated,
            # deployments the cost model cannot describe: left out, not failing the others
            "skipped_deployments": {s.deployment_id: s.reason for s in result.skipped},
        },
    )
    yield dg.MaterializeResult(
        asset_key=RECOMMENDATIONS_KEY,
        metadata={
            "dagster/row_count": n_recs,
            "as_of_date": as_of.isoformat(),
            # shrinking changes the saturation guard kept back, and why (saturation.py)
            "withheld_recommendations": {
                f"{h.deployment_id} {h.kind}": f"{h.change}: {h.reason}" for h in result.withheld
            },
        },
    )
