"""What the engine writes: rows for ``fct_efficiency_daily`` and ``fct_recommendations``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal

import polars as pl

KINDS = ("right_size", "quantize", "distill", "api", "prefix_cache")
MONEY_FIELDS = ("monthly_savings_usd", "current_daily_cost_usd", "proposed_daily_cost_usd")


@dataclass(frozen=True)
class EfficiencyRow:
    """What the cost model says one deployment-day's traffic takes, in GPU-seconds.

    Physics only: ``fct_efficiency_daily`` prices these at the deployment's effective $ per
    GPU-second and sets them beside the actual cost (DECIMAL, in SQL), so money is never a
    float here. Each ``*_gpu_seconds`` is for the requests of hours telemetry observed
    (``observed_request_share`` of the day's requests), the part whose busy time was
    measured; unobserved hours are priced as observed on both sides.

    ``modelled_busy_gpu_seconds``: at the observed batch ``batch_observed``, on the GPUs,
    TP and precision deployed, with the efficiency fitted on earlier days (or the prior;
    ``efficiency_source``): the number that tests the cost model against DCGM's busy time.
    ``reference_gpu_seconds``: the same at the memory-allowed batch ``batch_max`` and the
    Tier-0 prior; ``kernel_gpu_seconds`` at ``batch_max`` and the fitted efficiency;
    ``floor_gpu_seconds``: the prior at the memory-allowed batch of the fewest GPUs that fit
    (``tensor_parallel_min``), no idle. ``*_prefill_share``: prefill's share of that time
    (the same 1/concurrency rule as the actual split). ``gpus_needed``: fewest GPUs, in
    replicas of ``tensor_parallel_min``, that fit and carry the measured busy time.
    """

    usage_date: dt.date
    deployment_id: str
    requests: int
    observed_request_share: float
    batch_observed: float
    batch_max: float
    gpu_count: int
    tensor_parallel: int
    tensor_parallel_min: int
    gpus_needed: int
    modelled_busy_gpu_seconds: float
    modelled_prefill_share: float
    kernel_gpu_seconds: float
    reference_gpu_seconds: float
    floor_gpu_seconds: float
    floor_prefill_share: float
    efficiency_source: str
    calibration_scope: str
    calibration_days: int
    calibration_requests: int
    mbu_used: float
    mfu_used: float
    regime: str


@dataclass(frozen=True)
class Recommendation:
    """One recommended change (``fct_recommendations``).

    ``deployment_id`` is None for an instance that serves no deployment (then
    ``instance_id`` names it). Money is ``Decimal``, never float: the daily costs to the
    micro-dollar, ``monthly_savings_usd`` = (current − proposed daily cost) × 365/12 at the
    observed volume, to the cent (``money.monthly_saving_usd``). ``target`` describes the
    proposed config, e.g. ``{"gpu_id": "l4", "num_gpus": 1}``. ``payback_months`` only for
    ``distill``.
    """

    deployment_id: str | None
    kind: str
    summary: str
    monthly_savings_usd: Decimal
    confidence: float
    assumptions: tuple[str, ...]
    as_of_date: dt.date
    target: dict
    current_daily_cost_usd: Decimal
    proposed_daily_cost_usd: Decimal
    payback_months: float | None = None
    instance_id: str | None = None
    # Set by commitments.apply_commitments (the engine's last step): the saving as cash now
    # + deferred (saved after the commitment ends, or freed for reuse until then), and the
    # commitments behind the deferred part (ids comma-separated; end: when the last ends).
    cash_monthly_savings_usd: Decimal | None = None
    deferred_monthly_savings_usd: Decimal | None = None
    commitment_ids: str | None = None
    commitment_kind: str | None = None
    commitment_end_date: dt.date | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence}")
        floats = [m for m in MONEY_FIELDS if not isinstance(getattr(self, m), Decimal)]
        if floats:
            raise TypeError(f"money must be Decimal, not float: {', '.join(floats)}")


def to_rows(items: Iterable[EfficiencyRow | Recommendation]) -> list[dict]:
    """Plain dicts, one per row; assumptions joined into one string, target as text."""
    rows = []
    for item in items:
        row = asdict(item)
        if isinstance(item, Recommendation):
            row["assumptions"] = " ".join(item.assumptions)
            row["target"] = ", ".join(f"{k}={v}" for k, v in sorted(item.target.items()))
        rows.append(row)
    return rows


def efficiency_frame(rows: Iterable[EfficiencyRow]) -> pl.DataFrame:
    """``fct_efficiency_daily`` as a polars frame (one row per deployment and day)."""
    return pl.DataFrame(to_rows(rows), schema=_schema(EfficiencyRow))


def recommendation_frame(recs: Iterable[Recommendation]) -> pl.DataFrame:
    """``fct_recommendations`` as a polars frame (one row per recommendation)."""
    schema = _schema(Recommendation) | {"assumptions": pl.String, "target": pl.String}
    return pl.DataFrame(to_rows(recs), schema=schema)


_TYPES = {
    "float": pl.Float64,
    "str": pl.String,
    "dt.date": pl.Date,
    "int": pl.Int64,
    "Decimal": pl.Decimal(38, 12),  # as the marts store money
}


def _schema(cls: type) -> dict:
    out = {}
    for name, annotation in cls.__annotations__.items():
        base = str(annotation).replace(" | None", "")
        out[name] = _TYPES.get(base, pl.Object)
    return out
