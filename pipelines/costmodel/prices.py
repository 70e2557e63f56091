"""On-demand GPU instance prices, with user overrides (negotiated rates, on-prem amortised).

The shipped table (``data/instance_prices.csv``) carries provider, region, source, date and
whether the figure was checked against a bill or a live page (``verified``); list prices
change, so treat unverified rows as defaults to override, not facts.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache

from pipelines.costmodel.catalog import DATA_DIR, gpu_ids

INSTANCE_PRICES_PATH = DATA_DIR / "instance_prices.csv"
OVERRIDE_KEYS = {"usd_per_hour", "gpus", "gpu_type", "provider", "region", "note"}


@dataclass(frozen=True)
class InstancePrice:
    """The hourly price of one instance type and the GPUs it carries."""

    instance_type: str
    provider: str
    gpu_id: str
    gpus_per_instance: int
    usd_per_hour: float
    region: str
    source_url: str
    as_of: str
    verified: bool
    note: str = ""

    @property
    def usd_per_gpu_hour(self) -> float:
        return self.usd_per_hour / self.gpus_per_instance


@cache
def _shipped_prices() -> tuple[InstancePrice, ...]:
    with INSTANCE_PRICES_PATH.open(newline="") as fh:
        return tuple(
            InstancePrice(
                instance_type=row["instance_type"],
                provider=row["provider"],
                gpu_id=row["gpu_id"],
                gpus_per_instance=int(row["gpus_per_instance"]),
                usd_per_hour=float(row["usd_per_hour"]),
                region=row["region"],
                source_url=row["source_url"],
                as_of=row["as_of"],
                verified=row["verified"] == "true",
                note=row["note"],
            )
            for row in csv.DictReader(fh)
        )


def instance_prices() -> dict[str, InstancePrice]:
    """The shipped on-demand prices keyed by instance type (a fresh dict each call)."""
    return {price.instance_type: price for price in _shipped_prices()}


def _overridden(
    name: str, base: InstancePrice | None, fields: Mapping[str, object]
) -> InstancePrice:
    unknown = set(fields) - OVERRIDE_KEYS
    if unknown:
        raise ValueError(
            f"price override {name!r}: unknown keys {sorted(unknown)}; "
            f"allowed {sorted(OVERRIDE_KEYS)}"
        )
    if base is None:
        missing = {"usd_per_hour", "gpus", "gpu_type"} - set(fields)
        if missing:
            raise ValueError(f"new instance type {name!r} needs {sorted(missing)}")
        base = InstancePrice(name, "custom", "", 1, 0.0, "", "user override", "", True)
    gpu_id = str(fields.get("gpu_type", base.gpu_id))
    if gpu_id not in gpu_ids():
        raise ValueError(f"price override {name!r}: unknown gpu_type {gpu_id!r}")
    usd_per_hour = float(fields.get("usd_per_hour", base.usd_per_hour))
    gpus = int(fields.get("gpus", base.gpus_per_instance))
    if usd_per_hour < 0 or gpus < 1:
        raise ValueError(f"price override {name!r}: usd_per_hour must be >= 0 and gpus >= 1")
    return replace(
        base,
        gpu_id=gpu_id,
        usd_per_hour=usd_per_hour,
        gpus_per_instance=gpus,
        provider=str(fields.get("provider", base.provider)),
        region=str(fields.get("region", base.region)),
        note=str(fields.get("note", "user override")),
        source_url="user override",
        verified=True,
    )


def apply_price_overrides(
    prices: Mapping[str, InstancePrice], overrides: Mapping[str, Mapping[str, object]]
) -> dict[str, InstancePrice]:
    """Merge user prices on top of a price table; a pure function (inputs are not modified).

    Parameters
    ----------
    prices
        Usually ``instance_prices()``.
    overrides
        ``{instance_type: {"usd_per_hour": float, "gpus": int, "gpu_type": gpu_id, ...}}``.
        For a known instance type any subset of keys overrides it; a new instance type (an
        on-prem server, a reserved deal) needs all three.

    Raises
    ------
    ValueError
        On unknown keys, unknown GPU ids, negative prices or missing fields.

    Examples
    --------
    >>> merged = apply_price_overrides(instance_prices(), {
    ...     "p5.48xlarge": {"usd_per_hour": 40.0},
    ...     "onprem-h100": {"usd_per_hour": 12.0, "gpus": 8, "gpu_type": "h100-sxm"}})
    >>> merged["onprem-h100"].usd_per_gpu_hour
    1.5
    """
    merged = dict(prices)
    for name, fields in overrides.items():
        merged[name] = _overridden(name, merged.get(name), fields)
    return merged


def cheapest_instance(
    gpu_id: str, prices: Mapping[str, InstancePrice] | None = None
) -> InstancePrice | None:
    """The instance with the lowest $/GPU-hour for ``gpu_id``, or None if none is priced."""
    table = instance_prices() if prices is None else prices
    offers = [price for price in table.values() if price.gpu_id == gpu_id]
    return min(offers, key=lambda price: price.usd_per_gpu_hour, default=None)
