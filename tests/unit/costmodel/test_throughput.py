"""Roofline steps against COSTMODEL.md hand calculations (row 2 ceiling, row 12 MBU, §2.5, §2.6)."""

import pytest

from pipelines.costmodel.calibration import implied_mbu, implied_mfu
from pipelines.costmodel.catalog import llm_architecture
from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.engines import Efficiency
from pipelines.costmodel.gpus import gpu_spec
from pipelines.costmodel.memory import kv_cache_bytes_per_token
from pipelines.costmodel.parallelism import allreduce_time_s, valid_tensor_parallel_degrees
from pipelines.costmodel.throughput import DoesNotFitError, decode_step_time, estimate_throughput

IDEAL = Efficiency(mbu=1.0, mfu=1.0)


@pytest.mark.parametrize(
    ("kv_precision", "sequences", "ceiling_tokens_per_s"),
    [("bf16", 450, 19_800), ("fp8", 900, 39_700)],
)
def test_row_2_kv_capacity_ceiling_at_full_bandwidth(kv_precision, sequences, ceiling_tokens_per_s):
    # COSTMODEL.md §6: t_step = (68 + 8) GB / 3.35 TB/s = 22.7 ms
    # -> 19.8 K tok/s (BF16 KV), 39.7 K tok/s (FP8 KV)
    deployment = Deployment(
        "llama-3.1-8b", "h100-sxm", 1, "fp8", kv_precision, "trtllm-bench", 1, IDEAL
    )
    kv_per_token = kv_cache_bytes_per_token(deployment.arch, kv_precision)
    step = decode_step_time(deployment, sequences, 128 + 2048 / 2, kv_per_token)
    assert step.bound == "memory"
    assert step.memory_s == pytest.approx(0.0227, rel=0.02)
    assert sequences / step.total_s == pytest.approx(ceiling_tokens_per_s, rel=0.02)


def test_row_12_implied_mbu_is_about_58_percent():
    # COSTMODEL.md §6: 70.55 GB / (2 x 3.35 TB/s) + 1.72 GB of BF16 KV -> 10.8 ms vs ITL 18.58 ms
    deployment = Deployment("llama-3.3-70b", "h100-sxm", 2, "fp8", "bf16", "nim", 2)
    assert implied_mbu(deployment, 1, 5250, 0.01858) == pytest.approx(0.58, abs=0.01)


def test_row_15_implied_mfu_from_prefill_time():
    # 2·12.85e9·512 + attention = 13.4 TFLOP in 63.17 ms on a 312 TFLOP/s A100: ~0.68
    deployment = Deployment("test-13b", "a100-40gb", 1, "fp16", "fp16", "fastertransformer", 1)
    assert implied_mfu(deployment, 512, 0.06317) == pytest.approx(0.68, abs=0.02)


def test_moe_decode_at_batch_1_reads_a_quarter_of_the_experts():
    arch = llm_architecture("mixtral-8x7b")
    deployment = Deployment(
        "mixtral-8x7b", "h100-sxm", 2, "bf16", tensor_parallel=2, efficiency=IDEAL
    )
    kv = kv_cache_bytes_per_token(arch, "bf16", 2)
    batch_1 = decode_step_time(deployment, 1, 0, kv).memory_s
    batch_16 = decode_step_time(deployment, 16, 0, kv).memory_s
    # 1.6 bn shared + 0.25 x 45.1 bn vs + 0.99 x 45.1 bn (minus the gathered embedding)
    assert batch_1 / batch_16 == pytest.approx(
        (1.60 + 0.25 * 45.1) / (1.60 + 0.99 * 45.1), rel=0.02
    )


def test_decode_turns_compute_bound_only_past_the_ridge_point():
    deployment = Deployment(
        "llama-3.1-8b", "h100-sxm", 1, "bf16", tensor_parallel=1, efficiency=IDEAL
    )
    kv = kv_cache_bytes_per_token(deployment.arch, "bf16")
    assert decode_step_time(deployment, 64, 0, kv).bound == "memory"
    assert decode_step_time(deployment, 512, 0, kv).bound == "compute"  # ridge ~295 FLOP/B, 2·B/b_w
    assert decode_step_time(deployment, 512, 4000, kv).bound == "memory"  # KV reads never batch


def test_allreduce_is_free_without_tensor_parallelism_and_slower_over_pcie():
    arch = llm_architecture("llama-3.1-70b")
    assert allreduce_time_s(arch, gpu_spec("h100-sxm"), 1, 256, 8e-6) == 0.0
    nvlink = allreduce_time_s(arch, gpu_spec("h100-sxm"), 4, 256, 0.0)
    pcie = allreduce_time_s(arch, gpu_spec("h100-pcie"), 4, 256, 0.0)  # bridge covers pairs only
    # 2 x 80 all-reduces of 1.5 x 256 x 8192 x 2 B at 450 GB/s one way
    assert nvlink == pytest.approx(160 * 1.5 * 256 * 8192 * 2 / 450e9)
    assert pcie / nvlink == pytest.approx(450 / 64)


def test_valid_tensor_parallel_degrees_divide_the_attention_heads():
    assert valid_tensor_parallel_degrees(llm_architecture("llama-3.1-8b")) == [1, 2, 4, 8]
    assert valid_tensor_parallel_degrees(llm_architecture("qwen2.5-7b")) == [1, 2, 4]


def test_more_concurrency_raises_throughput_until_the_kv_pool_is_full():
    deployment = Deployment("llama-3.1-8b", "h100-sxm", 1, "fp8", "fp8", "trtllm", 1)
    rates = [estimate_throughput(deployment, 1000, 500, c).output_tokens_per_s for c in (1, 8, 64)]
    assert rates == sorted(rates)
    saturated = estimate_throughput(deployment, 1000, 500)
    beyond = estimate_throughput(deployment, 1000, 500, 100_000)
    assert beyond.output_tokens_per_s == pytest.approx(saturated.output_tokens_per_s)
    assert beyond.kv_limited


def test_batch_1_decode_runs_near_the_weight_read_time():
    deployment = Deployment(
        "llama-3.1-8b", "h100-sxm", 1, "bf16", tensor_parallel=1, efficiency=IDEAL
    )
    estimate = estimate_throughput(deployment, 100, 100, 1)
    weight_read_s = (16.06e9 - 1.05e9) / 3.35e12  # all weights but the gathered embedding
    assert estimate.time_per_output_token_s == pytest.approx(weight_read_s, rel=0.02)


def test_automatic_tensor_parallel_picks_the_fastest_split():
    deployment = Deployment("llama-3.1-70b", "h100-sxm", 4, "fp8", "bf16", "vllm")
    chosen = estimate_throughput(deployment, 1000, 200)
    for tp in (2, 4):
        pinned = estimate_throughput(deployment.with_tensor_parallel(tp), 1000, 200)
        assert chosen.output_tokens_per_s >= pinned.output_tokens_per_s


def test_an_llm_that_fits_nowhere_raises_does_not_fit():
    with pytest.raises(DoesNotFitError, match="fits no tensor-parallel split"):
        estimate_throughput(Deployment("llama-3.1-405b", "t4", 8, "bf16"), 1000, 200)
