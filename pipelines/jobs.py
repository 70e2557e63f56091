"""Jobs and schedules: snapshot inputs refresh first, then yesterday's daily partition.

The split is by partitioning, so a new asset lands in the right job by how it is declared.
A multi-asset counts as partitioned if any of its assets is: ``dbt_models`` builds the
unpartitioned dimensions in the daily job, in the same dbt invocation as the daily models
(pipelines/assets/dbt.py). ``unitcost run`` executes the same two jobs, over a partition range.
"""

import os

import dagster as dg

SNAPSHOT_JOB = "refresh_snapshots"
DAILY_JOB = "daily"


DAILY_HOUR_ENV = "UNITCOST_DAILY_HOUR_UTC"
DEFAULT_DAILY_HOUR_UTC = 6


def daily_hour_utc() -> int:
    """The UTC hour the daily job runs yesterday's partition (``UNITCOST_DAILY_HOUR_UTC``,
    default 6: once yesterday's logs and telemetry have landed)."""
    value = os.environ.get(DAILY_HOUR_ENV, "").strip() or str(DEFAULT_DAILY_HOUR_UTC)
    if not value.isdigit() or not 0 <= int(value) <= 23:
        raise ValueError(f"{DAILY_HOUR_ENV} must be an hour from 0 to 23, got {value!r}")
    return int(value)


def build_jobs(
    assets: list[dg.AssetsDefinition], hour_utc: int = DEFAULT_DAILY_HOUR_UTC
) -> tuple[list, list]:
    """(jobs, schedules) for ``assets``: unpartitioned ones refresh an hour before the daily
    job, which runs yesterday's partition at ``hour_utc`` (multi-assets with any daily asset,
    their unpartitioned ones included). Both schedules ship STOPPED, Dagster's convention:
    start them in the UI (Automation) or with ``dagster schedule start`` (README)."""
    partitioned = [a for a in assets if a.partitions_def is not None]
    snapshot = [a for a in assets if a.partitions_def is None]
    snapshot_job = dg.define_asset_job(
        SNAPSHOT_JOB,
        selection=dg.AssetSelection.assets(*snapshot),
        description="Refresh unpartitioned inputs: registry, catalogs, instance types.",
    )
    daily_job = dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.assets(*partitioned),
        description="Build one UTC day of every daily-partitioned asset, and the dimensions.",
    )
    schedules = [
        dg.ScheduleDefinition(
            job=snapshot_job,
            cron_schedule=f"0 {(hour_utc - 1) % 24} * * *",
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.STOPPED,
        ),
        # Yesterday's partition, once yesterday has fully landed. Stopped until started: a
        # schedule running by default would build days a fleet has no data for yet.
        dg.build_schedule_from_partitioned_job(
            daily_job, hour_of_day=hour_utc, default_status=dg.DefaultScheduleStatus.STOPPED
        ),
    ]
    return [snapshot_job, daily_job], schedules
