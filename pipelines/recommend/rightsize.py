"""right_size: terminate idle instances; fewer GPUs; a cheaper GPU type that fits.

Evidence (COSTMODEL.md §4): utilisation of the busiest hour, not averages; never when the
GPUs are saturated (the true load is then unknown), never below ``min_replicas_kept``.
"""

from __future__ import annotations

from dataclasses import replace

from pipelines.costmodel.catalog import gpu_ids
from pipelines.costmodel.parallelism import valid_tensor_parallel_degrees
from pipelines.recommend.confidence import confidence
from pipelines.recommend.inputs import DeploymentConfig, IdleInstance
from pipelines.recommend.options import Option, check, describe, replicas_to_keep
from pipelines.recommend.outputs import Recommendation
from pipelines.recommend.policy import Policy, gpu_hour_price
from pipelines.recommend.workload import DAYS_PER_MONTH, Workload

MAX_REPLICAS_TRIED = 64


def terminate_idle(instance: IdleInstance, as_of, policy: Policy) -> Recommendation:
    """An instance no deployment used in the window: its whole cost is the saving."""
    days = min(1.0, (instance.days_observed / policy.days_for_full_confidence) ** 0.5)
    return Recommendation(
        deployment_id=None,
        kind="right_size",
        summary=(
            f"Terminate {instance.instance_type} {instance.instance_id} "
            f"({instance.gpu_count}x {instance.gpu_id}): billed, but no deployment used its "
            f"GPUs in {instance.days_observed} days."
        ),
        monthly_savings_usd=instance.usd_per_day * DAYS_PER_MONTH,
        confidence=round(days, 3),
        assumptions=(
            "A month is 30 days at the observed daily price.",
            "Nothing outside the deployment registry (batch jobs, experiments) needs it; "
            "check with its owner before terminating.",
        ),
        as_of_date=as_of,
        target={"action": "terminate", "instance_id": instance.instance_id, "num_gpus": 0},
        current_daily_cost_usd=instance.usd_per_day,
        proposed_daily_cost_usd=0.0,
        instance_id=instance.instance_id,
    )


def _candidates(current: DeploymentConfig, w: Workload, policy: Policy):
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
                option = check(new, current, w, policy)
                if option is not None:
                    yield option
                    break


def best_right_size(current: DeploymentConfig, w: Workload, policy: Policy) -> Option | None:
    """The cheapest config that fits and carries the observed peak, if it clears the bar."""
    if w.peak_busy_fraction >= policy.censored_busy:
        return None
    options = list(_candidates(current, w, policy))
    if not options:
        return None
    best = min(options, key=lambda o: (o.daily_cost_usd, o.config.num_gpus))
    return best if policy.clears(w.daily_cost_usd, best.daily_cost_usd) else None


def right_size(
    current: DeploymentConfig, w: Workload, policy: Policy, calibrated: bool
) -> Recommendation | None:
    """The ``right_size`` recommendation for one deployment, or None."""
    best = best_right_size(current, w, policy)
    if best is None:
        return None
    new = best.config
    same_gpu = new.gpu_id == current.gpu_id
    assumptions = [
        f"A month is {DAYS_PER_MONTH} days at the observed volume "
        f"({w.tokens_per_day / 1e6:,.1f}M tokens/day).",
        f"The busiest hour's GPU busy fraction ({w.peak_busy_fraction:.0%}) is predicted to "
        f"become {best.peak_busy:.0%} (limit "
        f"{policy.max_peak_busy_observed if same_gpu and new.tensor_parallel == current.tensor_parallel else policy.max_peak_busy_predicted:.0%}).",  # noqa: E501
        f"Predicted p95 TPOT {best.p95_tpot_ms:.0f} ms and TTFT {best.p95_ttft_ms:.0f} ms "
        f"stay within the SLO ({policy.slo_p95_tpot_ms:.0f} / {policy.slo_p95_ttft_ms:.0f} ms).",
        f"Each replica keeps KV room for a {policy.min_context_tokens:,}-token sequence.",
    ]
    if not same_gpu:
        assumptions.append(
            f"{new.gpu_id} priced at ${new.usd_per_gpu_hour:.4f}/GPU-hour from the "
            f"{current.provider} price list; speed on it is the cost model's, uncalibrated."
        )
    return Recommendation(
        deployment_id=current.deployment_id,
        kind="right_size",
        summary=f"Move {current.deployment_id} from {describe(current)} to {describe(new)}.",
        monthly_savings_usd=(w.daily_cost_usd - best.daily_cost_usd) * DAYS_PER_MONTH,
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
