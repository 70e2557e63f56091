"""The engine's rows as typed frames for ``raw.predicted_efficiency_daily`` and
``raw.recommendations``: money as DECIMAL(38,12), the grain's columns first.

The engine computes in floats (the cost model does); money is fixed to 10^-12 USD here, at
the boundary, so the warehouse never stores a binary float as a dollar amount.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import polars as pl

from pipelines.recommend.outputs import (
    EfficiencyRow,
    Recommendation,
    efficiency_frame,
    recommendation_frame,
)

MONEY = pl.Decimal(38, 12)
EFFICIENCY_MONEY = (
    "predicted_usd_per_1m_input_tokens",
    "predicted_usd_per_1m_output_tokens",
    "actual_usd_per_1m_input_tokens",
    "actual_usd_per_1m_output_tokens",
    "predicted_cost_usd",
    "actual_cost_usd",
    "gap_over_provisioning_usd",
    "gap_idle_usd",
    "gap_batching_usd",
    "gap_kernel_efficiency_usd",
    "gap_residual_usd",
)
RECOMMENDATION_MONEY = ("monthly_savings_usd", "current_daily_cost_usd", "proposed_daily_cost_usd")
RECOMMENDATION_GRAIN = ("as_of_date", "deployment_id", "instance_id", "kind")


def efficiency_table(rows: Iterable[EfficiencyRow], start: dt.date, end: dt.date) -> pl.DataFrame:
    """One row per deployment and UTC day in ``[start, end)``, sorted by day and deployment."""
    frame = efficiency_frame(rows).filter(pl.col("usage_date").is_between(start, end, "left"))
    return frame.with_columns(pl.col(EFFICIENCY_MONEY).cast(MONEY)).sort(
        "usage_date", "deployment_id"
    )


def recommendation_table(recs: Iterable[Recommendation], as_of: dt.date) -> pl.DataFrame:
    """One row per (deployment or idle instance, kind), all dated ``as_of``.

    The engine dates a recommendation by its last observed day; the table dates every row
    by the window it was made in, so a window's rows replace as one ``as_of_date``.
    """
    frame = recommendation_frame(recs).with_columns(
        pl.lit(as_of, pl.Date).alias("as_of_date"), pl.col(RECOMMENDATION_MONEY).cast(MONEY)
    )
    rest = [c for c in frame.columns if c not in RECOMMENDATION_GRAIN]
    return frame.select(*RECOMMENDATION_GRAIN, *rest).sort(
        "deployment_id", "instance_id", "kind", nulls_last=True
    )
