"""Efficiency implied by a measurement: the Tier-1 fit of COSTMODEL.md §5, one point at a time.

MBU = (weight bytes + KV bytes read per step) / TPOT / peak bandwidth (Databricks); MFU =
prefill FLOPs / TTFT / peak FLOP/s. Tensor-parallel communication is folded in, as in §6.
"""

from __future__ import annotations

from dataclasses import replace

from pipelines.costmodel.architecture import forward_flops
from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.engines import Efficiency
from pipelines.costmodel.memory import kv_cache_bytes_per_token
from pipelines.costmodel.throughput import decode_step_time

_UNIT = Efficiency(mbu=1.0, mfu=1.0)


def implied_mbu(
    deployment: Deployment, batch_size: float, context_tokens: float, time_per_output_token_s: float
) -> float:
    """Memory-bandwidth utilisation implied by an observed time per output token.

    Examples
    --------
    >>> d = Deployment("llama-3.3-70b", "h100-sxm", 2, "fp8", "bf16", "nim", 2)
    >>> round(implied_mbu(d, 1, 5250, 0.01858), 2)
    0.58
    """
    tp = deployment.tensor_parallel or deployment.num_gpus
    kv_per_gpu = kv_cache_bytes_per_token(deployment.arch, deployment.kv_cache_precision, tp)
    ideal = decode_step_time(
        replace(deployment, efficiency=_UNIT), batch_size, context_tokens, kv_per_gpu
    )
    return ideal.memory_s / time_per_output_token_s


def implied_mfu(deployment: Deployment, input_tokens: float, prefill_s: float) -> float:
    """FLOP utilisation implied by an observed prefill time (TTFT less queueing), seconds."""
    tp = deployment.tensor_parallel or deployment.num_gpus
    flops_per_gpu = forward_flops(deployment.arch, input_tokens, input_tokens / 2) / tp
    peak = deployment.gpu.peak_flops_per_s(deployment.precision.compute_dtype)
    return flops_per_gpu / prefill_s / peak
