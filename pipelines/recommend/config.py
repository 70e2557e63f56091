"""The ``recommend:`` section of ``unitcost.yaml``: the engine's policy and API price table.

```yaml
recommend:
  policy:                       # any field of recommend.policy.Policy; unset ones keep defaults
    min_replicas_kept: 2
    slo_p95_ttft_ms: 3000
    min_monthly_savings_usd: 500
    gpu_price_overrides: {h100-sxm: 2.10}
  api_prices: prices/api.csv    # replaces the shipped data/api_prices.csv (same columns)
  calibration:                  # how fct_efficiency_daily scores a day (out of sample)
    window_days: 7              # fit on the days before it, at most this many
    min_requests: 300           # ... with at least this many usable requests
    min_days: 1                 # ... over at least this many days; else its group or the prior
```

Validated like the rest of the config: unknown keys, out-of-range values, unknown GPU ids or
precisions and a bad price file are each reported as ``file:line: key.path: message``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from pipelines.costmodel.catalog import gpu_ids
from pipelines.costmodel.precision import PRECISIONS
from pipelines.recommend.api_prices import load_api_prices
from pipelines.recommend.policy import Policy
from pipelines.yamlconf import StrictModel

Share = Annotated[float, Field(ge=0, lt=1)]
Limit = Annotated[float, Field(gt=0, le=1)]
Positive = Annotated[float, Field(gt=0)]
Usd = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class PolicyConfig(StrictModel):
    """``Policy`` as YAML: every field optional (None keeps ``Policy``'s default)."""

    min_monthly_savings_usd: Usd | None = None
    min_savings_fraction: Share | None = None
    max_peak_busy_observed: Limit | None = None
    max_peak_busy_predicted: Limit | None = None
    censored_busy: Limit | None = None
    max_peak_waiting_p95_requests: Annotated[float, Field(ge=0)] | None = None
    max_peak_preemptions: Annotated[int, Field(ge=0)] | None = None
    min_replicas_kept: Annotated[int, Field(ge=1)] | None = None
    min_context_tokens: Annotated[int, Field(ge=1)] | None = None
    kv_headroom: Annotated[float, Field(ge=1)] | None = None
    slo_p95_tpot_ms: Positive | None = None
    slo_p95_ttft_ms: Positive | None = None
    quantize_from: list[str] | None = None
    quantize_to: list[str] | None = None
    distill_min_extra_monthly_savings_usd: Usd | None = None
    distill_min_savings_fraction: Share | None = None
    distill_max_payback_months: Positive | None = None
    distill_one_off_usd: Usd | None = None
    distill_token_budget: Positive | None = None
    distill_epochs: Positive | None = None
    distill_generation_mfu: Limit | None = None
    distill_training_mfu: Limit | None = None
    api_margin: Share | None = None
    api_min_monthly_savings_usd: Usd | None = None
    prefix_cache_quiet_hour_share: Limit | None = None
    prefix_cache_min_hit_rate_gap: Limit | None = None
    days_for_full_confidence: Annotated[int, Field(ge=1)] | None = None
    gpu_price_overrides: dict[str, Positive] | None = None

    @field_validator("quantize_from", "quantize_to")
    @classmethod
    def _weight_precisions(cls, value: list[str] | None) -> list[str] | None:
        unknown = [p for p in value or [] if p not in PRECISIONS]
        if unknown:
            raise ValueError(
                f"the cost model has no weight precision {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(PRECISIONS)}"
            )
        return value

    @field_validator("gpu_price_overrides")
    @classmethod
    def _known_gpus(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        unknown = [g for g in value or {} if g not in gpu_ids()]
        if unknown:
            raise ValueError(
                f"unknown GPU type {', '.join(map(repr, unknown))}; known: {', '.join(gpu_ids())}"
            )
        return value

    def to_policy(self) -> Policy:
        """The engine's ``Policy``: these values over its defaults."""
        values = self.model_dump(exclude_none=True)
        for name in ("quantize_from", "quantize_to"):
            if name in values:
                values[name] = tuple(values[name])
        return Policy(**values)


class CalibrationConfig(StrictModel):
    """Out-of-sample calibration of the efficiency rows (``calibrate.calibrate_days``)."""

    window_days: Annotated[int, Field(ge=1, le=90)] = 7
    min_requests: Annotated[int, Field(ge=1)] = 300
    min_days: Annotated[int, Field(ge=1)] = 1


class RecommendConfig(StrictModel):
    policy: PolicyConfig = PolicyConfig()
    calibration: CalibrationConfig = CalibrationConfig()
    # a CSV with the columns of pipelines/recommend/data/api_prices.csv; relative to the
    # config file's folder
    api_prices: Annotated[str, Field(min_length=1)] | None = None

    @field_validator("api_prices")
    @classmethod
    def _readable_price_table(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        path = resolve_api_prices(value, _base_dir(info))
        if not path.is_file():
            raise ValueError(f"price table {str(path)!r} not found")
        try:
            load_api_prices(path)
        except ValueError as exc:
            raise ValueError(f"price table {str(path)!r}: {exc}") from None
        return value


def _base_dir(info: ValidationInfo) -> Path:
    context = info.context if isinstance(info.context, dict) else {}
    return Path(context.get("base_dir", "."))


def resolve_api_prices(value: str, base_dir: Path) -> Path:
    path = Path(value).expanduser()
    return (path if path.is_absolute() else base_dir / path).resolve()
