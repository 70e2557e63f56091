"""What one deployment-day's traffic takes on GPUs, per the cost model: modelled and floor.

Busy time follows Little's law on each replica: requests on its GPUs × time = busy time ×
the mean batch while busy. A request's time on the GPUs is its prefill plus its output
tokens × the decode step at batch B, so for N requests of mean uncached ISL and OSL

    S(B, eff, config) = N · (prefill + OSL · step(B)) / B · TP           GPU-seconds

(roofline prefill and decode step of ``costmodel``). The four figures priced by
``fct_efficiency_daily`` (COSTMODEL.md §3-4):

    modelled   S(B_obs, fitted, deployed)       B_obs observed, efficiency fitted on earlier
                                                days: compared with DCGM's busy time
    kernel     S(B_max, fitted, deployed)       the best batch memory allows, same kernels
    reference  S(B_max, prior, deployed)        ... with Tier-0 (published-good) kernels
    floor      min S(B_max', prior, TP')        the cheapest replica shape from the smallest TP
                                                that fits up to the deployed one, no idle

so floor → reference is the cost of a replica shape other than the cheapest, reference →
kernel the kernels' efficiency, kernel → modelled the batching, modelled → measured busy
the residual (the cost model's error, reported as measured), then idle and
over-provisioning from billing and DCGM. Each is computed from its own evidence; nothing
is forced to sum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from pipelines.costmodel.engines import Efficiency, efficiency_prior
from pipelines.costmodel.parallelism import valid_tensor_parallel_degrees
from pipelines.costmodel.throughput import DoesNotFitError, estimate_throughput
from pipelines.recommend.calibrate import FittedEfficiency
from pipelines.recommend.inputs import DailyObservation, DeploymentConfig
from pipelines.recommend.outputs import EfficiencyRow
from pipelines.recommend.workload import Workload, fits, summarise


@dataclass(frozen=True)
class BusyTime:
    """GPU-seconds per request at one batch, and the batch the cost model could run."""

    gpu_seconds_per_request: float
    prefill_share: float
    batch: float


def busy_time(
    config: DeploymentConfig, efficiency: Efficiency | None, w: Workload, batch: float | None
) -> BusyTime | None:
    """GPU-seconds one mean request keeps ``config`` busy at ``batch`` per replica (None:
    the most memory allows); None if the LLM does not fit."""
    concurrency = None if batch is None else batch * config.replicas
    try:
        est = estimate_throughput(config.deployment(efficiency), w.isl_uncached, w.osl, concurrency)
    except DoesNotFitError:
        return None
    b = est.concurrent_sequences_per_replica
    prefill_s = est.prefill.total_s
    life_s = prefill_s + w.osl * est.decode_step.total_s
    return BusyTime(life_s / b * est.tensor_parallel, prefill_s / life_s, b)


def _cheapest_shape(
    config: DeploymentConfig, prior: Efficiency, w: Workload, tp_min: int
) -> BusyTime | None:
    """The replica shape (TP from the smallest that fits to the deployed one) that carries
    the traffic in the fewest GPU-seconds at the batch memory allows: a larger TP holds a
    larger batch, so the fewest GPUs per replica are not always the cheapest per token."""
    shapes = [
        busy_time(replace(config, num_gpus=tp, tensor_parallel=tp), prior, w, None)
        for tp in valid_tensor_parallel_degrees(config.deployment().arch)
        # a deployment may run below the KV room the policy asks for: then only its own TP
        if min(tp_min, config.tensor_parallel) <= tp <= config.tensor_parallel
    ]
    fitting = [s for s in shapes if s is not None]
    return min(fitting, key=lambda s: s.gpu_seconds_per_request, default=None)


def min_fitting_tp(config: DeploymentConfig, w: Workload, min_context: int, headroom: float):
    """Smallest valid tensor-parallel degree at which one replica fits, or None."""
    for tp in valid_tensor_parallel_degrees(config.deployment().arch):
        if fits(replace(config, num_gpus=tp, tensor_parallel=tp), w, min_context, headroom):
            return tp
    return None


def gpus_needed(config: DeploymentConfig, busy_fraction: float, tp_min: int) -> int:
    """Fewest GPUs, in whole replicas of ``tp_min``, that fit and carry the busy time."""
    replicas = max(1, math.ceil(busy_fraction * config.num_gpus / tp_min - 1e-9))
    return min(config.num_gpus, replicas * tp_min)


def efficiency_row(
    obs: DailyObservation,
    config: DeploymentConfig,
    fitted: FittedEfficiency,
    min_context_tokens: int = 32_768,
    kv_headroom: float = 1.5,
) -> EfficiencyRow | None:
    """The cost model's GPU-seconds for one deployment-day; None if the LLM does not fit
    the deployment's GPUs in the cost model (a config error surfaced elsewhere)."""
    w = summarise([obs])
    prior = efficiency_prior(config.cost_model_engine, config.gpu_id)
    tp_min = min_fitting_tp(config, w, min_context_tokens, kv_headroom) or config.tensor_parallel
    modelled = busy_time(config, fitted.efficiency, w, obs.batch_when_busy)
    kernel = busy_time(config, fitted.efficiency, w, None)
    reference = busy_time(config, prior, w, None)
    floor = _cheapest_shape(config, prior, w, tp_min)
    if None in (modelled, kernel, reference, floor):
        return None
    requests = obs.requests * obs.observed_request_share
    needed = gpus_needed(config, obs.busy_fraction, tp_min)
    return EfficiencyRow(
        usage_date=obs.usage_date,
        deployment_id=obs.deployment_id,
        requests=obs.requests,
        observed_request_share=obs.observed_request_share,
        batch_observed=obs.batch_when_busy,
        batch_max=kernel.batch,
        gpu_count=config.num_gpus,
        tensor_parallel=config.tensor_parallel,
        tensor_parallel_min=tp_min,
        gpus_needed=needed,
        modelled_busy_gpu_seconds=requests * modelled.gpu_seconds_per_request,
        modelled_prefill_share=modelled.prefill_share,
        kernel_gpu_seconds=requests * kernel.gpu_seconds_per_request,
        reference_gpu_seconds=requests * reference.gpu_seconds_per_request,
        floor_gpu_seconds=requests * floor.gpu_seconds_per_request,
        floor_prefill_share=floor.prefill_share,
        efficiency_source=fitted.source,
        calibration_scope=fitted.scope,
        calibration_days=fitted.days_used,
        calibration_requests=fitted.requests_used,
        mbu_used=fitted.efficiency.mbu,
        mfu_used=fitted.efficiency.mfu,
        regime="footprint-bound" if needed <= tp_min else "throughput-bound",
    )
