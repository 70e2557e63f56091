"""Leaf models and helpers of the fleet spec (``spec.py``, ``planted.py``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from pipelines.fleet.traces import TRACE_NAMES
from pipelines.yamlconf import StrictModel

Fraction = Annotated[float, Field(ge=0, lt=1)]
TraceName = Literal["azure_code", "azure_conv", "mooncake_conversation", "mooncake_synthetic"]
assert set(TraceName.__args__) == set(TRACE_NAMES)  # type: ignore[attr-defined]


def usd(value: Any) -> str:
    """Validate a money amount written as a quoted decimal string; return it unchanged."""
    # A YAML float (55.04) has already lost exactness; insist on the quoted decimal.
    if not isinstance(value, str):
        raise ValueError(f'write money as a quoted decimal string, e.g. "55.04", not {value!r}')
    try:
        amount = Decimal(value)
    except ArithmeticError:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -6:
        raise ValueError(f"{value!r} must be a number >= 0 with at most 6 decimals")
    return value


def context_of(info: ValidationInfo) -> dict | None:
    """The mutable validation context ``load_spec`` passes, or None when validated bare."""
    return info.context if isinstance(info.context, dict) else None


class Traffic(StrictModel):
    """Volume at scale 1 (give exactly one) and the daily shape; lengths come from ``trace``."""

    trace: TraceName
    requests_per_day: Annotated[float, Field(ge=0)] | None = None
    tokens_per_day: Annotated[float, Field(ge=0)] | None = None  # input + output tokens
    diurnal_amplitude: Fraction = 0.4
    peak_hour_utc: Annotated[float, Field(ge=0, lt=24)] = 15.0
    # Who sends it: each tenant's share of the requests, drawn independently per request;
    # the share left over (1 - sum) is logged with no tenant. {} = nobody is named.
    tenants: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")], Fraction] = {}

    @model_validator(mode="after")
    def _one_volume(self) -> Traffic:
        if (self.requests_per_day is None) == (self.tokens_per_day is None):
            raise ValueError("give exactly one of requests_per_day or tokens_per_day")
        if sum(self.tenants.values()) > 1:
            raise ValueError("tenant shares add up to more than 1")
        return self


class Service(StrictModel):
    """Per replica: ``tpot_ms = tpot_base_ms + tpot_per_seq_ms * batch`` (see ``service.py``)."""

    prefill_tokens_per_s: Annotated[float, Field(gt=0)]
    tpot_base_ms: Annotated[float, Field(gt=0)]
    tpot_per_seq_ms: Annotated[float, Field(ge=0)]
    max_batch: Annotated[int, Field(ge=1)]
    error_rate: Fraction = 0.0
    # KV-cache slots (tokens) of one replica; None: never full. Past it the engine preempts
    # (kv_pressure.py): its metrics show preemptions and the preempted requests waiting.
    kv_capacity_tokens: Annotated[int, Field(ge=1)] | None = None
    # Prefix-cache capacity per replica in tokens (``prefix_cache.py``); None: large enough
    # for every repeated prefix of the trace, 0: prefix caching disabled.
    prefix_cache_tokens: Annotated[int, Field(ge=0)] | None = None
