"""Calendar units shared by every cost figure: the one definition of a month.

A month is a twelfth of a 365-day year (30.42 days), the convention cloud price lists use
for "per month" figures (730 hours). Every monthly number in unitcost (the cost model's
what-ifs, the recommendations and their texts, the simulator's planted facts) goes through
``per_month`` so that two of them can be compared without a 30 vs 30.42-day error.

Examples
--------
>>> from decimal import Decimal
>>> per_month(Decimal("24"))
Decimal('730')
>>> round(per_month(1.0), 4)
30.4167
>>> per_day(Decimal("730"))
Decimal('24')
>>> DAYS_PER_MONTH_TEXT
'30.42'
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

HOURS_PER_DAY = 24
SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365
MONTHS_PER_YEAR = 12
DAYS_PER_MONTH = DAYS_PER_YEAR / MONTHS_PER_YEAR  # float: for thresholds and physics only
DAYS_PER_MONTH_TEXT = f"{DAYS_PER_MONTH:.2f}"

Amount = TypeVar("Amount", Decimal, float)


def per_month(daily: Amount) -> Amount:
    """``daily`` × 365 / 12, in the type given: exact for Decimal money (multiply first,
    then divide once), a float for physics."""
    if isinstance(daily, Decimal):
        return daily * DAYS_PER_YEAR / MONTHS_PER_YEAR
    return daily * DAYS_PER_MONTH


def per_day(monthly: Amount) -> Amount:
    """``monthly`` × 12 / 365, the inverse of ``per_month`` (multiply first, then divide
    once for Decimal money; the caller rounds to its scale)."""
    if isinstance(monthly, Decimal):
        return monthly * MONTHS_PER_YEAR / DAYS_PER_YEAR
    return monthly / DAYS_PER_MONTH
