"""A deployment's observed workload over the window, and how a config would carry it.

Load is measured as the busy fraction of the busiest hour (DCGM GPU utilisation): the
evidence COSTMODEL.md §4 names for idle and over-provisioning. A proposed config's load is
scaled by the cost model's ratio of per-request replica time, new vs current, at the
observed batch; capacity is never assumed to come from batching harder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from statistics import fmean

from pipelines.costmodel.engines import Efficiency
from pipelines.costmodel.memory import plan_memory
from pipelines.costmodel.throughput import DoesNotFitError, ThroughputEstimate, estimate_throughput
from pipelines.recommend.inputs import DailyObservation, DeploymentConfig
from pipelines.recommend.money import daily_usd, usd


@dataclass(frozen=True)
class Workload:
    """Traffic, latency and cost of one deployment summarised over the observed days.

    ``daily_cost_usd`` is money: the mean of the days' costs in Decimal, to the micro-dollar.
    """

    deployment_id: str
    days: int
    as_of: dt.date
    requests_per_day: float
    tokens_per_day: float
    input_tokens_per_day: float
    output_tokens_per_day: float
    cached_tokens_per_day: float
    isl: float
    isl_uncached: float
    osl: float
    batch_when_busy: float
    p95_concurrency: float
    busy_fraction: float
    peak_busy_fraction: float
    peak_to_mean_load: float
    p95_ttft_ms: float
    p95_tpot_ms: float
    telemetry_coverage: float
    daily_cost_usd: Decimal


def summarise(days: list[DailyObservation]) -> Workload:
    """Means over days for volumes and cost; worst day for peaks and tail latencies."""
    n = len(days)
    requests = sum(d.requests for d in days)
    inputs = sum(d.input_tokens for d in days)
    cached = sum(d.cached_tokens for d in days)
    outputs = sum(d.output_tokens for d in days)
    return Workload(
        deployment_id=days[0].deployment_id,
        days=n,
        as_of=max(d.usage_date for d in days),
        requests_per_day=requests / n,
        tokens_per_day=(inputs + outputs) / n,
        input_tokens_per_day=inputs / n,
        output_tokens_per_day=outputs / n,
        cached_tokens_per_day=cached / n,
        isl=inputs / requests,
        isl_uncached=max(inputs - cached, requests) / requests,
        osl=max(outputs / requests, 1.0),
        batch_when_busy=fmean(d.batch_when_busy for d in days),
        p95_concurrency=max(d.p95_concurrency for d in days),
        busy_fraction=fmean(d.busy_fraction for d in days),
        peak_busy_fraction=max(d.peak_hour_busy_fraction for d in days),
        peak_to_mean_load=max(d.peak_to_mean_load for d in days),
        p95_ttft_ms=max(d.p95_ttft_ms for d in days),
        p95_tpot_ms=max(d.p95_tpot_ms for d in days),
        telemetry_coverage=fmean(d.telemetry_coverage for d in days),
        daily_cost_usd=daily_usd(sum(usd(d.cost_usd) for d in days) / n),
    )


def estimate(
    config: DeploymentConfig, efficiency: Efficiency | None, w: Workload, batch: float | None
) -> ThroughputEstimate | None:
    """Cost-model throughput at ``batch`` sequences per replica (None: memory-allowed)."""
    concurrency = None if batch is None else batch * config.replicas
    try:
        return estimate_throughput(
            config.deployment(efficiency), w.isl_uncached, w.osl, concurrency
        )
    except DoesNotFitError:
        return None


def replica_seconds_per_request(est: ThroughputEstimate) -> float:
    return est.replicas / est.requests_per_s


def kv_tokens_needed(w: Workload, min_context_tokens: int, headroom: float) -> float:
    """KV room one replica must have: the p95 concurrency with headroom, and at least one
    long sequence (vLLM refuses to start if one ``max_model_len`` sequence does not fit)."""
    return max(min_context_tokens, w.p95_concurrency * (w.isl + w.osl) * headroom)


def fits(config: DeploymentConfig, w: Workload, min_context_tokens: int, headroom: float) -> bool:
    """True if one replica of ``config`` holds the weights and the KV room needed."""
    try:
        plan = plan_memory(config.deployment(), w.isl, w.osl)
    except DoesNotFitError:
        return False
    need = kv_tokens_needed(w, min_context_tokens, headroom)
    return plan.fits and plan.kv_tokens_per_replica >= need


def time_ratio(
    new: DeploymentConfig, current: DeploymentConfig, w: Workload
) -> tuple[float, float, float] | None:
    """Per-request replica time, TPOT and TTFT of ``new`` relative to ``current``.

    Both sides use their Tier-0 priors, so the ratio carries no calibration bias from one
    side only; at the observed batch per replica.
    """
    a = estimate(new, None, w, w.batch_when_busy)
    b = estimate(current, None, w, w.batch_when_busy)
    if a is None or b is None:
        return None
    return (
        replica_seconds_per_request(a) / replica_seconds_per_request(b),
        a.decode_step.total_s / b.decode_step.total_s,
        a.prefill.total_s / b.prefill.total_s,
    )
