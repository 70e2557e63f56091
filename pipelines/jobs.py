"""Jobs and schedules: snapshot inputs refresh first, then yesterday's daily partition.

The split is by partitioning, so a new asset lands in the right job by how it is declared.
A multi-asset counts as partitioned if any of its assets is: ``dbt_models`` builds the
unpartitioned dimensions in the daily job, in the same dbt invocation as the daily models
(pipelines/assets/dbt.py). ``unitcost run`` executes the same two jobs, over a partition range.
"""

import dagster as dg

SNAPSHOT_JOB = "refresh_snapshots"
DAILY_JOB = "daily"


def build_jobs(assets: list[dg.AssetsDefinition]) -> tuple[list, list]:
    """(jobs, schedules) for ``assets``: unpartitioned ones refresh at 05:00 UTC, daily at 06:00
    (multi-assets with any daily asset, their unpartitioned ones included)."""
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
            cron_schedule="0 5 * * *",
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.RUNNING,
        ),
        # Yesterday's partition, once yesterday has fully landed.
        dg.build_schedule_from_partitioned_job(
            daily_job, hour_of_day=6, default_status=dg.DefaultScheduleStatus.RUNNING
        ),
    ]
    return [snapshot_job, daily_job], schedules
