"""A hand-made workload for the rule tests: a 7B chat deployment idling on one H100."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipelines.recommend.workload import Workload


def chat_workload(**overrides) -> Workload:
    """1,200 requests a day on 1 H100 at $6.88/h, 2 % busy (4 % in its busiest hour)."""
    base = dict(
        deployment_id="chat",
        days=7,
        as_of=dt.date(2026, 11, 7),
        requests_per_day=1200,
        tokens_per_day=1.6e6,
        input_tokens_per_day=1.35e6,
        output_tokens_per_day=0.25e6,
        cached_tokens_per_day=0,
        isl=1130,
        isl_uncached=1130,
        osl=210,
        batch_when_busy=1.0,
        p95_concurrency=1.4,
        busy_fraction=0.02,
        peak_busy_fraction=0.04,
        peak_to_mean_load=1.8,
        p95_ttft_ms=185,
        p95_tpot_ms=8.3,
        telemetry_coverage=1.0,
        daily_cost_usd=Decimal("165.120000"),  # 1 H100 at $6.88/h
    )
    return Workload(**(base | overrides))
