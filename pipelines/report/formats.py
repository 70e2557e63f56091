"""How the report writes numbers: one money formatter for every figure, card, table and chart.

``money`` is the only way money is shown (HTML tables, KPI cards, chart labels and hovers), so
one amount always reads the same: currency symbol first, thousands separators, rounded half
up, and a precision set by the size of the amount alone (three significant digits or more,
two under a dollar):

- $100 and more: whole units ("$48,289/mo", "$1,234", "$153 per 1M");
- from $1 to $100, and zero: cents ("$55.80", "$0.00");
- under $1: two significant digits, at least cents ("$0.37 per 1M", "$0.0088 per 1M",
  "$0.05"), so a small per-token price never rounds to zero.

Credits and negative residuals keep a leading minus ("-$0.60"). The CSVs are not formatted:
they keep the marts' exact DECIMAL values.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MISSING = "—"
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def _decimal(value: Decimal | float | int) -> Decimal:
    # str() first: Decimal(0.1) is 0.1000000000000000055..., Decimal("0.1") is 0.1.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _money_places(amount: Decimal) -> int:
    """Decimal places for a non-negative amount (judged after rounding to cents)."""
    if amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) >= 100:
        return 0
    if amount == 0 or amount >= 1:
        return 2
    # under 1: the first significant digit is at place -adjusted(); show one more
    return max(2, -amount.adjusted() + 1)


def money(value: Decimal | float | int | None, unit: str = "", currency: str = "USD") -> str:
    """An amount of money for reading: ``money(48289.4, "/mo") == "$48,289/mo"``.

    ``unit`` is appended as given ("/mo", " per 1M", "/week"); a currency without a symbol is
    written as its code ("CHF 12.00").
    """
    if value is None:
        return MISSING
    amount = _decimal(value)
    places = _money_places(abs(amount))
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    digits = f"{abs(rounded):,.{places}f}"
    if places > 2:  # "$0.050" reads as "$0.05": drop zeros past the cents
        digits = digits.rstrip("0").ljust(digits.index(".") + 3, "0")
    symbol = SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if rounded < 0 else ""
    return f"{sign}{symbol}{digits}{unit}"


def number(value: Decimal | float | int | None, places: int = 0) -> str:
    """A count or quantity (tokens, GPU-hours, GPUs): thousands separators, fixed places."""
    if value is None:
        return MISSING
    rounded = _decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{rounded:,.{places}f}"


def pct(value: float | None, places: int = 1) -> str:
    """A ratio as a percentage: ``pct(0.2258) == "22.6 %"``."""
    if value is None:
        return MISSING
    return f"{number(100 * _decimal(value), places)} %"
