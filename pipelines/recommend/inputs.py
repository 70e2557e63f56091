"""What the recommendation engine reads: deployment configs and daily observations.

These types say nothing about where the numbers come from: the dbt marts feed them in
production (``warehouse_inputs``); tests also build them from a simulator folder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.engines import ENGINE_PROFILES, Efficiency

if TYPE_CHECKING:
    from pipelines.recommend.commitments import CommitmentCoverage
    from pipelines.recommend.prefix_cache import PrefixCacheHour
    from pipelines.recommend.saturation import SaturationHour

# Engines the cost model has no profile for yet, and the profile that behaves most alike:
# TGI (v3) allocates paged KV on demand like vLLM. Tell costmodel/engines.py's owner.
ENGINE_STAND_INS = {"tgi": "vllm", "lmdeploy": "vllm"}


@dataclass(frozen=True)
class DeploymentConfig:
    """How a deployment is served and what its GPUs really cost.

    Attributes
    ----------
    deployment_id, llm_id, gpu_id
        Registry id; catalog ids of the LLM and GPU type.
    num_gpus, tensor_parallel
        GPUs held (``tensor_parallel × replicas``) and GPUs per replica.
    weight_precision, kv_cache_precision, engine
        As in ``costmodel.deployment.Deployment``.
    usd_per_gpu_hour
        The all-in price actually paid per GPU-hour (allocation basis), USD.
    provider
        Cloud whose catalog prices cheaper GPU types (``prices.instance_prices``).
    api_eligible, api_substitutes
        True if the traffic may be sent to a third-party API (data policy; the registry's
        ``api.eligible``). Unknown means no: self-hosting is often chosen for reasons a price
        table cannot see. ``api_substitutes`` are the hosted LLMs (catalog ids) acceptable in
        its place; empty means the deployment's own LLM only.
    """

    deployment_id: str
    llm_id: str
    gpu_id: str
    num_gpus: int
    tensor_parallel: int
    weight_precision: str
    kv_cache_precision: str
    engine: str
    usd_per_gpu_hour: float
    provider: str = "aws"
    api_eligible: bool = False
    api_substitutes: tuple[str, ...] = ()

    @property
    def replicas(self) -> int:
        return self.num_gpus // self.tensor_parallel

    @property
    def cost_model_engine(self) -> str:
        if self.engine in ENGINE_PROFILES:
            return self.engine
        return ENGINE_STAND_INS.get(self.engine, "vllm")

    def deployment(self, efficiency: Efficiency | None = None) -> Deployment:
        """The cost model's view of this config, optionally with a fitted efficiency."""
        return Deployment(
            self.llm_id,
            self.gpu_id,
            self.num_gpus,
            self.weight_precision,
            self.kv_cache_precision,
            self.cost_model_engine,
            self.tensor_parallel,
            efficiency,
        )


@dataclass(frozen=True)
class DailyObservation:
    """One deployment's observed traffic, latency, utilisation and cost on one UTC day.

    ``batch_when_busy`` is the mean number of requests on a replica's GPUs while it has any
    (prefill or decode, queue wait excluded; ``int_requests__gpu_time_hourly``);
    ``p95_concurrency`` the 95th percentile over requests of the mean number on their
    replica during their life (``int_requests__replica_sweep``). ``busy_fraction`` is the
    share of GPU-time DCGM saw busy, ``peak_hour_busy_fraction`` its busiest hour.
    Latencies are per request, ms.
    ``observed_request_share`` is the mean, over the day's requests, of the share of the
    deployment's GPU-hours telemetry observed in the hour each arrived: the part of the
    traffic whose busy time was measured rather than assumed. ``cost_usd`` is the
    allocation-basis cost of the deployment's GPUs that day (recommendations' baseline).
    """

    usage_date: dt.date
    deployment_id: str
    requests: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    busy_fraction: float
    peak_hour_busy_fraction: float
    batch_when_busy: float
    p95_concurrency: float
    peak_to_mean_load: float
    mean_ttft_ms: float
    p95_ttft_ms: float
    mean_tpot_ms: float
    p95_tpot_ms: float
    telemetry_coverage: float
    cost_usd: float
    observed_request_share: float = 1.0

    @property
    def mean_input_tokens(self) -> float:
        return self.input_tokens / max(self.requests, 1)

    @property
    def mean_uncached_input_tokens(self) -> float:
        return max(self.input_tokens - self.cached_tokens, self.requests) / max(self.requests, 1)

    @property
    def mean_output_tokens(self) -> float:
        return max(self.output_tokens / max(self.requests, 1), 1.0)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class IdleInstance:
    """A billed instance none of whose GPUs served a deployment in the window."""

    instance_id: str
    instance_type: str
    gpu_id: str
    gpu_count: int
    usd_per_day: float
    days_observed: int


@dataclass(frozen=True)
class FleetInputs:
    """Everything ``engine.recommend`` needs.

    ``requests`` holds per-request timings for calibration (``sql/requests.sql``'s columns),
    or, as the warehouse reader gives them, the implied efficiencies of a bounded sample of
    each deployment-day (``calibrate.implied_requests`` of ``calibrate.calibration_sample``);
    None means no logs, so every prediction uses priors. ``commitments``: which commitment
    paid for each deployment's (and idle instance's) GPU cost over the window; empty means
    none known, so every saving counts as cash (``commitments.apply_commitments``).
    ``saturation``: vLLM's hourly saturation signals (``marts.fct_saturation_hourly``);
    empty means none, so no deployment is held at its size by the saturation guard.
    ``prefix_cache_hours``: vLLM prefix-cache counters per deployment-hour with the day's
    prefill price (``prefix_cache.py``); empty means none, so no ``prefix_cache`` kind.
    """

    configs: dict[str, DeploymentConfig]
    observations: tuple[DailyObservation, ...]
    idle_instances: tuple[IdleInstance, ...] = ()
    requests: pl.DataFrame | None = field(default=None, compare=False)
    commitments: tuple[CommitmentCoverage, ...] = ()
    saturation: tuple[SaturationHour, ...] = ()
    prefix_cache_hours: tuple[PrefixCacheHour, ...] = ()

    def days_of(self, deployment_id: str) -> list[DailyObservation]:
        days = [o for o in self.observations if o.deployment_id == deployment_id]
        return sorted(days, key=lambda o: o.usage_date)


def by_deployment(requests: pl.DataFrame) -> Iterator[tuple[str, pl.DataFrame]]:
    """Each deployment's requests in their order, deployments in sorted order.

    ``sql/requests.sql`` orders by deployment, so its frames come as zero-copy slices: one
    pass, no copy of the day's requests (a filter per deployment scanned all of them once
    per deployment, and a 1,024-GPU day's frame is 1.6 GiB). Other frames are split with
    ``partition_by``, which keeps each part's order.
    """
    if requests.is_empty():
        return
    ids = requests["deployment_id"]
    if ids.is_sorted():
        runs = ids.rle()
        offset = 0
        for dep_id, length in zip(
            runs.struct.field("value"), runs.struct.field("len"), strict=True
        ):
            yield dep_id, requests.slice(offset, length)
            offset += length
        return
    parts = requests.partition_by("deployment_id", maintain_order=True, as_dict=True)
    for (dep_id,), part in sorted(parts.items(), key=lambda kv: (kv[0][0] is None, kv[0][0] or "")):
        yield dep_id, part
