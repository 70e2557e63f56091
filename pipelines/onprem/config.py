"""``onprem:`` in unitcost.yaml: what GPUs without a cloud bill cost.

Each entry names a host (``host``) or a glob of hosts (``host_pattern``, matched against the
hosts the registry and the DCGM telemetry name) and prices it per UTC day in three parts:

* **amortisation**: straight-line, (capital price − residual value) / months, per GPU or per
  host, turned into a day by unitcost's one month (365/12 days, ``costmodel.units``);
* **energy**: the GPUs' DCGM energy counter (kWh) × ``usd_per_kwh`` × ``pue``; GPU time with
  no counter reading is priced at ``fallback_power_w_per_gpu`` (default the GPU's TDP from
  the catalog) on its own line, never left at zero;
* **overhead**: a fixed amount per host per month (rack, network, support contracts).

Money is written as quoted decimals (a YAML float has already lost exactness) and is priced
in USD. ``rates_frame`` turns the config into ``raw.onprem_hosts``: one row per entry with
its per-day amortisation and overhead already in DECIMAL; the dbt model
``int_onprem__line_items`` prices the energy and writes the billing-like lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import Field, field_validator, model_validator

from pipelines.costmodel.catalog import gpu_catalog_rows
from pipelines.costmodel.units import per_day
from pipelines.registry import GpuAllocation
from pipelines.yamlconf import StrictModel, blame

# DECIMAL(38,12): the scale every amount in the warehouse has.
PICO = Decimal("1e-12")
MONEY_TYPE = pl.Decimal(38, 12)
USD_PER_KWH_TYPE = pl.Decimal(18, 6)
PUE_TYPE = pl.Decimal(6, 3)
GLOB_CHARS = set("*?[")


def _decimal(value: Any, *, places: int, what: str, minimum: Decimal = Decimal(0)) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f'write {what} as a quoted decimal string, e.g. "1.25", not {value!r}')
    try:
        amount = Decimal(value.strip())
    except ArithmeticError:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not amount.is_finite() or amount.as_tuple().exponent < -places:
        raise ValueError(f"{what} {value!r} must be a number with at most {places} decimals")
    if amount < minimum:
        raise ValueError(f"{what} {value!r} must be at least {minimum}")
    return amount


def _money(value: Any) -> Decimal:
    return _decimal(value, places=6, what="an amount in USD")


class Capital(StrictModel):
    """What the hardware cost, written off straight-line over ``amortisation_months``."""

    per: Literal["gpu", "host"]
    price_usd: Decimal
    amortisation_months: Annotated[int, Field(ge=1, le=240)]
    residual_usd: Decimal = Decimal(0)

    @field_validator("price_usd", "residual_usd", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Decimal:
        return _money(value)

    @model_validator(mode="after")
    def _residual_below_price(self) -> Capital:
        if self.residual_usd > self.price_usd:
            raise blame("residual_usd", "the residual value cannot exceed the price")
        return self


class OnPremHost(StrictModel):
    """One host, or every host a glob matches, and how it is priced."""

    host: Annotated[str, Field(min_length=1)] | None = None
    host_pattern: Annotated[str, Field(min_length=1)] | None = None
    gpu: GpuAllocation
    capital: Capital
    overhead_usd_per_month: Decimal = Decimal(0)
    fallback_power_w_per_gpu: Annotated[float, Field(gt=0, le=5000)] | None = None
    usd_per_kwh: Decimal | None = None  # this entry's rate, else the section's
    pue: Decimal | None = None
    in_service_from: dt.date | None = None
    retired_on: dt.date | None = None  # exclusive: the first day it no longer costs

    @field_validator("overhead_usd_per_month", mode="before")
    @classmethod
    def _overhead(cls, value: Any) -> Decimal:
        return _money(value)

    @field_validator("usd_per_kwh", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Decimal | None:
        return None if value is None else _kwh_rate(value)

    @field_validator("pue", mode="before")
    @classmethod
    def _pue(cls, value: Any) -> Decimal | None:
        return None if value is None else _pue_value(value)

    @model_validator(mode="after")
    def _one_selector(self) -> OnPremHost:
        if (self.host is None) == (self.host_pattern is None):
            raise ValueError("give exactly one of host or host_pattern")
        if self.host is not None and GLOB_CHARS & set(self.host):
            raise blame("host", f"{self.host!r} is a pattern: write it as host_pattern")
        if self.host_pattern is not None and not GLOB_CHARS & set(self.host_pattern):
            raise blame("host_pattern", f"{self.host_pattern!r} has no * ? or [: use host")
        if self.in_service_from and self.retired_on and self.retired_on <= self.in_service_from:
            raise blame("retired_on", "must be after in_service_from")
        return self

    @property
    def selector(self) -> str:
        return self.host if self.host is not None else self.host_pattern  # type: ignore[return-value]


def _kwh_rate(value: Any) -> Decimal:
    rate = _decimal(value, places=6, what="usd_per_kwh")
    if rate <= 0 or rate >= 10:
        raise ValueError(f"usd_per_kwh {value!r} must be above 0 and below 10 (USD per kWh)")
    return rate


def _pue_value(value: Any) -> Decimal:
    pue = _decimal(value, places=3, what="pue", minimum=Decimal(1))
    if pue > 5:
        raise ValueError(f"pue {value!r} must be between 1 and 5 (facility / IT power)")
    return pue


class OnPremConfig(StrictModel):
    """``onprem:``: the rates of the site and the hosts it prices."""

    currency: Literal["USD"] = "USD"
    billing_account_id: Annotated[str, Field(min_length=1)] = "onprem"
    usd_per_kwh: Decimal
    pue: Decimal = Decimal(1)
    hosts: list[OnPremHost] = Field(min_length=1)

    @field_validator("usd_per_kwh", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Decimal:
        return _kwh_rate(value)

    @field_validator("pue", mode="before")
    @classmethod
    def _pue(cls, value: Any) -> Decimal:
        return _pue_value(value)

    @field_validator("hosts")
    @classmethod
    def _distinct(cls, hosts: list[OnPremHost]) -> list[OnPremHost]:
        seen: dict[str, int] = {}
        for i, entry in enumerate(hosts):
            key = ("host:" if entry.host else "pattern:") + entry.selector
            if key in seen:
                field = "host" if entry.host else "host_pattern"
                raise blame(f"[{i}].{field}", f"{entry.selector!r} is already hosts[{seen[key]}]")
            seen[key] = i
        return hosts


def _pico(amount: Decimal) -> Decimal:
    return amount.quantize(PICO, rounding=ROUND_HALF_EVEN)


def amortisation_usd_per_day(entry: OnPremHost) -> Decimal:
    """Straight-line write-off of one host for one day, to the pico-dollar."""
    units = entry.gpu.count if entry.capital.per == "gpu" else 1
    capital = entry.capital
    monthly = (capital.price_usd - capital.residual_usd) * units / capital.amortisation_months
    return _pico(per_day(monthly))


def overhead_usd_per_day(entry: OnPremHost) -> Decimal:
    return _pico(per_day(entry.overhead_usd_per_month))


def fallback_power_w(entry: OnPremHost) -> float:
    """Watts per GPU for GPU time the energy counter did not measure: configured, else TDP."""
    if entry.fallback_power_w_per_gpu is not None:
        return entry.fallback_power_w_per_gpu
    return float(gpu_catalog_rows()[entry.gpu.type]["tdp_w"])


HOSTS_SCHEMA = {
    "entry_index": pl.Int32,
    "host": pl.String,
    "host_pattern": pl.String,
    "gpu_type": pl.String,
    "gpu_count": pl.Int32,
    "billing_account_id": pl.String,
    "billing_currency": pl.String,
    "amortisation_usd_per_day": MONEY_TYPE,
    "overhead_usd_per_day": MONEY_TYPE,
    "usd_per_kwh": USD_PER_KWH_TYPE,
    "pue": PUE_TYPE,
    "fallback_power_w_per_gpu": pl.Float64,
    "in_service_from": pl.Date,
    "retired_on": pl.Date,
}


def rates_frame(config: OnPremConfig | None) -> pl.DataFrame:
    """``raw.onprem_hosts``: one row per configured entry (empty without ``onprem:``)."""
    if config is None:
        return pl.DataFrame(schema=HOSTS_SCHEMA)
    rows = [
        {
            "entry_index": i,
            "host": e.host,
            "host_pattern": e.host_pattern,
            "gpu_type": e.gpu.type,
            "gpu_count": e.gpu.count,
            "billing_account_id": config.billing_account_id,
            "billing_currency": config.currency,
            "amortisation_usd_per_day": amortisation_usd_per_day(e),
            "overhead_usd_per_day": overhead_usd_per_day(e),
            "usd_per_kwh": e.usd_per_kwh if e.usd_per_kwh is not None else config.usd_per_kwh,
            "pue": e.pue if e.pue is not None else config.pue,
            "fallback_power_w_per_gpu": fallback_power_w(e),
            "in_service_from": e.in_service_from,
            "retired_on": e.retired_on,
        }
        for i, e in enumerate(config.hosts)
    ]
    return pl.DataFrame(rows, schema=HOSTS_SCHEMA)
