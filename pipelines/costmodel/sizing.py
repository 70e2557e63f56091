"""Choose the replica size (tensor-parallel degree) and count as an operator would.

For one GPU type the price per GPU is fixed, so throughput per dollar is throughput per GPU.
With a demand, every valid degree that fits is sized to carry it (replicas = demand ÷ per-replica
capacity at utilisation U) and the cheapest total wins, ties to the faster per GPU. Without a
demand (run at capacity) the degree with the most output tokens/s per GPU wins, one replica.
The fewest GPUs that fit is often not it: a replica at its memory floor has little KV room, so
a small batch; one more degree of TP can multiply the batch (COSTMODEL.md §2.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.parallelism import valid_tensor_parallel_degrees
from pipelines.costmodel.throughput import DoesNotFitError, estimate_throughput


@dataclass(frozen=True)
class ReplicaOption:
    """One candidate: ``replicas`` replicas of ``tensor_parallel`` GPUs."""

    tensor_parallel: int
    replicas: int
    output_tokens_per_s_per_gpu: float
    requests_per_s_per_replica: float

    @property
    def num_gpus(self) -> int:
        return self.tensor_parallel * self.replicas


@dataclass(frozen=True)
class ReplicaChoice:
    """The chosen deployment, every option considered, and a one-line reason."""

    deployment: Deployment
    options: tuple[ReplicaOption, ...]
    reason: str


def choose_replicas(
    deployment: Deployment,
    input_tokens: float,
    output_tokens: float,
    requests_per_s: float | None = None,
    concurrency: int | None = None,
    utilisation: float = 1.0,
) -> ReplicaChoice:
    """The throughput-per-dollar-best replica size and count for ``deployment``'s GPU type.

    Raises
    ------
    throughput.DoesNotFitError
        If no degree within a node fits.

    Examples
    --------
    >>> d = Deployment("llama-3.1-70b", "h100-sxm", 1, "fp8", "fp8", "trtllm")
    >>> choose_replicas(d, 1000, 200).deployment.tensor_parallel
    2
    """
    options = []
    for tp in valid_tensor_parallel_degrees(deployment.arch):
        replica = replace(deployment, num_gpus=tp, tensor_parallel=tp)
        try:
            estimate = estimate_throughput(replica, input_tokens, output_tokens, concurrency)
        except DoesNotFitError:
            continue
        capacity = estimate.requests_per_s * utilisation
        replicas = 1 if requests_per_s is None else max(1, math.ceil(requests_per_s / capacity))
        options.append(
            ReplicaOption(tp, replicas, estimate.output_tokens_per_s / tp, estimate.requests_per_s)
        )
    if not options:
        raise DoesNotFitError(
            f"{deployment.llm_id} fits no tensor-parallel degree on {deployment.gpu_id}"
        )
    if requests_per_s is None:
        best = max(options, key=lambda o: o.output_tokens_per_s_per_gpu)
        why = "most output tokens/s per GPU (= per dollar) at capacity"
    else:
        best = min(options, key=lambda o: (o.num_gpus, -o.output_tokens_per_s_per_gpu))
        why = "fewest GPUs (= dollars) that carry the demand, ties to the faster per GPU"
    others = ", ".join(
        f"TP{o.tensor_parallel}x{o.replicas}: {o.output_tokens_per_s_per_gpu:,.0f} tok/s/GPU"
        for o in options
        if o is not best
    )
    reason = (
        f"TP{best.tensor_parallel} x {best.replicas} replica(s): {why}; "
        f"{best.output_tokens_per_s_per_gpu:,.0f} output tok/s per GPU"
        + (f" (vs {others})" if others else "")
    )
    chosen = replace(deployment, num_gpus=best.num_gpus, tensor_parallel=best.tensor_parallel)
    return ReplicaChoice(chosen, tuple(options), reason)
