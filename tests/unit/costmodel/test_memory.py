"""Weight and KV bytes, the engine's KV pool, fit and concurrency (COSTMODEL.md §2.1-2.3, §6)."""

import pytest

from pipelines.costmodel.catalog import llm_architecture
from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.memory import (
    kv_cache_bytes_per_token,
    min_tensor_parallel,
    plan_memory,
    weight_bytes,
)
from pipelines.costmodel.precision import get_precision

# COSTMODEL.md §2.1: naive 2·L·h·2 vs GQA-aware 2·L·n_kv·d·2 bytes per token (BF16 KV)
KV_TABLE = [
    ("llama-3.1-70b", 2_621_440, 327_680),
    ("llama-3.1-8b", 524_288, 131_072),
    ("mixtral-8x7b", 524_288, 131_072),
    ("qwen2.5-7b", 401_408, 57_344),
    ("llama-2-7b", 524_288, 524_288),
]


@pytest.mark.parametrize(("llm_id", "naive_bytes", "correct_bytes"), KV_TABLE)
def test_kv_bytes_per_token_use_kv_heads_as_in_costmodel_2_1(llm_id, naive_bytes, correct_bytes):
    arch = llm_architecture(llm_id)
    assert 2 * arch.num_layers * arch.hidden_size * 2 == naive_bytes
    assert kv_cache_bytes_per_token(arch, "bf16") == correct_bytes


def test_fp8_kv_cache_halves_bytes_per_token():
    assert kv_cache_bytes_per_token(llm_architecture("llama-3.1-70b"), "fp8") == 163_840


def test_tensor_parallel_splits_kv_heads_then_replicates_them():
    arch = llm_architecture("qwen2.5-7b")  # 4 KV heads
    assert kv_cache_bytes_per_token(arch, "bf16", 2) == 57_344 / 2
    assert kv_cache_bytes_per_token(arch, "bf16", 4) == 57_344 / 4
    assert kv_cache_bytes_per_token(arch, "bf16", 8) == 57_344 / 4  # one head per GPU, replicated


def test_int4_costs_4_25_bits_per_weight_not_4():
    assert get_precision("int4").bytes_per_weight == pytest.approx(4.25 / 8)


def test_bf16_weights_of_llama_3_1_8b_are_16_06_gb():
    assert weight_bytes(
        llm_architecture("llama-3.1-8b"), get_precision("bf16")
    ) / 1e9 == pytest.approx(16.06, abs=0.005)


def test_fp8_keeps_embeddings_and_lm_head_in_16_bit():
    arch = llm_architecture("llama-3.1-70b")
    embedding_params = 2 * arch.vocab_size * arch.hidden_size
    expected = 70.554e9 + embedding_params  # 1 B per body weight, 2 B per embedding weight
    assert weight_bytes(arch, get_precision("fp8")) == pytest.approx(expected, rel=1e-4)


def test_moe_weights_keep_all_experts_resident():
    assert weight_bytes(
        llm_architecture("mixtral-8x7b"), get_precision("bf16")
    ) / 1e9 == pytest.approx(93.4, abs=0.05)


def test_row_2_kv_pool_holds_about_450_bf16_or_900_fp8_sequences_at_mean_context():
    # COSTMODEL.md §6 worked example: pool (80 - 8.03) GB x 0.95 ~ 68 GB, avg ctx 128 + 2048/2
    pool_bytes = (80 - 8.03) * 1e9 * 0.95
    arch = llm_architecture("llama-3.1-8b")
    context = 128 + 2048 / 2
    assert pool_bytes / (kv_cache_bytes_per_token(arch, "bf16") * context) == pytest.approx(
        450, rel=0.03
    )
    assert pool_bytes / (kv_cache_bytes_per_token(arch, "fp8") * context) == pytest.approx(
        900, rel=0.03
    )


def test_trtllm_reserves_the_full_sequence_so_row_2_runs_about_500_sequences():
    deployment = Deployment("llama-3.1-8b", "h100-sxm", 1, "fp8", "fp8", "trtllm-bench", 1)
    plan = plan_memory(deployment, 128, 2048)
    assert plan.reserved_tokens_per_sequence == 2176
    # pool = 0.95 x (80 GiB - 9.08 GB weights - 2 GiB workspace) = 67.5 GB -> 473-530 sequences
    assert 470 <= plan.max_concurrent_sequences <= 530


def test_vllm_pool_is_a_fraction_of_total_memory_minus_weights():
    deployment = Deployment("llama-3.1-8b", "h100-sxm", 1, "bf16", engine="vllm", tensor_parallel=1)
    plan = plan_memory(deployment, 1000, 200)
    expected_gib = 0.9 * 80 - plan.weights_gib - 2.0
    assert plan.kv_pool_per_gpu_gib == pytest.approx(expected_gib)


def test_concurrency_is_capped_by_the_engine_batch_limit():
    deployment = Deployment("qwen2.5-3b", "h200", 1, "fp8", "fp8", "vllm", 1)
    assert plan_memory(deployment, 100, 100).max_concurrent_sequences == 256


@pytest.mark.parametrize(
    ("llm_id", "gpu_id", "precision", "expected_tp"),
    [
        ("llama-3.1-8b", "h100-sxm", "bf16", 1),
        ("llama-3.1-70b", "h100-sxm", "bf16", 2),  # 141 GB of weights
        ("llama-3.1-70b", "a100-40gb", "bf16", 4),
        ("llama-3.1-70b", "l4", "int4", 2),  # 40.6 GB at 4.25 bits: ~0.7 GB of KV left per GPU
        ("llama-3.1-405b", "h100-sxm", "fp8", 8),
        ("llama-3.1-405b", "l4", "bf16", None),  # would need more than one node
    ],
)
def test_min_tensor_parallel_is_the_smallest_valid_degree_that_fits(
    llm_id, gpu_id, precision, expected_tp
):
    deployment = Deployment(llm_id, gpu_id, 1, precision)
    assert min_tensor_parallel(deployment, 1000, 200) == expected_tp


def test_a_replica_that_cannot_hold_one_sequence_does_not_fit():
    deployment = Deployment("llama-3.1-70b", "h100-sxm", 1, "bf16", tensor_parallel=1)
    assert not plan_memory(deployment, 1000, 200).fits


def test_fp4_formats_carry_their_block_scales():
    # NVFP4: 4 bits + one 8-bit E4M3 scale per 16 weights = 4.5 bits;
    # MXFP4: 4 bits + one 8-bit E8M0 scale per 32 weights = 4.25 bits
    assert get_precision("nvfp4").bytes_per_weight == pytest.approx(4.5 / 8)
    assert get_precision("mxfp4").bytes_per_weight == pytest.approx(4.25 / 8)
