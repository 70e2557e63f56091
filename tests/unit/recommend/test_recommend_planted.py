"""Every planted opportunity of the default fleet is found, with the right target and saving.

Savings are compared with what ground_truth.json (and the spec's prices) imply, ±15 %.
A month is 365/12 days on both sides; savings are Decimal, compared here as floats.
"""

from __future__ import annotations

import pytest

from pipelines.costmodel.prices import instance_prices
from pipelines.recommend.engine import recommend_deployment
from pipelines.recommend.policy import Policy

TOLERANCE = 0.15


def _recs(result, deployment_id):
    return [r for r in result.recommendations if r.deployment_id == deployment_id]


def _one(result, deployment_id, kind):
    found = [r for r in _recs(result, deployment_id) if r.kind == kind]
    assert len(found) == 1, [(r.kind, r.summary) for r in _recs(result, deployment_id)]
    return found[0]


def test_a_idle_7b_is_right_sized_to_one_l4(result, truth):
    facts = truth["planted"]["a"]
    rec = _one(result, facts["deployment"], "right_size")
    assert (rec.target["gpu_id"], rec.target["num_gpus"]) == (
        facts["fits"]["type"],
        facts["fits"]["count"],
    )
    # truth: the current 1x H100 instance's daily price vs a 1x L4 instance (g6.xlarge)
    current = float(truth["instances"]["i-0a17c3e5b9d240f61"]["hourly_price_usd"]) * 24
    l4 = instance_prices()["g6.xlarge"].usd_per_hour * 24
    expected = (current - l4) * 365 / 12
    assert float(rec.monthly_savings_usd) == pytest.approx(expected, rel=TOLERANCE)
    assert {r.kind for r in _recs(result, facts["deployment"])} == {"right_size"}


def test_b_bf16_70b_is_quantized_to_fp8_on_two_gpus(result, truth):
    facts = truth["planted"]["b"]
    rec = _one(result, facts["deployment"], "quantize")
    proposed = facts["proposed"]
    assert rec.target["weight_precision"] == proposed["precision"]["weights"]
    assert rec.target["num_gpus"] == proposed["gpu"]["count"]
    assert rec.target["tensor_parallel"] == proposed["tensor_parallel"]
    per_gpu_day = float(truth["instances"]["i-0b28d4f6ca0e351a2"]["hourly_price_usd"]) / 8 * 24
    saved = facts["current"]["gpu"]["count"] - proposed["gpu"]["count"]
    expected = saved * per_gpu_day * 365 / 12
    assert float(rec.monthly_savings_usd) == pytest.approx(expected, rel=TOLERANCE)
    assert any("assumption" in a for a in rec.assumptions)


def test_c_high_volume_70b_is_distilled_into_llama_8b(result, truth):
    facts = truth["planted"]["c"]
    rec = _one(result, facts["deployment"], "distill")
    assert rec.target["llm_id"] == facts["student_llm"]
    assert rec.target["num_gpus"] == facts["student_gpu"]["count"]
    assert float(rec.monthly_savings_usd) == pytest.approx(
        float(facts["saving_usd_per_month"]), rel=TOLERANCE
    )
    assert rec.payback_months is not None and rec.payback_months <= facts["max_payback_months"]
    assert any("Conditional on equal quality" in a for a in rec.assumptions)


def test_c_payback_with_the_specs_one_off_cost(fleet, result, truth):
    facts = truth["planted"]["c"]
    policy = Policy(distill_one_off_usd=float(facts["distillation_cost_usd"]))
    recs = recommend_deployment(fleet, facts["deployment"], result.calibration, policy)
    (rec,) = [r for r in recs if r.kind == "distill"]
    assert rec.payback_months == pytest.approx(facts["payback_months"], rel=TOLERANCE)


def test_d_unused_instance_is_terminated(result, truth):
    facts = truth["planted"]["d"]
    (rec,) = [r for r in result.recommendations if r.instance_id == facts["instance"]]
    assert rec.kind == "right_size" and rec.target["num_gpus"] == 0
    per_day = float(facts["cost_usd"]) / (facts["billed_hours"] / 24)
    assert float(rec.monthly_savings_usd) == pytest.approx(per_day * 365 / 12, rel=TOLERANCE)


def test_f_healthy_deployment_gets_nothing(result, truth):
    assert _recs(result, truth["planted"]["f"]["deployment"]) == []


def test_every_recommendation_is_well_formed(result):
    for rec in result.recommendations:
        assert rec.monthly_savings_usd > 0
        assert 0 < rec.confidence <= 1
        assert rec.assumptions and rec.summary.endswith(".")
        assert rec.as_of_date is not None
