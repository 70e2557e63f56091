"""Hosted-API list prices: a dated, sourced table, shipped or given in ``unitcost.yaml``.

The shipped table is ``data/api_prices.csv``; ``recommend.api_prices: <file>`` in the run
config replaces it (same columns). One row per provider and hosted LLM:

``provider, llm_id, api_model``
    Who serves it, the LLM catalog id it serves, and the provider's model name.
``usd_per_1m_input_tokens, usd_per_1m_cached_input_tokens, usd_per_1m_output_tokens``
    List prices, USD per 1M tokens, as decimals. Cached input is prompt-cache hits; write
    the input price again where the provider gives no cache discount.
``source_url, as_of, verified, note``
    Where the price was read, when (``YYYY-MM`` or ``YYYY-MM-DD``), whether it was checked
    against that page on that date (``true``/``false``), and anything a reader should know.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from pipelines.costmodel.catalog import llm_ids
from pipelines.recommend.money import daily_usd, usd
from pipelines.recommend.workload import Workload

API_PRICES_PATH = Path(__file__).parent / "data" / "api_prices.csv"
PRICE_COLUMNS = (
    "usd_per_1m_input_tokens",
    "usd_per_1m_cached_input_tokens",
    "usd_per_1m_output_tokens",
)
_AS_OF = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")


@dataclass(frozen=True)
class ApiPrice:
    """List price of one hosted LLM, USD per 1M input, cached input and output tokens."""

    provider: str
    llm_id: str
    api_model: str
    usd_per_1m_input_tokens: Decimal
    usd_per_1m_cached_input_tokens: Decimal
    usd_per_1m_output_tokens: Decimal
    source_url: str = ""
    as_of: str = ""
    verified: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        for name in PRICE_COLUMNS:  # plain numbers are accepted; the arithmetic is Decimal
            object.__setattr__(self, name, usd(getattr(self, name)))

    def daily_cost_usd(self, w: Workload) -> Decimal:
        """What a day of ``w``'s tokens costs here: uncached input, cached input and output
        each at its own price (prompt-cache hits as the deployment's own logs count them)."""
        cached = usd(min(w.cached_tokens_per_day, w.input_tokens_per_day))
        uncached = usd(w.input_tokens_per_day) - cached
        total = (
            uncached * self.usd_per_1m_input_tokens
            + cached * self.usd_per_1m_cached_input_tokens
            + usd(w.output_tokens_per_day) * self.usd_per_1m_output_tokens
        )
        return daily_usd(total / 1_000_000)


def _price(row: dict, column: str) -> Decimal:
    try:
        value = Decimal(row[column])
    except (InvalidOperation, TypeError):
        raise ValueError(f"{column} {row[column]!r} is not a decimal number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{column} {row[column]!r} must be a number >= 0")
    return value


def _row(row: dict) -> ApiPrice:
    if row["llm_id"] not in llm_ids():
        raise ValueError(f"llm_id {row['llm_id']!r} is not in the LLM catalog")
    prices = {c: _price(row, c) for c in PRICE_COLUMNS}
    if prices["usd_per_1m_cached_input_tokens"] > prices["usd_per_1m_input_tokens"]:
        raise ValueError("usd_per_1m_cached_input_tokens is above usd_per_1m_input_tokens")
    if not _AS_OF.match(row["as_of"] or ""):
        raise ValueError(f"as_of {row['as_of']!r} is not YYYY-MM or YYYY-MM-DD")
    if row["verified"] not in ("true", "false"):
        raise ValueError(f"verified {row['verified']!r} is not true or false")
    return ApiPrice(
        row["provider"],
        row["llm_id"],
        row["api_model"],
        **prices,
        source_url=row["source_url"],
        as_of=row["as_of"],
        verified=row["verified"] == "true",
        note=row.get("note") or "",
    )


def load_api_prices(path: str | Path) -> tuple[ApiPrice, ...]:
    """Read and check a price table; ``ValueError`` names the line and column at fault."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        required = [f.name for f in fields(ApiPrice) if f.name != "note"]
        missing = [name for name in required if name not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"line 1: missing columns {', '.join(missing)}")
        out = []
        for row in reader:
            try:
                out.append(_row(row))
            except ValueError as exc:
                raise ValueError(f"line {reader.line_num}: {exc}") from None
    return tuple(out)


@cache
def shipped_api_prices() -> tuple[ApiPrice, ...]:
    return load_api_prices(API_PRICES_PATH)


def cheapest_api(llm_ids_: Iterable[str], prices: Iterable[ApiPrice], w: Workload):
    """The offer for any of ``llm_ids_`` that costs least for ``w``'s tokens, or None."""
    wanted = set(llm_ids_)
    offers = [p for p in prices if p.llm_id in wanted]
    return min(offers, key=lambda p: (p.daily_cost_usd(w), p.provider), default=None)
