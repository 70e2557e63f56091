"""What-ifs: precision, GPU type / count, student LLM, distillation payback."""

import pytest

from pipelines.costmodel.cost import TrafficProfile, predict_cost
from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.whatif import (
    distillation_payback_months,
    what_if_gpu,
    what_if_precision,
    what_if_student,
)

TRAFFIC = TrafficProfile.from_tokens_per_day(1e8, 1000, 200)


@pytest.fixture()
def baseline():
    return predict_cost(
        Deployment("llama-3.1-70b", "h100-sxm", 4, "bf16", tensor_parallel=4), TRAFFIC, 6.88
    )


def test_fp8_halves_the_gpus_a_footprint_bound_70b_needs(baseline):
    what_if = what_if_precision(baseline, TRAFFIC, "fp8")
    assert what_if.alternative.billed_gpus == 2
    assert what_if.monthly_saving_usd == pytest.approx(2 * 6.88 * 24 * 365 / 12)


def test_gpu_what_if_right_sizes_on_the_new_gpu(baseline):
    what_if = what_if_gpu(baseline, TRAFFIC, "h200", 7.91)
    assert what_if.alternative.deployment.gpu_id == "h200"
    assert what_if.alternative.billed_gpus == 2  # 141 GB of BF16 weights need two 141 GB parts
    assert what_if.gpu_delta == -2


def test_gpu_what_if_with_a_fixed_count_keeps_it(baseline):
    assert what_if_gpu(baseline, TRAFFIC, "a100-80gb", 4.1, num_gpus=8).alternative.billed_gpus == 8


def test_student_llm_is_cheaper_and_pays_back_a_distillation(baseline):
    what_if = what_if_student(baseline, TRAFFIC, "llama-3.1-8b")
    assert what_if.alternative.billed_gpus == 1
    saving = what_if.monthly_saving_usd
    assert distillation_payback_months(50_000, what_if) == pytest.approx(50_000 / saving)


def test_no_payback_when_the_alternative_costs_more():
    baseline = predict_cost(Deployment("llama-3.1-70b", "h100-sxm", 2, "fp8"), TRAFFIC, 6.88)
    bigger = what_if_gpu(baseline, TRAFFIC, "h100-sxm", 6.88, num_gpus=4)
    assert bigger.monthly_saving_usd < 0
    assert distillation_payback_months(1_000, bigger) is None
