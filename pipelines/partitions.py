"""Partitions, defined once: every time-partitioned asset in unitcost is daily, in UTC."""

import datetime as dt

import dagster as dg

# UTC only: a DST day would otherwise have 23 or 25 hourly buckets (RELIABILITY.md case 12).
# The start is the earliest day unitcost backfills; `unitcost run` validates its range against it.
PARTITIONS_START_DATE = "2024-01-01"

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START_DATE, timezone="UTC", end_offset=1
)


def window_days(window: dg.TimeWindow) -> list[dt.date]:
    """The UTC days of a partition window [start, end), in order."""
    first, end = window.start.date(), window.end.date()
    return [first + dt.timedelta(days=i) for i in range((end - first).days)]
