"""What the engine writes: rows for ``fct_efficiency_daily`` and ``fct_recommendations``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import polars as pl

KINDS = ("right_size", "quantize", "distill", "api")


@dataclass(frozen=True)
class EfficiencyRow:
    """Predicted vs actual cost of one deployment on one day (``fct_efficiency_daily``).

    $/1M figures are USD per million tokens. ``efficiency`` = predicted / actual cost. The
    gap components are USD for the day and sum, with the prediction, to the actual cost:
    ``predicted + over_provisioning + idle + batching + kernel_efficiency + residual``.
    ``efficiency_source`` is ``calibrated`` or ``prior``.
    """

    usage_date: dt.date
    deployment_id: str
    predicted_usd_per_1m_input_tokens: float
    predicted_usd_per_1m_output_tokens: float
    actual_usd_per_1m_input_tokens: float
    actual_usd_per_1m_output_tokens: float
    efficiency: float
    predicted_cost_usd: float
    actual_cost_usd: float
    gap_over_provisioning_usd: float
    gap_idle_usd: float
    gap_batching_usd: float
    gap_kernel_efficiency_usd: float
    gap_residual_usd: float
    efficiency_source: str
    mbu_used: float
    mfu_used: float
    regime: str


@dataclass(frozen=True)
class Recommendation:
    """One recommended change (``fct_recommendations``).

    ``deployment_id`` is None for an instance that serves no deployment (then
    ``instance_id`` names it). ``monthly_savings_usd`` = 30 × (current − proposed daily
    cost) at the observed volume. ``target`` describes the proposed config, e.g.
    ``{"gpu_id": "l4", "num_gpus": 1}``. ``payback_months`` only for ``distill``.
    """

    deployment_id: str | None
    kind: str
    summary: str
    monthly_savings_usd: float
    confidence: float
    assumptions: tuple[str, ...]
    as_of_date: dt.date
    target: dict
    current_daily_cost_usd: float
    proposed_daily_cost_usd: float
    payback_months: float | None = None
    instance_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence}")


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


_TYPES = {"float": pl.Float64, "str": pl.String, "dt.date": pl.Date, "int": pl.Int64}


def _schema(cls: type) -> dict:
    out = {}
    for name, annotation in cls.__annotations__.items():
        base = str(annotation).replace(" | None", "")
        out[name] = _TYPES.get(base, pl.Object)
    return out
