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

from pipelines.config import FreshnessConfig
from pipelines.partitions import daily_partitions, window_days
from pipelines.resources import UnitcostConfigResource, WarehouseResource
from pipelines.warehouse import table_exists

# Where a day's rows of each source are: (asset the check is on, table, rows of day ? to ?+1).
DAY_ROWS = {
    "billing": (
        dg.AssetKey(["raw", "billing_line_items"]),
        "raw.billing_line_items",
        "charge_period_start < ? + interval 1 day and charge_period_end > ?",
    ),
    "telemetry": (
        dg.AssetKey(["raw", "dcgm_samples"]),
        "raw.dcgm_samples",
        "ts >= ? and ts < ? + interval 1 day",
    ),
    "requests": (
        dg.AssetKey(["raw", "inference_requests"]),
        "raw.inference_requests",
        "arrival_ts >= ? and arrival_ts < ? + interval 1 day",
    ),
}


def rows_on_day(con, source: str, day: dt.date) -> int:
    _, table, where = DAY_ROWS[source]
    if not table_exists(con, table):
        return 0
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    return con.execute(f"select count(*) from {table} where {where}", [start, start]).fetchone()[0]


def missing_days(
    con, source: str, days: list[dt.date], freshness: FreshnessConfig, now: dt.datetime
) -> tuple[list[str], list[str]]:
    """(days due with no rows, days not yet due) of ``source``."""
    missing, pending = [], []
    for day in days:
        if now < freshness.due(day):
            pending.append(day.isoformat())
        elif rows_on_day(con, source, day) == 0:
            missing.append(day.isoformat())
    return missing, pending


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
    asset = DAY_ROWS[source][0]
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


freshness_checks = [_freshness_check(source) for source in DAY_ROWS]
