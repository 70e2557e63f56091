"""A proposed config checked against the observed workload: memory, load and latency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pipelines.recommend.inputs import DeploymentConfig
from pipelines.recommend.money import gpu_daily_usd
from pipelines.recommend.policy import Policy
from pipelines.recommend.workload import Workload, fits, time_ratio


@dataclass(frozen=True)
class Option:
    """A config that fits and carries the observed peak, with its predicted p95 latencies.

    ``peak_busy`` is the predicted busy fraction of the busiest hour and ``peak_limit`` the
    limit ``check`` held it to, ``peak_limit_field`` the policy value it came from (the texts
    quote these, so they cannot disagree with the check); ``daily_cost_usd`` what its GPUs
    cost per day at ``config.usd_per_gpu_hour`` (Decimal, to the micro-dollar).
    """

    config: DeploymentConfig
    peak_busy: float
    p95_tpot_ms: float
    p95_ttft_ms: float
    replica_time_ratio: float
    peak_limit: float
    peak_limit_field: str

    @property
    def daily_cost_usd(self) -> Decimal:
        return gpu_daily_usd(self.config.num_gpus, self.config.usd_per_gpu_hour)


def describe(c: DeploymentConfig) -> str:
    """``4x h100-sxm (TP4, bf16 weights, bf16 KV, llama-3.1-70b)``."""
    return (
        f"{c.num_gpus}x {c.gpu_id} (TP{c.tensor_parallel}, {c.weight_precision} weights, "
        f"{c.kv_cache_precision} KV, {c.llm_id})"
    )


def check(
    new: DeploymentConfig,
    current: DeploymentConfig,
    w: Workload,
    policy: Policy,
    same_speed_ok: bool = False,
) -> Option | None:
    """``new`` as an Option if it fits, carries the peak and meets the latency SLOs.

    A predicted p95 over its SLO is allowed only when the deployment is already over it
    today and the change is predicted not to make it slower (``claims.latency`` says so in
    the text). The peak scales as observed peak busy × current replicas / new replicas × the
    cost model's per-request replica-time ratio. Only a pure consolidation of identical replicas
    is judged against ``max_peak_busy_observed``; anything whose speed is predicted must
    stay under ``max_peak_busy_predicted``, unless ``same_speed_ok`` and every replica is
    predicted no slower than now (then the observed load per replica is unchanged).
    """
    if not fits(new, w, policy.min_context_tokens, policy.kv_headroom):
        return None
    identical = (new.gpu_id, new.tensor_parallel, new.weight_precision, new.llm_id) == (
        current.gpu_id,
        current.tensor_parallel,
        current.weight_precision,
        current.llm_id,
    )
    ratios = (1.0, 1.0, 1.0) if identical else time_ratio(new, current, w)
    if ratios is None:
        return None
    replica_ratio, tpot_ratio, ttft_ratio = ratios
    peak = w.peak_busy_fraction * current.replicas / new.replicas * replica_ratio
    limit, field = policy.max_peak_busy_predicted, "max_peak_busy_predicted"
    if identical:
        limit, field = policy.max_peak_busy_observed, "max_peak_busy_observed"
    elif (
        same_speed_ok
        and new.replicas >= current.replicas
        and replica_ratio <= 1.05
        and w.peak_busy_fraction * 1.05 > limit
    ):
        # every replica predicted no slower: the observed load per replica stays as it is
        limit = w.peak_busy_fraction * 1.05
        field = "the observed peak × 1.05, as no replica is predicted slower"
    tpot, ttft = w.p95_tpot_ms * tpot_ratio, w.p95_ttft_ms * ttft_ratio
    # a deployment already over its SLO may still change, as long as it gets no slower
    slow_tpot = tpot > policy.slo_p95_tpot_ms and tpot_ratio > 1.0
    slow_ttft = ttft > policy.slo_p95_ttft_ms and ttft_ratio > 1.0
    if peak > limit or slow_tpot or slow_ttft:
        return None
    return Option(new, peak, tpot, ttft, replica_ratio, limit, field)


def replicas_to_keep(current: DeploymentConfig, policy: Policy) -> int:
    return min(current.replicas, policy.min_replicas_kept)
