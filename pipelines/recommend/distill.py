"""distill: a smaller student LLM of the same family, and its payback (COSTMODEL.md §2.8).

Students share the teacher's family and vocabulary (logit distillation needs the same
tokenizer) and run on the teacher's GPU type and precision, right-sized for the observed
traffic. The saving is "conditional on equal quality": quality is an eval, never predicted.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from pipelines.costmodel.architecture import parameter_counts
from pipelines.costmodel.catalog import LLMArchitecture, llm_architecture, llm_catalog
from pipelines.costmodel.parallelism import valid_tensor_parallel_degrees
from pipelines.recommend import claims
from pipelines.recommend.confidence import confidence
from pipelines.recommend.inputs import DeploymentConfig
from pipelines.recommend.money import CENT, monthly_saving_usd, monthly_usd, usd
from pipelines.recommend.options import Option, check, describe, replicas_to_keep
from pipelines.recommend.outputs import Recommendation
from pipelines.recommend.policy import Policy
from pipelines.recommend.workload import Workload

MAX_REPLICAS_TRIED = 64


def students(teacher_id: str) -> list[LLMArchitecture]:
    """Catalog LLMs of the teacher's family and vocabulary with at most half its parameters,
    largest first (the least quality risk)."""
    teacher = llm_architecture(teacher_id)
    size = parameter_counts(teacher).total_params
    found = [
        arch
        for arch in llm_catalog().values()
        if arch.family == teacher.family
        and arch.vocab_size == teacher.vocab_size
        and parameter_counts(arch).total_params <= size / 2
    ]
    return sorted(found, key=lambda a: -parameter_counts(a).total_params)


def one_off_cost_usd(current: DeploymentConfig, student_id: str, policy: Policy) -> Decimal:
    """Compute cost of distilling, USD to the cent, unless ``policy.distill_one_off_usd``.

    Teacher generation ≈ 2·N_teacher_active FLOPs/token, student training ≈
    6·N_student FLOPs/token per epoch, both at BF16 peak × the policy's MFU on the
    teacher's GPU type at its current price. Excludes people, evals and data curation.
    """
    if policy.distill_one_off_usd is not None:
        return policy.distill_one_off_usd
    dep = current.deployment()
    peak = dep.gpu.peak_flops_per_s("fp16")
    n_teacher = dep.params.active_params
    n_student = parameter_counts(llm_architecture(student_id)).total_params
    tokens = policy.distill_token_budget
    gpu_s = tokens * 2 * n_teacher / (peak * policy.distill_generation_mfu)
    gpu_s += tokens * policy.distill_epochs * 6 * n_student / (peak * policy.distill_training_mfu)
    # GPU-hours are physics (float); the dollars are Decimal from there on
    return (usd(gpu_s / 3600) * usd(current.usd_per_gpu_hour)).quantize(CENT)


def _student_option(current: DeploymentConfig, student: str, w: Workload, policy: Policy):
    arch = llm_architecture(student)
    for tp in valid_tensor_parallel_degrees(arch):
        for replicas in range(replicas_to_keep(current, policy), MAX_REPLICAS_TRIED):
            new = replace(current, llm_id=student, tensor_parallel=tp, num_gpus=tp * replicas)
            if new.num_gpus >= current.num_gpus:
                break
            option = check(new, current, w, policy)
            if option is not None:
                return option
    return None


def best_distill(
    current: DeploymentConfig, w: Workload, policy: Policy, lower_risk_saving_usd_day: Decimal
) -> tuple[Option, Decimal, float] | None:
    """(option, one-off USD, payback months) for the largest student that clears the bar."""
    for arch in students(current.llm_id):
        option = _student_option(current, arch.llm_id, w, policy)
        if option is None:
            continue
        saving_day = w.daily_cost_usd - option.daily_cost_usd
        saving_month = monthly_usd(saving_day)
        extra_month = monthly_usd(saving_day - max(lower_risk_saving_usd_day, Decimal(0)))
        one_off = one_off_cost_usd(current, arch.llm_id, policy)
        payback = float(one_off / saving_month) if saving_month > 0 else float("inf")
        if (
            extra_month >= policy.distill_min_extra_monthly_savings_usd
            and saving_day >= usd(policy.distill_min_savings_fraction) * w.daily_cost_usd
            and payback <= policy.distill_max_payback_months
        ):
            return option, one_off, payback
    return None


def distill(
    current: DeploymentConfig,
    w: Workload,
    policy: Policy,
    calibrated: bool,
    lower_risk_saving_usd_day: Decimal = Decimal(0),
) -> Recommendation | None:
    """The ``distill`` recommendation for one deployment, or None.

    Its assumptions name every policy value that bounded the choice (``claims``).
    """
    found = best_distill(current, w, policy, lower_risk_saving_usd_day)
    if found is None:
        return None
    best, one_off, payback = found
    new = best.config
    source = (
        "configured (distill_one_off_usd)"
        if policy.distill_one_off_usd is not None
        else (
            f"estimated by the cost model for {policy.distill_token_budget / 1e9:g}B tokens "
            f"(distill_token_budget; {policy.distill_epochs:g} epochs, "
            f"generation MFU {policy.distill_generation_mfu:.0%}, "
            f"training MFU {policy.distill_training_mfu:.0%}, on {current.gpu_id}; compute only)"
        )
    )
    saving_day = w.daily_cost_usd - best.daily_cost_usd
    extra = monthly_usd(saving_day - max(lower_risk_saving_usd_day, Decimal(0)))
    return Recommendation(
        deployment_id=current.deployment_id,
        kind="distill",
        summary=(
            f"Distill {current.llm_id} into {new.llm_id} for {current.deployment_id}: "
            f"{describe(current)} to {describe(new)}, paying back in {payback:.1f} months."
        ),
        monthly_savings_usd=monthly_saving_usd(w.daily_cost_usd, best.daily_cost_usd),
        confidence=confidence(w, policy, best.p95_tpot_ms, best.p95_ttft_ms, calibrated),
        assumptions=(
            f"Conditional on equal quality: {new.llm_id} must match {current.llm_id} on this "
            "deployment's eval set; the saving is not a quality prediction.",
            f"One-off cost ${one_off:,.2f}, {source}.",
            claims.month(f"the observed volume ({w.tokens_per_day / 1e6:,.0f}M tokens/day)"),
            f"It saves ${extra:,.2f}/month more than the best lower-risk change (at least "
            f"${policy.distill_min_extra_monthly_savings_usd:,.2f}, "
            f"distill_min_extra_monthly_savings_usd), {saving_day / w.daily_cost_usd:.0%} of "
            f"the current cost (at least {policy.distill_min_savings_fraction:.0%}, "
            f"distill_min_savings_fraction), and pays back in {payback:.1f} months (at most "
            f"{policy.distill_max_payback_months:g}, distill_max_payback_months).",
            "The student's speed is the cost model's. " + claims.peak(w, best),
            *claims.latencies(w, best, policy),
            claims.kv_room(policy),
            claims.replicas_kept(replicas_to_keep(current, policy), new.replicas, policy),
        ),
        as_of_date=w.as_of,
        target={
            "llm_id": new.llm_id,
            "gpu_id": new.gpu_id,
            "num_gpus": new.num_gpus,
            "tensor_parallel": new.tensor_parallel,
            "one_off_usd": one_off,
        },
        current_daily_cost_usd=w.daily_cost_usd,
        proposed_daily_cost_usd=best.daily_cost_usd,
        payback_months=payback,
    )
