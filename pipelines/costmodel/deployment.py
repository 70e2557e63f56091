"""A deployment: which LLM, on which GPUs, at which precision, served by which engine."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipelines.costmodel.architecture import ParameterCounts, parameter_counts
from pipelines.costmodel.catalog import LLMArchitecture, llm_architecture
from pipelines.costmodel.engines import Efficiency, EngineProfile, efficiency_prior, engine_profile
from pipelines.costmodel.gpus import GpuSpec, gpu_spec
from pipelines.costmodel.precision import Precision, get_precision, kv_cache_bytes_per_element


@dataclass(frozen=True)
class Deployment:
    """What is served where: the cost model's input.

    Attributes
    ----------
    llm_id, gpu_id
        Catalog ids (``catalog.llm_ids()``, ``catalog.gpu_ids()``).
    num_gpus
        GPUs in the deployment: ``tensor_parallel × replicas``.
    weight_precision, kv_cache_precision
        ``fp16``/``bf16``/``fp8``/``int8``/``int4``; KV ``bf16``/``fp16``/``fp8``/``int8``.
    engine
        An ``engines.ENGINE_PROFILES`` key.
    tensor_parallel
        GPUs per replica; ``None`` lets the cost model choose (the fastest valid degree).
    efficiency
        Overrides the (engine, GPU) prior, e.g. with values fitted from telemetry.
    memory_fraction
        Overrides the engine's default memory fraction.

    Examples
    --------
    >>> Deployment("llama-3.1-8b", "h100-sxm", weight_precision="fp8").replicas
    1
    """

    llm_id: str
    gpu_id: str
    num_gpus: int = 1
    weight_precision: str = "bf16"
    kv_cache_precision: str = "bf16"
    engine: str = "vllm"
    tensor_parallel: int | None = None
    efficiency: Efficiency | None = None
    memory_fraction: float | None = None

    def __post_init__(self) -> None:
        if self.num_gpus < 1:
            raise ValueError(f"num_gpus must be >= 1, got {self.num_gpus}")
        if self.tensor_parallel is not None and self.num_gpus % self.tensor_parallel:
            raise ValueError(
                f"num_gpus {self.num_gpus} is not a multiple of "
                f"tensor_parallel {self.tensor_parallel}"
            )
        # resolve every id now so a typo fails at construction, not deep inside a formula
        self.arch, self.gpu, self.precision, self.engine_profile  # noqa: B018
        kv_cache_bytes_per_element(self.kv_cache_precision)

    @property
    def arch(self) -> LLMArchitecture:
        return llm_architecture(self.llm_id)

    @property
    def params(self) -> ParameterCounts:
        return parameter_counts(self.arch)

    @property
    def gpu(self) -> GpuSpec:
        return gpu_spec(self.gpu_id)

    @property
    def precision(self) -> Precision:
        return get_precision(self.weight_precision)

    @property
    def engine_profile(self) -> EngineProfile:
        profile = engine_profile(self.engine)
        if self.memory_fraction is not None:
            profile = replace(profile, memory_fraction=self.memory_fraction)
        return profile

    @property
    def resolved_efficiency(self) -> Efficiency:
        return self.efficiency or efficiency_prior(self.engine, self.gpu_id, self.weight_precision)

    @property
    def replicas(self) -> int:
        return self.num_gpus // (self.tensor_parallel or self.num_gpus)

    def with_tensor_parallel(self, tensor_parallel: int) -> Deployment:
        """The same deployment split into replicas of ``tensor_parallel`` GPUs."""
        return replace(self, tensor_parallel=tensor_parallel)
