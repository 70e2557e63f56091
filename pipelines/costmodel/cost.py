"""From throughput to dollars: $/1M input, output and blended tokens for a traffic profile.

    $/token = price_GPU_hr × N_GPU / (tokens_per_s × 3600 × U)        (COSTMODEL.md §3)

Billed GPU-hours are split between input and output tokens by busy-time attribution
(S_prefill vs S_decode). With a demand, the deployment is *footprint-bound* when memory, not
traffic, sets the GPU count (small deployments, §3), else *throughput-bound*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.memory import min_tensor_parallel
from pipelines.costmodel.throughput import ThroughputEstimate, estimate_throughput
from pipelines.costmodel.units import HOURS_PER_DAY, SECONDS_PER_DAY, per_month


@dataclass(frozen=True)
class TrafficProfile:
    """Requests of mean ISL / OSL arriving at ``requests_per_s`` (None: run at capacity).

    ``concurrency`` caps concurrent sequences over the deployment (an SLO or client limit);
    None lets the KV pool decide, as in an offline benchmark.
    """

    input_tokens: float
    output_tokens: float
    requests_per_s: float | None = None
    concurrency: int | None = None

    @classmethod
    def from_tokens_per_day(
        cls,
        tokens_per_day: float,
        input_tokens: float,
        output_tokens: float,
        concurrency: int | None = None,
    ) -> TrafficProfile:
        """Traffic of ``tokens_per_day`` input + output tokens per day.

        Examples
        --------
        >>> round(TrafficProfile.from_tokens_per_day(1e8, 1000, 200).requests_per_s, 3)
        0.965
        """
        requests_per_day = tokens_per_day / (input_tokens + output_tokens)
        return cls(input_tokens, output_tokens, requests_per_day / SECONDS_PER_DAY, concurrency)

    @property
    def tokens_per_s(self) -> float | None:
        if self.requests_per_s is None:
            return None
        return self.requests_per_s * (self.input_tokens + self.output_tokens)


@dataclass(frozen=True)
class CostPrediction:
    """Predicted cost of serving a traffic profile on a deployment.

    ``min_gpus`` is the memory floor (one replica at its smallest tensor-parallel degree);
    ``gpus_for_throughput`` the GPUs the demand needs at ``utilisation``; ``billed_gpus``
    the deployment's own count. Dollar figures are all-in (billed hours, idle included).
    """

    deployment: Deployment
    throughput: ThroughputEstimate
    usd_per_gpu_hour: float
    utilisation: float
    min_gpus: int
    gpus_for_throughput: int | None
    regime: str
    served_requests_per_s: float
    meets_demand: bool
    daily_cost_usd: float
    usd_per_1m_input_tokens: float
    usd_per_1m_output_tokens: float
    usd_per_1m_blended_tokens: float

    @property
    def billed_gpus(self) -> int:
        return self.deployment.num_gpus

    @property
    def monthly_cost_usd(self) -> float:
        """A month of 365/12 days (``units.per_month``)."""
        return per_month(self.daily_cost_usd)


def _gpus_for_demand(
    estimate: ThroughputEstimate, requests_per_s: float, utilisation: float
) -> int:
    per_replica = estimate.requests_per_s / estimate.replicas * utilisation
    return max(1, math.ceil(requests_per_s / per_replica)) * estimate.tensor_parallel


def predict_cost(
    deployment: Deployment,
    traffic: TrafficProfile,
    usd_per_gpu_hour: float,
    utilisation: float = 1.0,
) -> CostPrediction:
    """Predict $/1M tokens for ``traffic`` served by ``deployment``.

    Parameters
    ----------
    deployment
        The GPUs actually billed (``num_gpus``) and how they serve.
    traffic
        Mean ISL / OSL and demand; without demand the deployment runs at capacity.
    usd_per_gpu_hour
        All-in price of one GPU-hour, USD (``prices.InstancePrice.usd_per_gpu_hour``).
    utilisation
        U, the share of capacity usable in billed time (0-1]: headroom for peaks.

    Raises
    ------
    throughput.DoesNotFitError
        If the LLM fits no split of the deployment's GPUs.

    Examples
    --------
    >>> d = Deployment("llama-3.1-8b", "h100-sxm", 1, "fp8")
    >>> p = predict_cost(d, TrafficProfile.from_tokens_per_day(1e8, 1000, 200), 6.88)
    >>> p.regime, round(p.daily_cost_usd, 2)
    ('footprint-bound', 165.12)
    """
    if not 0.0 < utilisation <= 1.0:
        raise ValueError(f"utilisation must be in (0, 1], got {utilisation}")
    isl, osl = traffic.input_tokens, traffic.output_tokens
    estimate = estimate_throughput(deployment, isl, osl, traffic.concurrency)
    min_gpus = min_tensor_parallel(deployment, isl, osl) or estimate.tensor_parallel
    capacity_rps = estimate.requests_per_s * utilisation
    if traffic.requests_per_s is None:
        gpus_needed, regime, served_rps = None, "at-capacity", capacity_rps
    else:
        gpus_needed = _gpus_for_demand(estimate, traffic.requests_per_s, utilisation)
        regime = "footprint-bound" if gpus_needed <= min_gpus else "throughput-bound"
        served_rps = min(traffic.requests_per_s, capacity_rps)
    daily_cost = usd_per_gpu_hour * deployment.num_gpus * HOURS_PER_DAY
    input_per_day = served_rps * isl * SECONDS_PER_DAY
    output_per_day = served_rps * osl * SECONDS_PER_DAY
    share = estimate.prefill_time_share
    return CostPrediction(
        deployment=deployment,
        throughput=estimate,
        usd_per_gpu_hour=usd_per_gpu_hour,
        utilisation=utilisation,
        min_gpus=min_gpus,
        gpus_for_throughput=gpus_needed,
        regime=regime,
        served_requests_per_s=served_rps,
        meets_demand=traffic.requests_per_s is None or capacity_rps >= traffic.requests_per_s,
        daily_cost_usd=daily_cost,
        usd_per_1m_input_tokens=1e6 * daily_cost * share / input_per_day,
        usd_per_1m_output_tokens=1e6 * daily_cost * (1 - share) / output_per_day,
        usd_per_1m_blended_tokens=1e6 * daily_cost / (input_per_day + output_per_day),
    )


def right_size(
    deployment: Deployment, traffic: TrafficProfile, utilisation: float = 1.0
) -> Deployment:
    """The deployment an operator would run for ``traffic`` on this GPU type.

    With a demand: every valid tensor-parallel degree that fits is sized to carry it,
    N_GPU = max(memory floor, demand / per-replica throughput) (COSTMODEL.md §3), and the
    fewest GPUs win, ties to the higher throughput per GPU. Without demand: one replica at the
    degree with the most output tokens/s per GPU (``sizing.choose_replicas``).

    Raises
    ------
    throughput.DoesNotFitError
        If no degree within a node fits.

    Examples
    --------
    >>> right_size(Deployment("llama-3.1-70b", "h100-sxm", 8, "fp8"),
    ...            TrafficProfile.from_tokens_per_day(1e8, 1000, 200)).num_gpus
    2
    """
    from pipelines.costmodel.sizing import choose_replicas

    return choose_replicas(
        deployment,
        traffic.input_tokens,
        traffic.output_tokens,
        traffic.requests_per_s,
        traffic.concurrency,
        utilisation,
    ).deployment
