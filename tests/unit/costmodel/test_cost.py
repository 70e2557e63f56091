"""$/1M tokens, the footprint-bound regime and right-sizing (COSTMODEL.md §3)."""

import pytest

from pipelines.costmodel.cost import TrafficProfile, predict_cost, right_size
from pipelines.costmodel.deployment import Deployment

H100_USD_PER_GPU_HOUR = 6.88


def test_100m_tokens_per_day_is_1157_tokens_per_s():
    traffic = TrafficProfile.from_tokens_per_day(1e8, 1000, 200)
    assert traffic.tokens_per_s == pytest.approx(1157.4, abs=0.1)


def test_small_8b_deployment_is_footprint_bound_and_billed_for_the_whole_gpu():
    # §3: one H100 does 13.9-28.3 K tok/s on Llama-3.1-8B FP8; 100 M tokens/day uses < 10 % of it
    deployment = Deployment("llama-3.1-8b", "h100-sxm", 1, "fp8", "fp8", "trtllm")
    prediction = predict_cost(
        deployment, TrafficProfile.from_tokens_per_day(1e8, 1000, 200), H100_USD_PER_GPU_HOUR
    )
    assert prediction.regime == "footprint-bound"
    assert prediction.throughput.total_tokens_per_s > 10 * 1157
    assert prediction.daily_cost_usd == pytest.approx(24 * H100_USD_PER_GPU_HOUR)
    assert prediction.usd_per_1m_blended_tokens == pytest.approx(24 * H100_USD_PER_GPU_HOUR / 100)


def test_large_demand_is_throughput_bound():
    deployment = Deployment("llama-3.1-8b", "h100-sxm", 8, "fp8", "fp8", "trtllm")
    prediction = predict_cost(
        deployment, TrafficProfile.from_tokens_per_day(2e10, 1000, 200), H100_USD_PER_GPU_HOUR
    )
    assert prediction.regime == "throughput-bound"
    assert prediction.gpus_for_throughput > prediction.min_gpus


def test_at_capacity_cost_follows_price_over_tokens_per_s_times_utilisation():
    deployment = Deployment("llama-3.1-8b", "h100-sxm", 1, "fp8", "fp8", "trtllm")
    prediction = predict_cost(
        deployment, TrafficProfile(1000, 200), H100_USD_PER_GPU_HOUR, utilisation=0.5
    )
    expected = 1e6 * H100_USD_PER_GPU_HOUR / (prediction.throughput.total_tokens_per_s * 3600 * 0.5)
    assert prediction.regime == "at-capacity"
    assert prediction.usd_per_1m_blended_tokens == pytest.approx(expected)


def test_input_and_output_dollars_add_up_to_the_bill():
    deployment = Deployment("llama-3.1-70b", "h100-sxm", 4, "fp8")
    traffic = TrafficProfile.from_tokens_per_day(5e8, 1000, 200)
    p = predict_cost(deployment, traffic, H100_USD_PER_GPU_HOUR)
    served_in = p.served_requests_per_s * 1000 * 86_400
    served_out = p.served_requests_per_s * 200 * 86_400
    spent = (p.usd_per_1m_input_tokens * served_in + p.usd_per_1m_output_tokens * served_out) / 1e6
    assert spent == pytest.approx(p.daily_cost_usd)


def test_output_tokens_cost_far_more_than_input_tokens_at_batch_1():
    # §3: marginal output/input ratio ~100x at batch 1, falling to a few x at high batch
    deployment = Deployment("llama-3.1-70b", "h100-sxm", 2, "fp8", tensor_parallel=2)
    batch_1 = predict_cost(
        deployment, TrafficProfile(1000, 200, concurrency=1), H100_USD_PER_GPU_HOUR
    )
    saturated = predict_cost(deployment, TrafficProfile(1000, 200), H100_USD_PER_GPU_HOUR)
    ratio_1 = batch_1.usd_per_1m_output_tokens / batch_1.usd_per_1m_input_tokens
    ratio_max = saturated.usd_per_1m_output_tokens / saturated.usd_per_1m_input_tokens
    assert ratio_1 > 30
    assert 1 < ratio_max < 10


def test_under_provisioned_deployment_serves_only_its_capacity():
    deployment = Deployment("llama-3.1-8b", "l4", 1, "fp8")
    p = predict_cost(deployment, TrafficProfile.from_tokens_per_day(5e10, 1000, 200), 1.0)
    assert not p.meets_demand
    assert p.served_requests_per_s == pytest.approx(p.throughput.requests_per_s)


def test_right_size_uses_the_memory_floor_at_low_volume_and_more_replicas_at_high_volume():
    template = Deployment("llama-3.1-70b", "h100-sxm", 8, "fp8")
    low = right_size(template, TrafficProfile.from_tokens_per_day(1e8, 1000, 200))
    high = right_size(template, TrafficProfile.from_tokens_per_day(5e9, 1000, 200))
    assert low.num_gpus == 2
    assert high.num_gpus > low.num_gpus
    assert high.num_gpus % high.tensor_parallel == 0


def test_utilisation_outside_0_1_is_rejected():
    with pytest.raises(ValueError, match="utilisation"):
        predict_cost(
            Deployment("llama-3.1-8b", "h100-sxm"), TrafficProfile(100, 100), 1.0, utilisation=1.5
        )
