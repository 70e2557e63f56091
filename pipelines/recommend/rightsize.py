"""right_size: terminate idle instances; fewer GPUs; a cheaper GPU type that fits.

Evidence (COSTMODEL.md §4): utilisation of the busiest hour, not averages; never when the
GPUs are saturated (the true load is then unknown), never below ``min_replicas_kept``; never
fewer GPUs or replicas when vLLM queued or preempted at the peak (``saturation.py``).
"""

from __future__ import annotations

from dataclasses import replace

from pipelines.costmodel.catalog import gpu_ids
from pipelines.costmodel.parallelism import valid_tensor_parallel_degrees
from pipelines.recommend import claims
from pipelines.recommend.confidence import confidence
from pipelines.recommend.inputs import DeploymentConfig, IdleInstance
from pipelines.recommend.money import daily_usd, monthly_saving_usd
from pipelines.recommend.options import Option, check, describe, replicas_to_keep
from pipelines.recommend.outputs import Recommendation
from pipelines.recommend.policy import Policy, gpu_hour_price
from pipelines.recommend.saturation import shrinks
from pipelines.recommend.workload import Workload

MAX_REPLICAS_TRIED = 64


def terminate_idle(instance: IdleInstance, as_of, policy: Policy) -> Recommendation:
    """An instance no deployment used in the window: its whole cost is the saving."""
    days = min(1.0, (instance.days_observed / policy.days_for_full_confidence) ** 0.5)
    current = daily_usd(instance.usd_per_day)
    return Recommendation(
        deployment_id=None,
        kind="right_size",
        summary=(
            f"Terminate {instance.instance_type} {instance.instance_id} "
            f"({instance.gpu_count}x {instance.gpu_id}): billed, but no deployment used its "
            f"GPUs in {instance.days_observed} days."
        ),
        monthly_savings_usd=monthly_saving_usd(current, daily_usd(0)),
        confidence=round(days, 3),
        assumptions=(
            claims.month(f"the observed ${current:,.2f}/day"),
            "Nothing outside the deployment registry (batch jobs, experiments) needs it; "
            "check with its owner before terminating.",
        ),
        as_of_date=as_of,
        target={"action": "terminate", "instance_id": instance.instance_id, "num_gpus": 0},
        current_daily_cost_usd=current,
        proposed_daily_cost_usd=daily_usd(0),
        instance_id=instance.instance_id,
    )


def _candidates(current: DeploymentConfig, w: Workload, policy: Policy, keep_size: bool):
    arch = current.deployment().arch
    for gpu in gpu_ids():
        if gpu == current.gpu_id:
            price = current.usd_per_gpu_hour
        else:
            found = gpu_hour_price(gpu, current.provider, policy)
            if found is None:
                continue
            price = found[0]
        for tp in valid_tensor_parallel_degrees(arch):
            for replicas in range(replicas_to_keep(current, policy), MAX_REPLICAS_TRIED):
                new = replace(
                    current,
                    gpu_id=gpu,
                    num_gpus=tp * replicas,
                    tensor_parallel=tp,
                    usd_per_gpu_hour=price,
                )
                if new.num_gpus * price >= current.num_gpus * current.usd_per_gpu_hour:
                    break
                if keep_size and shrinks(new, current):
                    continue
                option = check(new, current, w, policy)
                if option is not None:
                    yield option
                    break


def best_right_size(
    current: DeploymentConfig, w: Workload, policy: Policy, keep_size: bool = False
) -> Option | None:
    """The cheapest config that fits and carries the observed peak, if it clears the bar;
    ``keep_size``: none with fewer GPUs or replicas (the saturation guard)."""
    if w.peak_busy_fraction >= policy.censored_busy:
        return None
    options = list(_candidates(current, w, policy, keep_size))
    if not options:
        return None
    best = min(options, key=lambda o: (o.daily_cost_usd, o.config.num_gpus))
    return best if policy.clears(w.daily_cost_usd, best.daily_cost_usd) else None


def right_size(
    current: DeploymentConfig,
    w: Workload,
    policy: Policy,
    calibrated: bool,
    keep_size_reason: str | None = None,
) -> Recommendation | None:
    """The ``right_size`` recommendation for one deployment, or None.

    Its assumptions name every policy value that bounded the choice (``claims``).
    ``keep_size_reason``: the deployment is saturated at its peak (``saturation.py``): only
    configs with as many GPUs and replicas are tried, and the reason is stated.
    """
    best = best_right_size(current, w, policy, keep_size=keep_size_reason is not None)
    if best is None:
        return None
    new = best.config
    assumptions = [
        claims.month(f"the observed volume ({w.tokens_per_day / 1e6:,.1f}M tokens/day)"),
        claims.savings_floor(policy, w.daily_cost_usd, best.daily_cost_usd),
        claims.not_saturated(w, policy),
        claims.peak(w, best),
        *claims.latencies(w, best, policy),
        claims.kv_room(policy),
        claims.replicas_kept(replicas_to_keep(current, policy), new.replicas, policy),
    ]
    if keep_size_reason is not None:
        assumptions.append(
            f"{keep_size_reason} So it keeps at least its {current.num_gpus} GPUs and "
            f"{current.replicas} replicas."
        )
    if new.gpu_id != current.gpu_id:
        source = (
            "policy gpu_price_overrides"
            if new.gpu_id in policy.gpu_price_overrides
            else (f"the {current.provider} price list")
        )
        assumptions.append(
            f"{new.gpu_id} priced at ${new.usd_per_gpu_hour:.4f}/GPU-hour from {source}; "
            "speed on it is the cost model's, uncalibrated."
        )
    return Recommendation(
        deployment_id=current.deployment_id,
        kind="right_size",
        summary=f"Move {current.deployment_id} from {describe(current)} to {describe(new)}.",
        monthly_savings_usd=monthly_saving_usd(w.daily_cost_usd, best.daily_cost_usd),
        confidence=confidence(w, policy, best.p95_tpot_ms, best.p95_ttft_ms, calibrated),
        assumptions=tuple(assumptions),
        as_of_date=w.as_of,
        target={
            "gpu_id": new.gpu_id,
            "num_gpus": new.num_gpus,
            "tensor_parallel": new.tensor_parallel,
        },
        current_daily_cost_usd=w.daily_cost_usd,
        proposed_daily_cost_usd=best.daily_cost_usd,
    )
