"""What-ifs the recommendations call: the same traffic at another precision, on another GPU
type or count, or served by a smaller student LLM; and the payback of distilling one.

Alternatives are right-sized for the traffic (fewest GPUs that fit and serve it), so the
comparison shows what a change would really bill, footprint floor included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipelines.costmodel.cost import CostPrediction, TrafficProfile, predict_cost, right_size
from pipelines.costmodel.deployment import Deployment


@dataclass(frozen=True)
class WhatIf:
    """A baseline prediction, an alternative, and what switching would save (USD)."""

    label: str
    baseline: CostPrediction
    alternative: CostPrediction

    @property
    def monthly_saving_usd(self) -> float:
        return self.baseline.monthly_cost_usd - self.alternative.monthly_cost_usd

    @property
    def gpu_delta(self) -> int:
        return self.alternative.billed_gpus - self.baseline.billed_gpus


def _what_if(
    label: str,
    baseline: CostPrediction,
    candidate: Deployment,
    traffic: TrafficProfile,
    usd_per_gpu_hour: float,
    num_gpus: int | None,
) -> WhatIf:
    if num_gpus is None:
        candidate = right_size(candidate, traffic, baseline.utilisation)
    else:
        candidate = replace(candidate, num_gpus=num_gpus, tensor_parallel=None)
    alternative = predict_cost(candidate, traffic, usd_per_gpu_hour, baseline.utilisation)
    return WhatIf(label, baseline, alternative)


def what_if_precision(
    baseline: CostPrediction,
    traffic: TrafficProfile,
    weight_precision: str,
    kv_cache_precision: str | None = None,
) -> WhatIf:
    """The same LLM and GPU type at another weight (and optionally KV) precision.

    Only the throughput *ceiling* is predicted; the quality delta and the real kernel speed-up
    need an eval set and a benchmark (COSTMODEL.md §2.7, §4).

    Examples
    --------
    >>> d = Deployment("llama-3.1-70b", "h100-sxm", 4, "bf16", engine="vllm")
    >>> t = TrafficProfile.from_tokens_per_day(1e8, 1000, 200)
    >>> what_if_precision(predict_cost(d, t, 6.88), t, "fp8").gpu_delta
    -2
    """
    kv = kv_cache_precision or baseline.deployment.kv_cache_precision
    candidate = replace(
        baseline.deployment,
        weight_precision=weight_precision,
        kv_cache_precision=kv,
        tensor_parallel=None,
    )
    return _what_if(
        f"precision {weight_precision}/{kv}",
        baseline,
        candidate,
        traffic,
        baseline.usd_per_gpu_hour,
        None,
    )


def what_if_gpu(
    baseline: CostPrediction,
    traffic: TrafficProfile,
    gpu_id: str,
    usd_per_gpu_hour: float,
    num_gpus: int | None = None,
) -> WhatIf:
    """The same LLM on another GPU type (or count): right-sized unless ``num_gpus`` is given.

    The (engine, GPU) efficiency prior follows the new GPU unless the baseline pinned one.
    """
    candidate = replace(baseline.deployment, gpu_id=gpu_id, tensor_parallel=None)
    label = f"{num_gpus or 'right-sized'} x {gpu_id}"
    return _what_if(label, baseline, candidate, traffic, usd_per_gpu_hour, num_gpus)


def what_if_student(
    baseline: CostPrediction, traffic: TrafficProfile, student_llm_id: str
) -> WhatIf:
    """A smaller student LLM on the baseline's GPU type, right-sized.

    The saving is "conditional on equal quality" (COSTMODEL.md §2.8): quality is an eval
    input, never a prediction.
    """
    candidate = replace(baseline.deployment, llm_id=student_llm_id, tensor_parallel=None)
    return _what_if(
        f"student {student_llm_id}", baseline, candidate, traffic, baseline.usd_per_gpu_hour, None
    )


def distillation_payback_months(one_off_cost_usd: float, what_if: WhatIf) -> float | None:
    """Months to recover a distillation's one-off cost, conditional on equal quality.

    payback = one_off_cost / (monthly_cost_teacher - monthly_cost_student); None when the
    student saves nothing.
    """
    saving = what_if.monthly_saving_usd
    return one_off_cost_usd / saving if saving > 0 else None
