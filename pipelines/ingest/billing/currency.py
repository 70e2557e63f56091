"""Billing currencies (RELIABILITY case 8): money is never summed across currencies, and a bill
in a currency other than USD needs a configured, dated rate to USD for its billing period.

The rates are ``billing.fx_rates_usd`` in unitcost.yaml (``pipelines/config.py``): per
currency, entries ``{from: DATE, rate: "USD per unit"}``; the rate of a billing period is the
entry with the latest ``from`` on or before the period's first day. The billing asset writes
them to ``raw.fx_rates_usd`` (``rates_frame``), the one table the dbt models convert with
(``int_billing__usd_rates``); ingest refuses a delivery they do not cover (``check_currencies``),
so a bill can never silently drop out of the ``_usd`` marts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

import polars as pl
import pyarrow as pa

from pipelines.config import FxRate
from pipelines.ingest.errors import SourceError

USD = "USD"
RATE_TYPE = pl.Decimal(20, 10)  # config.py refuses a rate with more digits
CURRENCY_COLUMN = {
    "focus": "BillingCurrency",
    "cur2": "line_item_currency_code",
    "cur1": "lineItem/CurrencyCode",
}

Rates = Mapping[str, Sequence[FxRate]]


def usd_rate(rates: Rates, currency: str, period: dt.date) -> Decimal | None:
    """USD per unit of ``currency`` for the billing period starting ``period``; None if no
    configured rate covers it (1 for USD)."""
    if currency == USD:
        return Decimal(1)
    covering = [r for r in rates.get(currency, ()) if r.valid_from <= period]
    return max(covering, key=lambda r: r.valid_from).rate if covering else None


def check_currencies(items: pa.Table, rates: Rates, fmt: str) -> None:
    """Fail the delivery at its first row (by file and line) whose currency has no rate to USD
    for the row's billing period. Nothing is committed: this runs before the transaction."""
    if items.num_rows == 0:
        return
    keys = ["billing_currency", "billing_period", "source_file"]
    firsts = items.group_by(keys).aggregate([("source_line", "min")]).to_pylist()
    missing = [
        r for r in firsts if usd_rate(rates, r["billing_currency"], r["billing_period"]) is None
    ]
    if not missing:
        return
    first = min(missing, key=lambda r: (r["source_file"], r["source_line_min"]))
    currency, period = first["billing_currency"], first["billing_period"]
    problem = (
        f"billing currency {currency} has no configured rate to USD for billing period "
        f"{period:%Y-%m}: add one from {period.isoformat()} or earlier under "
        f"billing.fx_rates_usd.{currency} in unitcost.yaml"
    )
    raise SourceError(
        first["source_file"],
        problem,
        line=first["source_line_min"],
        column=CURRENCY_COLUMN.get(fmt),
    )


def rates_frame(rates: Rates) -> pl.DataFrame:
    """``raw.fx_rates_usd``: one row per configured rate, valid ``[valid_from, valid_to)`` (the
    next entry's date; NULL for the newest), money-exact ``usd_per_unit``."""
    rows = []
    for currency, entries in sorted(rates.items()):
        ordered = sorted(entries, key=lambda r: r.valid_from)
        ends = [r.valid_from for r in ordered[1:]] + [None]
        rows += [
            {
                "currency": currency,
                "valid_from": r.valid_from,
                "valid_to": end,
                "usd_per_unit": r.rate,
            }
            for r, end in zip(ordered, ends, strict=True)
        ]
    schema = {
        "currency": pl.String,
        "valid_from": pl.Date,
        "valid_to": pl.Date,
        "usd_per_unit": RATE_TYPE,
    }
    return pl.DataFrame(rows, schema=schema)
