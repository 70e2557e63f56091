"""The engine's rows as typed frames for ``raw.predicted_efficiency_daily`` and
``raw.recommendations``: money as DECIMAL(38,12), the grain's columns first.

Recommendation money is already Decimal (cents for monthly savings, micro-dollars for daily
costs, ``money.py``) and goes into DECIMAL(38,12) exactly, without passing through a float.
The efficiency rows hold no money: GPU-seconds (floats, the cost model's physics) that
``fct_efficiency_daily`` prices in DECIMAL beside the bill.
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
RECOMMENDATION_MONEY = (
    "monthly_savings_usd",
    "current_daily_cost_usd",
    "proposed_daily_cost_usd",
    "cash_monthly_savings_usd",
    "deferred_monthly_savings_usd",
)
RECOMMENDATION_GRAIN = ("as_of_date", "deployment_id", "instance_id", "kind")


def efficiency_table(rows: Iterable[EfficiencyRow], start: dt.date, end: dt.date) -> pl.DataFrame:
    """One row per deployment and UTC day in ``[start, end)``, sorted by day and deployment."""
    frame = efficiency_frame(rows).filter(pl.col("usage_date").is_between(start, end, "left"))
    return frame.sort("usage_date", "deployment_id")


def recommendation_table(recs: Iterable[Recommendation], as_of: dt.date) -> pl.DataFrame:
    """One row per (deployment or idle instance, kind), all dated ``as_of``.

    The engine dates a recommendation by its last observed day; the table dates every row
    by the window it was made in, so a window's rows replace as one ``as_of_date``.
    """
    frame = recommendation_frame(recs).with_columns(pl.lit(as_of, pl.Date).alias("as_of_date"))
    if any(frame.schema[c] != MONEY for c in RECOMMENDATION_MONEY):
        raise TypeError(f"recommendation money must be Decimal(38, 12): {frame.schema}")
    rest = [c for c in frame.columns if c not in RECOMMENDATION_GRAIN]
    return frame.select(*RECOMMENDATION_GRAIN, *rest).sort(
        "deployment_id", "instance_id", "kind", nulls_last=True
    )
