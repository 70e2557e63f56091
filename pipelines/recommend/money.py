"""Recommendation money as Decimal: where the engine's float physics meets dollars.

The cost model and the load checks compute in floats; a recommendation's dollars do not.
Every float that carries money into a recommendation (an observed daily cost, a price per
GPU-hour) enters through ``usd``, which takes the shortest decimal that round-trips the
float (``0.1`` becomes ``Decimal('0.1')``, not 0.1000000000000000055...), and everything
after that is Decimal arithmetic. Daily figures are kept to the micro-dollar, monthly ones
to the cent, so the table shows ``7133.18`` and never ``7133.183999999999``.
"""

from __future__ import annotations

from decimal import Decimal

from pipelines.costmodel.units import HOURS_PER_DAY, per_month

CENT = Decimal("0.01")
MICRO_USD = Decimal("0.000001")


def usd(amount: Decimal | float | int | str) -> Decimal:
    """``amount`` as an exact Decimal (a float by its shortest round-tripping repr)."""
    if isinstance(amount, Decimal):
        return amount
    if isinstance(amount, float):
        return Decimal(repr(amount))
    return Decimal(amount)


def daily_usd(amount: Decimal | float | int | str) -> Decimal:
    """A USD-per-day figure, to the micro-dollar."""
    return usd(amount).quantize(MICRO_USD)


def gpu_daily_usd(num_gpus: int, usd_per_gpu_hour: Decimal | float) -> Decimal:
    """What ``num_gpus`` GPUs cost per day at ``usd_per_gpu_hour``, to the micro-dollar."""
    return (num_gpus * usd(usd_per_gpu_hour) * HOURS_PER_DAY).quantize(MICRO_USD)


def monthly_usd(daily: Decimal) -> Decimal:
    """A daily Decimal amount over a month of 365/12 days, to the cent."""
    return per_month(daily).quantize(CENT)


def monthly_saving_usd(current_daily: Decimal, proposed_daily: Decimal) -> Decimal:
    """(current − proposed) × 365/12, to the cent: the ``monthly_savings_usd`` of a row."""
    return monthly_usd(current_daily - proposed_daily)
