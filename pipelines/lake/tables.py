"""Which raw tables the lake holds, and how each one's rows are cut into UTC days.

Every table dbt declares as a source in ``raw`` (models/**/_*__sources.yml: the Spark target
registers each of them over its lake folder), plus the two quarantine tables, which carry a
day. The recommendation engine's two tables are written after dbt's first pass (from the
marts), so they are exported apart, after the engine and before the recommendation marts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class LakeTable:
    """A raw table and its UTC day: ``timestamp`` (rows with ``day_column`` in
    [day, day + 1) UTC), ``date`` (rows whose ``day_column`` equals the day), or none
    (``day_column`` None: written whole, no partitions)."""

    name: str
    day_column: str | None = None
    day_kind: Literal["timestamp", "date"] | None = None

    @property
    def partitioned(self) -> bool:
        return self.day_column is not None


# Ingest replaces these one UTC day at a time (pipelines/assets/requests.py, telemetry.py).
DAILY_TABLES = (
    LakeTable("inference_requests", "arrival_ts", "timestamp"),
    LakeTable("quarantine_requests", "partition_day", "date"),
    LakeTable("dcgm_samples", "ts", "timestamp"),
    LakeTable("engine_metric_samples", "ts", "timestamp"),
    LakeTable("quarantine_telemetry", "partition_day", "date"),
)
# Replaced whole (snapshots), only added to (the series tables) or replaced by billing period
# (billing_line_items: a restatement rewrites a month, and allocation reads whole periods),
# so written whole after each run.
WHOLE_TABLES = (
    LakeTable("engine_series"),  # labels of engine_metric_samples' series ids, only ever added
    LakeTable("dcgm_series"),  # labels of dcgm_samples' series ids, the same
    LakeTable("billing_line_items"),
    LakeTable("billing_deliveries"),
    LakeTable("fx_rates_usd"),
    LakeTable("instance_types"),
    LakeTable("registry_deployments"),
    LakeTable("registry_selectors"),
    LakeTable("registry_prefill_rates"),
    LakeTable("llm_architectures"),
    LakeTable("gpu_catalog"),
    LakeTable("onprem_hosts"),
)
LAKE_TABLES = DAILY_TABLES + WHOLE_TABLES
# Written by pipelines/assets/recommend.py (a few rows a day): written whole after it runs.
RECOMMEND_TABLES = (LakeTable("predicted_efficiency_daily"), LakeTable("recommendations"))
