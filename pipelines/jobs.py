"""Jobs and schedules: snapshot inputs refresh first, then yesterday's daily partition, and on
Mondays the weekly report of the week that ended on Sunday.

The split is by partitioning, so a new asset lands in the right job by how it is declared;
the report (group ``report``) is daily-partitioned but has a job of its own.
A multi-asset counts as partitioned if any of its assets is: ``dbt_models`` builds the
unpartitioned dimensions in the daily job, in the same dbt invocation as the daily models
(pipelines/assets/dbt.py). ``unitcost run`` executes the same three jobs: the first two over a
partition range, the report for the range's last day.
"""

import datetime as dt
import os

import dagster as dg

SNAPSHOT_JOB = "refresh_snapshots"
DAILY_JOB = "daily"
# not "weekly_report": that is the report asset's op, and a job may not share an op's name
WEEKLY_REPORT_JOB = "weekly_rightsizing_report"
REPORT_GROUP = "report"


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
    their unpartitioned ones included); the report job builds Sunday's partition (the week
    Monday–Sunday) on Mondays an hour after the daily job. All schedules ship STOPPED,
    Dagster's convention: start them in the UI (Automation) or with ``dagster schedule start``
    (README)."""
    report = [a for a in assets if REPORT_GROUP in a.group_names_by_key.values()]
    partitioned = [a for a in assets if a.partitions_def is not None and a not in report]
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
    report_job = dg.define_asset_job(
        WEEKLY_REPORT_JOB,
        selection=dg.AssetSelection.assets(*report),
        description="The weekly right-sizing report of the 7 UTC days ending on the partition.",
    )

    # An hour after the daily job has built Sunday (Monday at hour_utc; with hour_utc 23 the
    # report's hour is Tuesday 00:00): the report of Monday–Sunday. The partition is read off
    # the tick's own date, so a late tick still reports the week it was for.
    days_after_monday, report_hour = divmod(hour_utc + 1, 24)

    @dg.schedule(
        job=report_job,
        cron_schedule=f"0 {report_hour} * * {1 + days_after_monday}",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        name=f"{WEEKLY_REPORT_JOB}_schedule",
    )
    def weekly_report_schedule(context: dg.ScheduleEvaluationContext):
        tick = context.scheduled_execution_time.date()
        sunday = tick - dt.timedelta(days=1 + days_after_monday)
        return dg.RunRequest(partition_key=sunday.isoformat())

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
        weekly_report_schedule,
    ]
    return [snapshot_job, daily_job, report_job], schedules
