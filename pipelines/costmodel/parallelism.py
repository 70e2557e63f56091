"""Tensor parallelism: which degrees are valid, and what their all-reduces cost."""

from __future__ import annotations

from pipelines.costmodel.catalog import LLMArchitecture
from pipelines.costmodel.gpus import GpuSpec
from pipelines.costmodel.precision import ACTIVATION_BYTES

MAX_TENSOR_PARALLEL = 8  # one node; beyond it engines add pipeline parallelism (not modelled)


def valid_tensor_parallel_degrees(
    arch: LLMArchitecture, max_degree: int = MAX_TENSOR_PARALLEL
) -> list[int]:
    """Tensor-parallel degrees an engine accepts for ``arch``: powers of two dividing n_h.

    Examples
    --------
    >>> from pipelines.costmodel.catalog import llm_architecture
    >>> valid_tensor_parallel_degrees(llm_architecture("qwen2.5-7b"))
    [1, 2, 4]
    """
    degrees, degree = [], 1
    while degree <= max_degree:
        if arch.num_attention_heads % degree == 0:
            degrees.append(degree)
        degree *= 2
    return degrees


def allreduce_time_s(
    arch: LLMArchitecture,
    gpu: GpuSpec,
    tensor_parallel: int,
    tokens: float,
    latency_s: float,
    link_efficiency: float = 1.0,
) -> float:
    """Time of one forward pass's tensor-parallel all-reduces, seconds (COSTMODEL.md §2.6).

    Two ring all-reduces per layer (after attention and after the MLP), each moving
    2·(TP-1)/TP of a ``tokens × hidden`` 16-bit activation one way over the link at
    ``link_efficiency`` of its datasheet bandwidth, plus a fixed ``latency_s``. Zero without
    tensor parallelism.
    """
    if tensor_parallel <= 1:
        return 0.0
    payload_bytes = tokens * arch.hidden_size * ACTIVATION_BYTES
    ring_factor = 2.0 * (tensor_parallel - 1) / tensor_parallel
    link_bytes_per_s = gpu.link_bytes_per_s_one_way(tensor_parallel) * link_efficiency
    per_allreduce_s = ring_factor * payload_bytes / link_bytes_per_s
    return 2 * arch.num_layers * (per_allreduce_s + latency_s)
