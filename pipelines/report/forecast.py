"""A 30-day spend forecast per deployment: the observed token trend × the observed cost per token.

Method (stated in the report and in docs/report.md), per deployment:

1. Daily tokens (input + output) on the days observed in the fit window (the
   ``FIT_DAYS`` UTC days ending on the report's last day; a day without a row is not data,
   not zero) are fitted by ordinary least squares: ``tokens = a + b × day``.
2. The next ``HORIZON_DAYS`` days' tokens are the line's values on those days, summed.
3. The 95 % prediction interval of that sum, from the residuals: with n days observed,
   s² = Σ residual² / (n − 2), x̄ the mean observed day, Sxx = Σ (x − x̄)² and H future days,
   Var(sum − predicted sum) = s² · (H + H²/n + (Σₕ (xₕ − x̄))² / Sxx), and the interval is
   the predicted sum ± t(0.975, n − 2) · √Var. It assumes independent, equally spread
   residuals (no weekly pattern): a trend, not a seasonal model.
4. Spend = tokens × the cost per token observed over the same days (Σ cost ÷ Σ tokens,
   allocation basis, USD, in Decimal), rounded to the cent. Negative token sums are 0.

It says what the spend will be if cost keeps scaling with tokens at today's price; a
deployment's held GPUs cost the same whether or not traffic grows, so read it as the
cost of the traffic trend at this week's efficiency. At least ``MIN_DAYS`` observed days
with tokens are needed (two points leave no residual), else no forecast.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from scipy.stats import t as student_t

FIT_DAYS = 28
HORIZON_DAYS = 30
MIN_DAYS = 3
LEVEL = 0.95
CENT = Decimal("0.01")


@dataclass(frozen=True)
class DayUsage:
    day: dt.date
    tokens: int
    cost_usd: Decimal


@dataclass(frozen=True)
class Fit:
    """tokens = intercept + slope × (day − origin).days, fitted on ``n`` days."""

    origin: dt.date
    intercept: float
    slope: float  # tokens per day per day
    n: int
    residual_sd: float  # s, tokens per day
    x_mean: float
    sxx: float


@dataclass(frozen=True)
class SpendForecast:
    deployment_id: str
    first_day: dt.date  # the forecast's days, both included
    last_day: dt.date
    observed_days: int
    tokens: int  # predicted over the horizon
    tokens_low: int
    tokens_high: int
    usd_per_1m_tokens: Decimal  # observed over the fit days
    spend_usd: Decimal  # to the cent
    spend_low_usd: Decimal
    spend_high_usd: Decimal
    slope_tokens_per_day: float  # the daily trend (tokens/day gained per day)


def fit_line(days: list[DayUsage]) -> Fit:
    """Ordinary least squares of tokens on the day number, with the residuals' spread."""
    if len(days) < MIN_DAYS:
        raise ValueError(f"a trend needs at least {MIN_DAYS} days, got {len(days)}")
    origin = min(d.day for d in days)
    xs = [float((d.day - origin).days) for d in days]
    ys = [float(d.tokens) for d in days]
    n = len(days)
    x_mean, y_mean = sum(xs) / n, sum(ys) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError("every observation is on the same day")
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = y_mean - slope * x_mean
    sse = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return Fit(origin, intercept, slope, n, math.sqrt(sse / (n - 2)), x_mean, sxx)


def forecast_tokens(fit: Fit, start: dt.date, days: int) -> tuple[float, float, float]:
    """The predicted sum of tokens over ``days`` days from ``start``, and its 95 % interval."""
    xs = [float((start - fit.origin).days + i) for i in range(days)]
    total = sum(fit.intercept + fit.slope * x for x in xs)
    spread = sum(x - fit.x_mean for x in xs)
    variance = fit.residual_sd**2 * (days + days**2 / fit.n + spread**2 / fit.sxx)
    half = float(student_t.ppf(0.5 + LEVEL / 2, fit.n - 2)) * math.sqrt(variance)
    return total, total - half, total + half


def _tokens(value: float) -> int:
    return max(0, round(value))


def _money(tokens: int, usd_per_token: Decimal) -> Decimal:
    return (Decimal(tokens) * usd_per_token).quantize(CENT, rounding=ROUND_HALF_EVEN)


def spend_forecast(
    deployment_id: str, days: Iterable[DayUsage], last_day: dt.date
) -> SpendForecast | None:
    """The next ``HORIZON_DAYS`` days' spend after ``last_day`` from the days before it.

    Uses the days in the ``FIT_DAYS`` ending on ``last_day``; None without ``MIN_DAYS`` of
    them, or without tokens (no cost per token to price the trend with).
    """
    window_start = last_day - dt.timedelta(days=FIT_DAYS - 1)
    observed = sorted((d for d in days if window_start <= d.day <= last_day), key=lambda d: d.day)
    total_tokens = sum(d.tokens for d in observed)
    if len(observed) < MIN_DAYS or total_tokens <= 0:
        return None
    usd_per_token = sum((d.cost_usd for d in observed), Decimal(0)) / Decimal(total_tokens)
    fit = fit_line(observed)
    start = last_day + dt.timedelta(days=1)
    mid, low, high = (_tokens(v) for v in forecast_tokens(fit, start, HORIZON_DAYS))
    return SpendForecast(
        deployment_id=deployment_id,
        first_day=start,
        last_day=last_day + dt.timedelta(days=HORIZON_DAYS),
        observed_days=len(observed),
        tokens=mid,
        tokens_low=low,
        tokens_high=high,
        usd_per_1m_tokens=(usd_per_token * 1_000_000).quantize(Decimal("0.000001")),
        spend_usd=_money(mid, usd_per_token),
        spend_low_usd=_money(low, usd_per_token),
        spend_high_usd=_money(high, usd_per_token),
        slope_tokens_per_day=fit.slope,
    )
