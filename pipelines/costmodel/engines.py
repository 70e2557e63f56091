"""Serving-engine behaviour and efficiency priors: the knobs the roofline cannot derive.

Memory settings follow each engine's documented defaults. The efficiency priors (MBU, MFU,
all-reduce latency, per-step overhead) live in ``data/efficiency_priors.csv``, one row per
(engine family, GPU or ``vendor:<name>``, weight precision) with ``*`` wildcards, and the
tensor-parallel link efficiencies in ``data/interconnect_priors.csv``. Both files are written
by ``unitcost fit-priors`` (``fitting``) from the public benchmark tables, so that a
telemetry fit (Tier 1, COSTMODEL.md §5) can replace them row by row; callers may also pass
their own :class:`Efficiency`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pipelines.costmodel.catalog import DATA_DIR

EFFICIENCY_PRIORS_PATH = DATA_DIR / "efficiency_priors.csv"
INTERCONNECT_PRIORS_PATH = DATA_DIR / "interconnect_priors.csv"
ANY = "*"


@dataclass(frozen=True)
class Efficiency:
    """Achieved share of the hardware peaks, and fixed costs, for one (engine, GPU).

    Attributes
    ----------
    mbu
        Memory-bandwidth utilisation of decode steps, 0-1 (weights + KV reads).
    mfu
        FLOP utilisation of matmuls, 0-1 (prefill; decode once compute-bound).
    allreduce_latency_s
        Fixed latency of one tensor-parallel all-reduce, seconds (α in COSTMODEL.md §2.6).
    step_overhead_s
        Fixed scheduler / launch time per decode step, seconds.
    link_efficiency
        Achieved share of the datasheet link bandwidth in tensor-parallel all-reduces; None
        takes the interconnect's prior (``interconnect_prior``).
    """

    mbu: float
    mfu: float
    allreduce_latency_s: float = 0.0
    step_overhead_s: float = 0.0
    link_efficiency: float | None = None

    def __post_init__(self) -> None:
        for name in ("mbu", "mfu", "link_efficiency"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value}")


@dataclass(frozen=True)
class EngineProfile:
    """How an engine budgets memory and batches.

    Attributes
    ----------
    memory_fraction
        Share of memory the engine may use (vLLM ``gpu_memory_utilization``) or share of the
        memory left after weights and workspace given to KV (TensorRT-LLM
        ``kv_cache_free_gpu_mem_fraction``), per ``memory_fraction_of``.
    workspace_gib
        Activations, CUDA graphs and allocator slack per GPU, GiB.
    reserves_full_sequence
        True if a sequence is admitted only with KV room for ISL + OSL (TensorRT-LLM's default
        ``GUARANTEED_NO_EVICT``); False if KV grows on demand (vLLM paged attention), so the
        pool holds sequences at their mean length ISL + OSL / 2.
    max_batch_size
        Cap on concurrent sequences per replica.
    max_tokens_per_step
        Tokens one forward pass may carry (prefill chunk size).
    """

    engine: str
    memory_fraction: float
    memory_fraction_of: Literal["total", "free"]
    workspace_gib: float
    reserves_full_sequence: bool
    max_batch_size: int
    max_tokens_per_step: int


ENGINE_PROFILES: dict[str, EngineProfile] = {
    # vLLM: gpu_memory_utilization=0.9 of total memory; max_num_seqs 256;
    # max_num_batched_tokens 8192 with chunked prefill (V1 defaults).
    "vllm": EngineProfile("vllm", 0.90, "total", 2.0, False, 256, 8192),
    # SGLang: mem_fraction_static ~0.88 of total; radix cache allocates on demand.
    "sglang": EngineProfile("sglang", 0.88, "total", 2.0, False, 1024, 8192),
    # TensorRT-LLM LLM API: kv_cache_free_gpu_mem_fraction=0.9 of free memory,
    # GUARANTEED_NO_EVICT capacity scheduler, max_batch_size 2048, max_num_tokens 8192.
    "trtllm": EngineProfile("trtllm", 0.90, "free", 2.0, True, 2048, 8192),
    # trtllm-bench, as in perf-overview.md: the same engine run with a 0.95 KV fraction.
    "trtllm-bench": EngineProfile("trtllm-bench", 0.95, "free", 2.0, True, 2048, 8192),
    # NIM LLM containers serve through TensorRT-LLM with its defaults.
    "nim": EngineProfile("nim", 0.90, "free", 2.0, True, 2048, 8192),
    # NeMo inference (TensorRT-LLM backend) and FasterTransformer: static batches, full
    # reservation; their published runs are batch 1-8 so only weights/workspace matter.
    "nemo": EngineProfile("nemo", 0.90, "free", 2.0, True, 256, 8192),
    "fastertransformer": EngineProfile("fastertransformer", 0.90, "free", 1.0, True, 256, 8192),
}


def engine_profile(engine: str) -> EngineProfile:
    """The memory and batching profile of ``engine`` (e.g. ``vllm``, ``trtllm``)."""
    try:
        return ENGINE_PROFILES[engine]
    except KeyError:
        raise ValueError(
            f"unknown engine {engine!r}; known: {', '.join(ENGINE_PROFILES)}"
        ) from None


# Engines that share kernels share a prior: NIM and NeMo inference serve through TensorRT-LLM.
ENGINE_FAMILIES = {"trtllm-bench": "trtllm", "nim": "trtllm", "nemo": "trtllm"}


def engine_family(engine: str) -> str:
    """The engine whose kernels ``engine`` runs (``nim`` -> ``trtllm``); priors are per family."""
    return ENGINE_FAMILIES.get(engine, engine)


@cache
def _priors() -> dict[tuple[str, str, str], Efficiency]:
    with EFFICIENCY_PRIORS_PATH.open(newline="") as fh:
        return {
            (row["engine"], row["gpu_id"], row["precision"]): Efficiency(
                mbu=float(row["mbu"]),
                mfu=float(row["mfu"]),
                allreduce_latency_s=float(row["allreduce_latency_us"]) * 1e-6,
                step_overhead_s=float(row["step_overhead_ms"]) * 1e-3,
            )
            for row in csv.DictReader(fh)
        }


def prior_keys(engine: str, gpu_id: str, precision: str = ANY) -> list[tuple[str, str, str]]:
    """The (engine family, GPU, precision) keys looked up for a deployment, most specific
    first: the class, the GPU with any engine, its architecture (GPU family), then the
    default for hardware without public evidence."""
    from pipelines.costmodel.gpus import gpu_spec

    gpu = gpu_spec(gpu_id)
    return [
        (engine_family(engine), gpu_id, precision),
        (ANY, gpu_id, ANY),
        (ANY, f"arch:{gpu.architecture}", ANY),
        (ANY, ANY, ANY),
    ]


def efficiency_prior(engine: str, gpu_id: str, precision: str = ANY) -> Efficiency:
    """The Tier-0 efficiency prior for ``engine`` on ``gpu_id`` at weight ``precision``.

    Looks up ``prior_keys`` in order in ``data/efficiency_priors.csv``: the fitted class,
    then the GPU pooled over engines and precisions, its architecture, then ``(*, *, *)``:
    the literature default (MBU 0.70, MFU 0.50), kept for architectures no public table
    covers.

    Examples
    --------
    >>> 0.3 < efficiency_prior("vllm", "h100-sxm").mbu <= 1.0
    True
    """
    priors = _priors()
    for key in prior_keys(engine, gpu_id, precision):
        if key in priors:
            return priors[key]
    raise LookupError("efficiency_priors.csv lacks the (*, *, *) default row")


@cache
def _interconnect_priors() -> dict[str, float]:
    with INTERCONNECT_PRIORS_PATH.open(newline="") as fh:
        return {row["interconnect"]: float(row["link_efficiency"]) for row in csv.DictReader(fh)}


def interconnect_prior(interconnect: str) -> float:
    """Achieved share of datasheet bandwidth in all-reduces over ``interconnect`` (``nvlink``,
    ``pcie``, ``infinity-fabric``), from ``data/interconnect_priors.csv``; 1.0 if unlisted."""
    return _interconnect_priors().get(interconnect, 1.0)
