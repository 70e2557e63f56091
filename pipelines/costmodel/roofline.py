"""Roofline step times: prefill compute-bound, decode bandwidth-bound with KV reads.

Each step costs ``max(bytes / (BW·MBU), FLOPs / (P·MFU)) + all-reduce + overhead``
(COSTMODEL.md §1). Bytes and FLOPs are per GPU of a tensor-parallel group.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.costmodel.architecture import expert_touch_fraction, forward_flops
from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.engines import Efficiency, interconnect_prior
from pipelines.costmodel.memory import EMBEDDING_BYTES_PER_WEIGHT, weight_bytes
from pipelines.costmodel.parallelism import allreduce_time_s


@dataclass(frozen=True)
class StepTime:
    """Time of one forward pass (or one request's prefill) by roofline component, seconds."""

    memory_s: float
    compute_s: float
    communication_s: float
    overhead_s: float

    @property
    def total_s(self) -> float:
        return max(self.memory_s, self.compute_s) + self.communication_s + self.overhead_s

    @property
    def bound(self) -> str:
        return "memory" if self.memory_s >= self.compute_s else "compute"


def _weight_bytes_read_per_gpu(deployment: Deployment, tokens_in_pass: float) -> float:
    """Weight bytes one GPU streams per forward pass: the input embedding is only gathered,
    and an MoE pass reads just the experts its tokens route to (COSTMODEL.md §2.5)."""
    arch, counts, precision = deployment.arch, deployment.params, deployment.precision
    total = weight_bytes(arch, precision)
    gathered = 0.0
    if counts.lm_head_params:  # untied: the input table is not the lm_head, so never streamed
        emb_bytes = (
            EMBEDDING_BYTES_PER_WEIGHT if precision.embeddings_16bit else precision.bytes_per_weight
        )
        gathered = counts.input_embedding_params * emb_bytes
    untouched_fraction = 1.0 - expert_touch_fraction(arch, tokens_in_pass)
    untouched = counts.expert_params * precision.bytes_per_weight * untouched_fraction
    return (total - gathered - untouched) / _tp(deployment)


def _tp(deployment: Deployment) -> int:
    return deployment.tensor_parallel or deployment.num_gpus


def _link_efficiency(deployment: Deployment, eff: Efficiency) -> float:
    if eff.link_efficiency is not None:
        return eff.link_efficiency
    return interconnect_prior(deployment.gpu.interconnect(_tp(deployment)))


def _peak_flops_per_s(deployment: Deployment) -> float:
    return deployment.gpu.peak_flops_per_s(deployment.precision.compute_dtype)


def decode_step_time(
    deployment: Deployment,
    batch_size: float,
    context_tokens: float,
    kv_bytes_per_token_per_gpu: float,
) -> StepTime:
    """One decode step of ``batch_size`` sequences at mean context ``context_tokens``.

    Bytes: weights read once (experts by touch fraction) + every sequence's own KV cache.
    FLOPs: 2·N_active per sequence + attention over its context.

    Examples
    --------
    >>> d = Deployment("llama-3.1-8b", "h100-sxm", 1, "bf16", tensor_parallel=1)
    >>> decode_step_time(d, 1, 0, kv_bytes_per_token_per_gpu=131072).bound
    'memory'
    """
    tp, eff, gpu = _tp(deployment), deployment.resolved_efficiency, deployment.gpu
    kv_read = batch_size * context_tokens * kv_bytes_per_token_per_gpu
    bytes_read = _weight_bytes_read_per_gpu(deployment, batch_size) + kv_read
    flops = forward_flops(deployment.arch, batch_size, context_tokens) / tp
    return StepTime(
        memory_s=bytes_read / (gpu.memory_bandwidth_bytes_per_s * eff.mbu),
        compute_s=flops / (_peak_flops_per_s(deployment) * eff.mfu),
        communication_s=allreduce_time_s(
            deployment.arch,
            gpu,
            tp,
            batch_size,
            eff.allreduce_latency_s,
            _link_efficiency(deployment, eff),
        ),
        overhead_s=eff.step_overhead_s,
    )


def prefill_time(
    deployment: Deployment,
    input_tokens: float,
    batch_size: float,
    kv_bytes_per_token_per_gpu: float,
) -> StepTime:
    """One request's prefill of ``input_tokens`` when ``batch_size`` requests share passes.

    Prompts are packed into passes of up to the engine's ``max_tokens_per_step`` tokens, so
    weight reads are amortised over a pass; FLOPs include causal attention (2·L·T²·n_h·d).
    """
    tp, eff, gpu = _tp(deployment), deployment.resolved_efficiency, deployment.gpu
    tokens_per_pass = max(
        1.0, min(batch_size * input_tokens, deployment.engine_profile.max_tokens_per_step)
    )
    passes = input_tokens / tokens_per_pass
    weights_read = passes * _weight_bytes_read_per_gpu(deployment, tokens_per_pass)
    kv_written = input_tokens * kv_bytes_per_token_per_gpu
    flops = forward_flops(deployment.arch, input_tokens, input_tokens / 2) / tp
    comm = allreduce_time_s(
        deployment.arch,
        gpu,
        tp,
        tokens_per_pass,
        eff.allreduce_latency_s,
        _link_efficiency(deployment, eff),
    )
    return StepTime(
        memory_s=(weights_read + kv_written) / (gpu.memory_bandwidth_bytes_per_s * eff.mbu),
        compute_s=flops / (_peak_flops_per_s(deployment) * eff.mfu),
        communication_s=passes * comm,
        overhead_s=passes * eff.step_overhead_s,
    )
