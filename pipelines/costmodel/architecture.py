"""Parameter counts and FLOPs of a transformer LLM, from its config (COSTMODEL.md §1).

Counts are exact for the catalog's architecture families (Llama, Mistral, Mixtral, Qwen2.5/3,
GPT-J); they match COSTMODEL.md's ``params_computed_billion`` to 0.001 bn.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.costmodel.catalog import LLMArchitecture


@dataclass(frozen=True)
class ParameterCounts:
    """Where an LLM's parameters sit (counts of parameters, not bytes).

    ``expert_params`` is the size of all experts of all layers (0 for a dense LLM);
    ``active_params`` counts only ``experts_per_token`` experts per layer.
    """

    total_params: int
    active_params: int
    input_embedding_params: int
    lm_head_params: int
    expert_params: int

    @property
    def non_expert_params(self) -> int:
        return self.total_params - self.expert_params

    @property
    def matmul_active_params(self) -> int:
        """Active parameters used in matmuls: the input embedding is a gather, not a GEMM
        (unless tied, when the same table is the lm_head)."""
        gathered = self.input_embedding_params if self.lm_head_params else 0
        return self.active_params - gathered


def _attention_params(arch: LLMArchitecture) -> int:
    h, d = arch.hidden_size, arch.head_dim
    q_and_o = 2 * h * arch.num_attention_heads * d
    k_and_v = 2 * h * arch.num_key_value_heads * d
    bias = (arch.num_attention_heads + 2 * arch.num_key_value_heads) * d if arch.qkv_bias else 0
    return q_and_o + k_and_v + bias


def _mlp_params(arch: LLMArchitecture) -> int:
    h, i = arch.hidden_size, arch.intermediate_size
    if arch.gated_mlp:
        return 3 * h * i
    return 2 * h * i + i + h  # fc_in / fc_out weights and their biases (GPT-J style)


def parameter_counts(arch: LLMArchitecture) -> ParameterCounts:
    """Count an LLM's parameters from its config.

    Parameters
    ----------
    arch
        The LLM's hyper-parameters (``catalog.llm_architecture(llm_id)``).

    Returns
    -------
    ParameterCounts
        Total and per-token-active parameters, the embedding / lm_head split (kept 16-bit by
        quantizers) and the expert share (resident, but only partly read per decode step).

    Examples
    --------
    >>> from pipelines.costmodel.catalog import llm_architecture
    >>> round(parameter_counts(llm_architecture("mixtral-8x7b")).active_params / 1e9, 3)
    12.88
    """
    h, n_layers = arch.hidden_size, arch.num_layers
    mlp = _mlp_params(arch)
    experts, experts_active, router = 0, 0, 0
    if arch.is_moe:
        experts = n_layers * arch.num_experts * mlp
        experts_active = n_layers * arch.experts_per_token * mlp
        router = n_layers * h * arch.num_experts
        mlp = 0
    norms = 2 * h
    per_layer_dense = _attention_params(arch) + mlp + norms
    input_embedding = arch.vocab_size * h
    lm_head = 0 if arch.tie_word_embeddings else arch.vocab_size * h
    shared = input_embedding + lm_head + n_layers * per_layer_dense + router + h  # h: final norm
    return ParameterCounts(
        total_params=shared + experts,
        active_params=shared + experts_active,
        input_embedding_params=input_embedding,
        lm_head_params=lm_head,
        expert_params=experts,
    )


def expert_touch_fraction(arch: LLMArchitecture, batch_size: float) -> float:
    """Expected share of an MoE layer's experts a decode step reads (COSTMODEL.md §2.5).

    With uniform, independent top-k routing of ``batch_size`` tokens over E experts, an expert
    is untouched with probability (1 - k/E)^B. Dense LLMs return 1.0.

    Examples
    --------
    >>> from pipelines.costmodel.catalog import llm_architecture
    >>> round(expert_touch_fraction(llm_architecture("mixtral-8x7b"), 8), 2)
    0.9
    """
    if not arch.is_moe:
        return 1.0
    if batch_size <= 0:
        return 0.0
    return 1.0 - (1.0 - arch.experts_per_token / arch.num_experts) ** batch_size


def forward_flops(arch: LLMArchitecture, new_tokens: float, context_tokens: float) -> float:
    """FLOPs of one forward pass over ``new_tokens`` attending to ``context_tokens`` on average.

    2·N_active per token for the matmuls (input-embedding gather excluded), plus 4·L·n_h·d
    per (query, key) pair for QKᵀ and the attention-weighted V. Prefill of T tokens:
    ``context_tokens = T / 2`` (causal) gives COSTMODEL.md's 2·N·T + 2·L·T²·n_h·d.
    Decode: one new token per sequence at its context.

    Returns
    -------
    float
        FLOPs (not FLOP/s).
    """
    counts = parameter_counts(arch)
    attention_width = arch.num_layers * arch.num_attention_heads * arch.head_dim
    return new_tokens * (2.0 * counts.matmul_active_params + 4.0 * attention_width * context_tokens)
