"""Parameter counts, FLOPs and MoE expert-touch fractions against COSTMODEL.md hand calculations."""

import pytest

from pipelines.costmodel.architecture import expert_touch_fraction, forward_flops, parameter_counts
from pipelines.costmodel.catalog import llm_architecture, llm_ids

# COSTMODEL.md §1 / ../shared/data/models/model_architectures.csv params_computed_billion.
# llama-3.3-70b shares llama-3.1-70b's architecture; llama-3.1-405b is not in that file: its
# value is the 405,853,388,800 parameters Meta's Hugging Face model card reports.
EXPECTED_TOTAL_BN = {
    "llama-3.1-8b": 8.030,
    "llama-3.1-70b": 70.554,
    "llama-3.3-70b": 70.554,
    "llama-3.1-405b": 405.853,
    "llama-2-70b": 68.977,
    "llama-2-7b": 6.738,
    "gpt-j-6b": 6.051,
    "mistral-7b-v0.2": 7.242,
    "mixtral-8x7b": 46.703,
    "qwen2.5-3b": 3.086,
    "qwen2.5-7b": 7.616,
    "qwen2.5-14b": 14.770,
    "qwen2.5-32b": 32.764,
    "qwen3-8b": 8.191,
    "qwen3-32b": 32.762,
}


def test_every_catalog_llm_has_an_expected_parameter_count():
    assert sorted(EXPECTED_TOTAL_BN) == llm_ids()


@pytest.mark.parametrize("llm_id", sorted(EXPECTED_TOTAL_BN))
def test_total_parameters_match_costmodel_to_a_millionth_of_a_billion(llm_id):
    total_bn = parameter_counts(llm_architecture(llm_id)).total_params / 1e9
    assert total_bn == pytest.approx(EXPECTED_TOTAL_BN[llm_id], abs=0.0005)


def test_mixtral_active_parameters_are_12_880_bn():
    assert parameter_counts(llm_architecture("mixtral-8x7b")).active_params / 1e9 == pytest.approx(
        12.880, abs=0.0005
    )


def test_dense_llm_active_equals_total_and_has_no_experts():
    counts = parameter_counts(llm_architecture("llama-3.1-8b"))
    assert counts.active_params == counts.total_params
    assert counts.expert_params == 0


def test_mixtral_splits_into_1_6_bn_shared_and_45_1_bn_expert_parameters():
    counts = parameter_counts(llm_architecture("mixtral-8x7b"))
    assert counts.non_expert_params / 1e9 == pytest.approx(1.6, abs=0.05)
    assert counts.expert_params / 1e9 == pytest.approx(45.1, abs=0.05)


def test_tied_embeddings_have_no_separate_lm_head():
    counts = parameter_counts(llm_architecture("qwen2.5-3b"))
    assert counts.lm_head_params == 0
    assert counts.matmul_active_params == counts.active_params


@pytest.mark.parametrize(("batch", "expected"), [(1, 0.25), (4, 0.68), (8, 0.90), (16, 0.99)])
def test_mixtral_expert_touch_fraction_matches_costmodel_2_5(batch, expected):
    assert expert_touch_fraction(llm_architecture("mixtral-8x7b"), batch) == pytest.approx(
        expected, abs=0.005
    )


def test_mixtral_reads_42_2_bn_parameters_per_decode_step_at_batch_8():
    arch = llm_architecture("mixtral-8x7b")
    counts = parameter_counts(arch)
    read_bn = (
        counts.non_expert_params + expert_touch_fraction(arch, 8) * counts.expert_params
    ) / 1e9
    assert read_bn == pytest.approx(42.2, abs=0.05)


def test_dense_llm_touches_all_weights_at_batch_1():
    assert expert_touch_fraction(llm_architecture("llama-3.1-8b"), 1) == 1.0


def test_llama_2_70b_decode_flops_are_about_140_gflop_per_token_as_cursor_reports():
    # Cursor: 140e9 FLOP/token; we exclude the 0.26 bn input-embedding gather -> 137.4e9
    flops = forward_flops(llm_architecture("llama-2-70b"), new_tokens=1, context_tokens=0)
    assert flops == pytest.approx(140e9, rel=0.025)


def test_prefill_flops_add_the_quadratic_attention_term():
    arch = llm_architecture("llama-3.1-8b")
    tokens = 2048
    linear = forward_flops(arch, tokens, 0)
    expected_attention = 2 * arch.num_layers * tokens**2 * arch.num_attention_heads * arch.head_dim
    assert forward_flops(arch, tokens, tokens / 2) - linear == pytest.approx(expected_attention)
