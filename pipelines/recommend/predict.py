"""Predicted vs actual $/1M tokens per deployment and day, and the gap as a waterfall.

With price p per GPU-second (the allocated cost ÷ billed GPU-seconds) and S(B, eff) the
GPU-seconds the cost model says the day's requests take at B sequences per replica:

    predicted          = p · S(B_max, assumed)            full batching, no idle, min GPUs
    batching           = p · (S(B_obs, assumed) − S(B_max, assumed))
    kernel_efficiency  = p · (S(B_obs, achieved) − S(B_obs, assumed))
    residual           = p · (busy GPU-s − S(B_obs, achieved))       cost-model error
    idle               = p · (GPU-s of the GPUs needed − busy GPU-s)
    over_provisioning  = p · (GPUs held − GPUs needed) · day

which sums to the actual cost exactly (COSTMODEL.md §4). "Assumed" is the efficiency the
prediction uses (calibrated or prior), "achieved" the one implied by that day's timings;
B_obs is the mean batch while busy. GPUs needed = the fewest that fit the LLM (with the
KV rule of ``workload.fits``) and carry the observed busy time.
"""

from __future__ import annotations

import math
from dataclasses import replace

from pipelines.costmodel.engines import Efficiency
from pipelines.costmodel.parallelism import valid_tensor_parallel_degrees
from pipelines.costmodel.throughput import ThroughputEstimate
from pipelines.recommend.calibrate import Calibration
from pipelines.recommend.inputs import DailyObservation, DeploymentConfig
from pipelines.recommend.outputs import EfficiencyRow
from pipelines.recommend.workload import (
    Workload,
    estimate,
    fits,
    replica_seconds_per_request,
    summarise,
)

SECONDS_PER_DAY = 86_400


def min_fitting_tp(config: DeploymentConfig, w: Workload, min_context: int, headroom: float):
    """Smallest valid tensor-parallel degree at which one replica fits, or None."""
    for tp in valid_tensor_parallel_degrees(config.deployment().arch):
        if fits(replace(config, num_gpus=tp, tensor_parallel=tp), w, min_context, headroom):
            return tp
    return None


def gpus_needed(config: DeploymentConfig, w: Workload, busy: float, tp_min: int) -> int:
    """Fewest GPUs, in whole replicas of ``tp_min``, that fit and carry the busy time."""
    replicas = max(1, math.ceil(busy * config.num_gpus / tp_min - 1e-9))
    return min(config.num_gpus, replicas * tp_min)


def _gpu_seconds(est: ThroughputEstimate, config: DeploymentConfig, requests: int) -> float:
    return requests * replica_seconds_per_request(est) * config.tensor_parallel


def efficiency_row(
    obs: DailyObservation,
    config: DeploymentConfig,
    calibration: Calibration,
    min_context_tokens: int = 32_768,
    kv_headroom: float = 1.5,
) -> EfficiencyRow | None:
    """The ``fct_efficiency_daily`` row of one deployment-day; None if the LLM does not fit
    the deployment's GPUs in the cost model (a config error to surface elsewhere)."""
    fitted = calibration.for_config(config)
    assumed: Efficiency = fitted.efficiency
    achieved = calibration.achieved.get((obs.deployment_id, obs.usage_date), assumed)
    w = summarise([obs])
    b_obs = obs.batch_when_busy
    at_max = estimate(config, assumed, w, None)
    at_obs = estimate(config, assumed, w, b_obs)
    at_obs_achieved = estimate(config, achieved, w, b_obs)
    if at_max is None or at_obs is None or at_obs_achieved is None:
        return None
    day_s = SECONDS_PER_DAY * obs.telemetry_coverage
    price_s = obs.cost_usd / (config.num_gpus * day_s)
    tp_min = min_fitting_tp(config, w, min_context_tokens, kv_headroom) or config.tensor_parallel
    needed = gpus_needed(config, w, obs.busy_fraction, tp_min)
    busy_s = obs.busy_fraction * config.num_gpus * day_s
    s_max = _gpu_seconds(at_max, config, obs.requests)
    s_obs = _gpu_seconds(at_obs, config, obs.requests)
    s_ach = _gpu_seconds(at_obs_achieved, config, obs.requests)
    predicted = price_s * s_max
    parts = {
        "over": price_s * (config.num_gpus - needed) * day_s,
        "idle": price_s * (needed * day_s - busy_s),
        "batching": price_s * (s_obs - s_max),
        "kernel": price_s * (s_ach - s_obs),
    }
    share = at_max.prefill_time_share
    return EfficiencyRow(
        usage_date=obs.usage_date,
        deployment_id=obs.deployment_id,
        predicted_usd_per_1m_input_tokens=1e6 * predicted * share / max(obs.input_tokens, 1),
        predicted_usd_per_1m_output_tokens=1e6
        * predicted
        * (1 - share)
        / max(obs.output_tokens, 1),
        actual_usd_per_1m_input_tokens=obs.actual_usd_per_1m_input_tokens,
        actual_usd_per_1m_output_tokens=obs.actual_usd_per_1m_output_tokens,
        efficiency=predicted / obs.cost_usd,
        predicted_cost_usd=predicted,
        actual_cost_usd=obs.cost_usd,
        gap_over_provisioning_usd=parts["over"],
        gap_idle_usd=parts["idle"],
        gap_batching_usd=parts["batching"],
        gap_kernel_efficiency_usd=parts["kernel"],
        gap_residual_usd=obs.cost_usd - predicted - sum(parts.values()),
        efficiency_source=fitted.source,
        mbu_used=assumed.mbu,
        mfu_used=assumed.mfu,
        regime="footprint-bound" if needed <= tp_min else "throughput-bound",
    )
