"""Cross-source asset checks on the allocation marts (logic: pipelines/checks).

The checks are partition-aware so each daily run reconciles its own window. Dagster 1.13
marks partitioned checks as preview (they landed in 1.13, dagster#32894; earlier versions
could load the wrong partition): the warning is acknowledged here, once, rather than shown
on every load of the code location.
"""

import warnings

import dagster as dg

from pipelines.checks.cross_source import logged_vs_engine_tokens, telemetry_coverage
from pipelines.partitions import daily_partitions
from pipelines.resources import WarehouseResource

# Below this, allocation's idle split rests on too little telemetry to trust.
MIN_TELEMETRY_COVERAGE = 0.9
# Logs and counters count the same tokens; more than 2 % apart means lost lines or a
# mis-mapped model name.
MAX_TOKEN_DISAGREEMENT = 0.02


def _metadata(rec) -> dict:
    return {**rec.totals, "ratio": rec.ratio, "by_deployment": dict(rec.by_deployment)}


def _partitioned_check(**kwargs):
    def wrap(fn):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.PreviewWarning)
            return dg.asset_check(partitions_def=daily_partitions, pool="duckdb", **kwargs)(fn)

    return wrap


@_partitioned_check(
    asset=dg.AssetKey(["marts", "fct_cost_allocation_daily"]),
    description="Billed, assigned GPU-hours that DCGM telemetry observed (coverage %).",
)
def billed_gpu_hours_seen_by_telemetry(
    context: dg.AssetCheckExecutionContext, duckdb: WarehouseResource
) -> dg.AssetCheckResult:
    window = context.partition_time_window
    with duckdb.get_connection() as con:
        rec = telemetry_coverage(con, window.start, window.end)
    return dg.AssetCheckResult(
        passed=rec.ratio is None or rec.ratio >= MIN_TELEMETRY_COVERAGE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**_metadata(rec), "coverage_pct": None if rec.ratio is None else 100 * rec.ratio},
    )


@_partitioned_check(
    asset=dg.AssetKey(["marts", "fct_cost_per_token_daily"]),
    description="Request-log tokens agree with vLLM's own token counters within 2 %.",
)
def logged_tokens_match_engine_counters(
    context: dg.AssetCheckExecutionContext, duckdb: WarehouseResource
) -> dg.AssetCheckResult:
    window = context.partition_time_window
    with duckdb.get_connection() as con:
        rec = logged_vs_engine_tokens(con, window.start, window.end)
    worst = max((abs(r - 1) for r in rec.by_deployment.values()), default=0.0)
    return dg.AssetCheckResult(
        passed=worst <= MAX_TOKEN_DISAGREEMENT,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**_metadata(rec), "worst_disagreement": round(worst, 4)},
    )


cross_source_checks = [billed_gpu_hours_seen_by_telemetry, logged_tokens_match_engine_counters]
