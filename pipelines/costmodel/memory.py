"""Memory: weight bytes, KV bytes per token, the engine's KV pool, fit and max concurrency.

The budget is explicit (COSTMODEL.md §2.2), not "weights × 1.2": exact weight bytes, a
workspace, and the engine's KV pool, which sets how many sequences run at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from pipelines.costmodel.architecture import parameter_counts
from pipelines.costmodel.catalog import LLMArchitecture
from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.gpus import GIB_BYTES
from pipelines.costmodel.parallelism import valid_tensor_parallel_degrees
from pipelines.costmodel.precision import Precision, kv_cache_bytes_per_element

EMBEDDING_BYTES_PER_WEIGHT = 2  # quantizers keep embeddings and lm_head 16-bit


def weight_bytes(arch: LLMArchitecture, precision: Precision) -> float:
    """Bytes of all weights at ``precision`` (all experts resident), bytes.

    Embeddings and lm_head stay 16-bit when the precision says quantizers keep them so.

    Examples
    --------
    >>> from pipelines.costmodel.catalog import llm_architecture
    >>> from pipelines.costmodel.precision import get_precision
    >>> round(weight_bytes(llm_architecture("llama-3.1-8b"), get_precision("bf16")) / 1e9, 2)
    16.06
    """
    counts = parameter_counts(arch)
    embedding_params = counts.input_embedding_params + counts.lm_head_params
    embedding_bytes_per_weight = (
        EMBEDDING_BYTES_PER_WEIGHT if precision.embeddings_16bit else precision.bytes_per_weight
    )
    body_params = counts.total_params - embedding_params
    return body_params * precision.bytes_per_weight + embedding_params * embedding_bytes_per_weight


def kv_cache_bytes_per_token(
    arch: LLMArchitecture, kv_precision: str, tensor_parallel: int = 1
) -> float:
    """KV-cache bytes one token occupies on *one* GPU of a tensor-parallel group, bytes.

    2·L·n_kv·d·b_kv (GQA-aware: KV heads, not the hidden size), split over ``tensor_parallel``
    GPUs; when TP exceeds n_kv, KV heads are replicated, so each GPU keeps at least one.

    Examples
    --------
    >>> from pipelines.costmodel.catalog import llm_architecture
    >>> kv_cache_bytes_per_token(llm_architecture("llama-3.1-70b"), "bf16")
    327680.0
    """
    kv_heads_per_gpu = math.ceil(arch.num_key_value_heads / tensor_parallel)
    element_bytes = kv_cache_bytes_per_element(kv_precision)
    return 2.0 * arch.num_layers * kv_heads_per_gpu * arch.head_dim * element_bytes


@dataclass(frozen=True)
class MemoryPlan:
    """Per-GPU memory budget of one replica of ``tensor_parallel`` GPUs (bytes unless _gib)."""

    tensor_parallel: int
    gpu_memory_gib: float
    weights_gib: float
    weights_per_gpu_gib: float
    workspace_gib: float
    kv_pool_per_gpu_gib: float
    kv_cache_bytes_per_token: float
    kv_cache_bytes_per_token_per_gpu: float
    kv_tokens_per_replica: int
    reserved_tokens_per_sequence: float
    max_concurrent_sequences: int

    @property
    def fits(self) -> bool:
        """True if weights fit and the KV pool holds at least one sequence."""
        return self.max_concurrent_sequences >= 1


def reserved_tokens_per_sequence(
    deployment: Deployment, input_tokens: float, output_tokens: float
) -> float:
    """KV tokens the engine holds per running sequence: ISL+OSL if it reserves, else the mean."""
    if deployment.engine_profile.reserves_full_sequence:
        return input_tokens + output_tokens
    return input_tokens + output_tokens / 2


def plan_memory(deployment: Deployment, input_tokens: float, output_tokens: float) -> MemoryPlan:
    """Budget one replica's memory and derive its KV capacity at the given lengths.

    Parameters
    ----------
    deployment
        Its ``tensor_parallel`` must be set (see ``min_tensor_parallel``).
    input_tokens, output_tokens
        Mean ISL and OSL per request, tokens.

    Returns
    -------
    MemoryPlan
        ``max_concurrent_sequences`` = KV pool ÷ (KV bytes/token × reserved tokens/sequence),
        capped by the engine's batch limit; 0 when nothing fits.

    Examples
    --------
    >>> d = Deployment("llama-3.1-8b", "h100-sxm", 1, "fp8", "fp8", "trtllm-bench", 1)
    >>> plan_memory(d, 128, 2048).max_concurrent_sequences > 400
    True
    """
    tp = deployment.tensor_parallel or deployment.num_gpus
    engine, arch = deployment.engine_profile, deployment.arch
    hbm_bytes = deployment.gpu.memory_bytes
    weights = weight_bytes(arch, deployment.precision)
    weights_per_gpu = weights / tp
    workspace = engine.workspace_gib * GIB_BYTES
    if engine.memory_fraction_of == "total":
        pool = engine.memory_fraction * hbm_bytes - weights_per_gpu - workspace
    else:
        pool = engine.memory_fraction * (hbm_bytes - weights_per_gpu - workspace)
    pool = max(pool, 0.0)
    kv_per_token_gpu = kv_cache_bytes_per_token(arch, deployment.kv_cache_precision, tp)
    kv_tokens = int(pool // kv_per_token_gpu)
    reserved = reserved_tokens_per_sequence(deployment, input_tokens, output_tokens)
    sequences = min(int(kv_tokens // reserved), engine.max_batch_size)
    return MemoryPlan(
        tensor_parallel=tp,
        gpu_memory_gib=deployment.gpu.memory_gib,
        weights_gib=weights / GIB_BYTES,
        weights_per_gpu_gib=weights_per_gpu / GIB_BYTES,
        workspace_gib=engine.workspace_gib,
        kv_pool_per_gpu_gib=pool / GIB_BYTES,
        kv_cache_bytes_per_token=kv_cache_bytes_per_token(arch, deployment.kv_cache_precision),
        kv_cache_bytes_per_token_per_gpu=kv_per_token_gpu,
        kv_tokens_per_replica=kv_tokens,
        reserved_tokens_per_sequence=reserved,
        max_concurrent_sequences=sequences,
    )


def min_tensor_parallel(
    deployment: Deployment, input_tokens: float, output_tokens: float
) -> int | None:
    """Smallest valid tensor-parallel degree at which one replica fits, or None within a node.

    Examples
    --------
    >>> min_tensor_parallel(Deployment("llama-3.1-70b", "h100-sxm", 8), 1000, 200)
    2
    """
    for tp in valid_tensor_parallel_degrees(deployment.arch):
        replica = replace(deployment, num_gpus=tp, tensor_parallel=tp)
        if plan_memory(replica, input_tokens, output_tokens).fits:
            return tp
    return None
