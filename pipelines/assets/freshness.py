"""``data_arrived``: per raw source and UTC day, did the data come by its configured time?

Each source's ``freshness`` in ``unitcost.yaml`` (``expected_by`` "HH:MM" UTC after the day
ends, ``on_missing`` warn|fail) decides the check's severity: a scheduled day whose data is
due and absent FAILs (ERROR, blocking the models downstream) or WARNs. Without this a day
with no data succeeded silently and the report kept headlining older savings (issue 12).
A day not yet due passes: the data may still be on its way.
"""

import datetime as dt
import warnings

import dagster as dg

from pipelines.partitions import daily_partitions, window_days
from pipelines.quality.freshness import missing_days
from pipelines.resources import UnitcostConfigResource, WarehouseResource

# The asset each source's check is on.
SOURCE_ASSETS = {
    "billing": dg.AssetKey(["raw", "billing_line_items"]),
    "telemetry": dg.AssetKey(["raw", "dcgm_samples"]),
    "requests": dg.AssetKey(["raw", "inference_requests"]),
}


def run_freshness_check(
    con, source: str, settings, window: dg.TimeWindow, now: dt.datetime | None = None
) -> dg.AssetCheckResult:
    config = settings.sources.get(source)
    if config is None:
        return dg.AssetCheckResult(passed=True, metadata={"configured": False})
    freshness = config.freshness
    now = now or dt.datetime.now(dt.UTC)
    missing, pending = missing_days(con, source, window_days(window), freshness, now)
    severity = (
        dg.AssetCheckSeverity.ERROR
        if freshness.on_missing == "fail"
        else dg.AssetCheckSeverity.WARN
    )
    return dg.AssetCheckResult(
        passed=not missing,
        severity=severity,
        metadata={
            "source": source,
            "days_missing": missing,
            "days_not_yet_due": pending,
            "expected_by_utc": f"{freshness.expected_by} after the day ends",
            "on_missing": freshness.on_missing,
            "missing": [f"no {source} rows for {d}" for d in missing],
        },
    )


def _freshness_check(source: str):
    asset = SOURCE_ASSETS[source]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)

        @dg.asset_check(
            asset=asset,
            name="data_arrived",
            partitions_def=daily_partitions,
            pool="duckdb",
            blocking=True,
            description=f"{source} rows exist for the day once due (freshness in unitcost.yaml).",
        )
        def _check(
            context: dg.AssetCheckExecutionContext,
            unitcost: UnitcostConfigResource,
            duckdb: WarehouseResource,
        ) -> dg.AssetCheckResult:
            with duckdb.get_connection() as con:
                return run_freshness_check(
                    con, source, unitcost.settings(), context.partition_time_window
                )

    return _check


freshness_checks = [_freshness_check(source) for source in SOURCE_ASSETS]
