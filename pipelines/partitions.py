"""Partitions, defined once: every time-partitioned asset in unitcost is daily, in UTC."""

import dagster as dg

# UTC only: a DST day would otherwise have 23 or 25 hourly buckets (RELIABILITY.md case 12).
# The start is the earliest day unitcost backfills; `unitcost run` validates its range against it.
PARTITIONS_START_DATE = "2024-01-01"

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START_DATE, timezone="UTC", end_offset=1
)
