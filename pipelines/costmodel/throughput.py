"""Steady-state throughput of a deployment: replicas, batch, prefill and decode combined.

A replica running B sequences of mean ISL T and OSL O spends, per request, one prefill of T
tokens plus O/B of a B-wide decode step (``roofline``); prefill and decode are accounted
serially, which is also how COSTMODEL.md §3 splits cost between input and output tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.memory import MemoryPlan, plan_memory
from pipelines.costmodel.parallelism import valid_tensor_parallel_degrees
from pipelines.costmodel.roofline import StepTime, decode_step_time, prefill_time

__all__ = [
    "DoesNotFitError",
    "StepTime",
    "ThroughputEstimate",
    "decode_step_time",
    "estimate_throughput",
    "prefill_time",
]


class DoesNotFitError(ValueError):
    """The LLM's weights plus one sequence's KV do not fit the replica's memory."""


@dataclass(frozen=True)
class ThroughputEstimate:
    """Steady-state throughput of a whole deployment at one workload.

    Rates are for all replicas together; ``*_per_replica`` and latencies for one replica.
    ``prefill_time_share`` is S_prefill / (S_prefill + S_decode), the share of busy time
    COSTMODEL.md §3 charges to input tokens.
    """

    tensor_parallel: int
    replicas: int
    memory: MemoryPlan
    concurrent_sequences_per_replica: float
    kv_limited: bool
    prefill: StepTime
    decode_step: StepTime
    requests_per_s: float
    output_tokens_per_s: float
    input_tokens_per_s: float
    prefill_time_share: float
    request_latency_s: float

    @property
    def total_tokens_per_s(self) -> float:
        return self.input_tokens_per_s + self.output_tokens_per_s

    @property
    def time_per_output_token_s(self) -> float:
        return self.decode_step.total_s


def _estimate_at_tp(
    deployment: Deployment, input_tokens: float, output_tokens: float, concurrency: float | None
) -> ThroughputEstimate:
    plan = plan_memory(deployment, input_tokens, output_tokens)
    if not plan.fits:
        raise DoesNotFitError(
            f"{deployment.llm_id} ({deployment.weight_precision}) does not fit "
            f"{plan.tensor_parallel}x {deployment.gpu_id} with a "
            f"{plan.reserved_tokens_per_sequence:.0f}-token sequence"
        )
    replicas = deployment.num_gpus // plan.tensor_parallel
    wanted = plan.max_concurrent_sequences if concurrency is None else concurrency / replicas
    batch = min(wanted, plan.max_concurrent_sequences)
    kv_per_gpu = plan.kv_cache_bytes_per_token_per_gpu
    step = decode_step_time(deployment, batch, input_tokens + output_tokens / 2, kv_per_gpu)
    prefill = prefill_time(deployment, input_tokens, batch, kv_per_gpu)
    seconds_per_request = prefill.total_s + output_tokens * step.total_s / batch
    requests_per_s = replicas / seconds_per_request
    return ThroughputEstimate(
        tensor_parallel=plan.tensor_parallel,
        replicas=replicas,
        memory=plan,
        concurrent_sequences_per_replica=batch,
        kv_limited=wanted >= plan.max_concurrent_sequences,
        prefill=prefill,
        decode_step=step,
        requests_per_s=requests_per_s,
        output_tokens_per_s=requests_per_s * output_tokens,
        input_tokens_per_s=requests_per_s * input_tokens,
        prefill_time_share=prefill.total_s / seconds_per_request,
        request_latency_s=batch * seconds_per_request,
    )


def estimate_throughput(
    deployment: Deployment,
    input_tokens: float,
    output_tokens: float,
    concurrency: float | None = None,
) -> ThroughputEstimate:
    """Predict a deployment's throughput for requests of mean ISL / OSL.

    Parameters
    ----------
    deployment
        If ``tensor_parallel`` is None, every valid degree dividing ``num_gpus`` at which a
        replica fits is tried and the one with the highest output tokens/s kept.
    input_tokens, output_tokens
        Mean ISL and OSL, tokens.
    concurrency
        Concurrent sequences over the whole deployment; None = saturated (as many as the KV
        pool and the engine's batch cap allow), what an offline benchmark measures.

    Returns
    -------
    ThroughputEstimate

    Raises
    ------
    DoesNotFitError
        If no valid tensor-parallel degree fits.

    Examples
    --------
    >>> d = Deployment("llama-3.1-8b", "h100-sxm", 1, "fp8", "fp8", "trtllm-bench")
    >>> 10_000 < estimate_throughput(d, 128, 2048).output_tokens_per_s < 40_000
    True
    """
    if deployment.tensor_parallel is not None:
        return _estimate_at_tp(deployment, input_tokens, output_tokens, concurrency)
    candidates = []
    for tp in valid_tensor_parallel_degrees(deployment.arch):
        if deployment.num_gpus % tp == 0:
            try:
                candidates.append(
                    _estimate_at_tp(
                        replace(deployment, tensor_parallel=tp),
                        input_tokens,
                        output_tokens,
                        concurrency,
                    )
                )
            except DoesNotFitError:
                continue
    if not candidates:
        raise DoesNotFitError(
            f"{deployment.llm_id} ({deployment.weight_precision}) fits no tensor-parallel split of "
            f"{deployment.num_gpus}x {deployment.gpu_id}"
        )
    return max(candidates, key=lambda estimate: estimate.output_tokens_per_s)
