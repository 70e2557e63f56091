"""quantize: 16-bit weights to FP8 / INT8 / INT4 when that frees GPUs.

GPUs saved come from memory only (a smaller tensor-parallel degree per replica, same
replica count); the throughput gain is the cost model's ceiling, reported but not counted
on, as real kernel speed-ups need a benchmark (COSTMODEL.md §4). Quality is an assumption,
never a prediction (§2.7).
"""

from __future__ import annotations

from dataclasses import replace

from pipelines.costmodel.parallelism import valid_tensor_parallel_degrees
from pipelines.recommend import claims
from pipelines.recommend.confidence import confidence
from pipelines.recommend.inputs import DeploymentConfig
from pipelines.recommend.money import monthly_saving_usd
from pipelines.recommend.options import Option, check, describe
from pipelines.recommend.outputs import Recommendation
from pipelines.recommend.policy import Policy
from pipelines.recommend.workload import Workload, estimate


def _native(gpu, precision: str) -> bool:
    """FP8 and W8A8 INT8 need tensor cores for them; INT4 (W4A16) runs anywhere."""
    if precision == "fp8":
        return gpu.fp8_dense_flops_per_s is not None
    if precision == "int8":
        return gpu.int8_dense_ops_per_s is not None
    return True


def best_quantize(
    current: DeploymentConfig, w: Workload, policy: Policy, keep_size: bool = False
) -> Option | None:
    """The least aggressive precision whose smallest fitting TP frees GPUs and clears the bar.

    Its saving is GPUs freed, so with ``keep_size`` (the saturation guard) there is none.
    """
    if current.weight_precision not in policy.quantize_from or keep_size:
        return None
    gpu = current.deployment().gpu
    for target in policy.quantize_to:
        if not _native(gpu, target):
            continue
        kv = "fp8" if target == "fp8" else current.kv_cache_precision
        for tp in valid_tensor_parallel_degrees(current.deployment().arch):
            if tp >= current.tensor_parallel:
                break
            new = replace(
                current,
                weight_precision=target,
                kv_cache_precision=kv,
                tensor_parallel=tp,
                num_gpus=tp * current.replicas,
            )
            option = check(new, current, w, policy, same_speed_ok=True)
            if option and policy.clears(w.daily_cost_usd, option.daily_cost_usd):
                return option
    return None


def _ceiling_gain(new: DeploymentConfig, current: DeploymentConfig, w: Workload) -> float:
    """Saturated output tokens/s per GPU, new / current (the cost model's ceiling)."""
    a, b = estimate(new, None, w, None), estimate(current, None, w, None)
    if a is None or b is None:
        return float("nan")
    return (a.output_tokens_per_s / new.num_gpus) / (b.output_tokens_per_s / current.num_gpus)


def quantize(
    current: DeploymentConfig,
    w: Workload,
    policy: Policy,
    calibrated: bool,
    keep_size_reason: str | None = None,
) -> Recommendation | None:
    """The ``quantize`` recommendation for one deployment, or None (always None when
    ``keep_size_reason`` says the deployment is saturated at its peak).

    Its assumptions name every policy value that bounded the choice (``claims``).
    """
    best = best_quantize(current, w, policy, keep_size=keep_size_reason is not None)
    if best is None:
        return None
    new = best.config
    gain = _ceiling_gain(new, current, w)
    saved = current.num_gpus - new.num_gpus
    return Recommendation(
        deployment_id=current.deployment_id,
        kind="quantize",
        summary=(
            f"Quantize {current.deployment_id} from {describe(current)} to {describe(new)}: "
            f"{saved} GPUs fewer, throughput ceiling per GPU x{gain:.1f}."
        ),
        monthly_savings_usd=monthly_saving_usd(w.daily_cost_usd, best.daily_cost_usd),
        confidence=confidence(w, policy, best.p95_tpot_ms, best.p95_ttft_ms, calibrated),
        assumptions=(
            f"Output quality at {new.weight_precision} weights / {new.kv_cache_precision} KV "
            "is unchanged for this use: an assumption to verify on an eval set, not a "
            "prediction.",
            f"{current.weight_precision} weights may be quantized (quantize_from: "
            f"{', '.join(policy.quantize_from)}); {new.weight_precision} is the first of "
            f"quantize_to ({', '.join(policy.quantize_to)}) that {current.gpu_id} runs "
            "natively and that frees GPUs within the limits below.",
            claims.month(
                f"the observed volume and the current ${current.usd_per_gpu_hour:.4f}/GPU-hour"
            ),
            claims.savings_floor(policy, w.daily_cost_usd, best.daily_cost_usd),
            f"The replica count stays {current.replicas}; each replica is predicted "
            f"{best.replica_time_ratio:.2f}x as long per request.",
            claims.peak(w, best),
            *claims.latencies(w, best, policy),
            claims.kv_room(policy),
            f"The x{gain:.1f} throughput ceiling assumes the quantized kernels reach the same "
            "bandwidth efficiency; it is not counted in the saving.",
        ),
        as_of_date=w.as_of,
        target={
            "weight_precision": new.weight_precision,
            "kv_cache_precision": new.kv_cache_precision,
            "gpu_id": new.gpu_id,
            "num_gpus": new.num_gpus,
            "tensor_parallel": new.tensor_parallel,
        },
        current_daily_cost_usd=w.daily_cost_usd,
        proposed_daily_cost_usd=best.daily_cost_usd,
    )
