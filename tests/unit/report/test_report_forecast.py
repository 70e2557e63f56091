"""The 30-day spend forecast against a least-squares fit worked out by hand on four days.

Days 0..3 (2026-11-04..07) with 100, 120, 130, 150 tokens:
  x̄ = 1.5, ȳ = 125, Sxx = 2.25 + 0.25 + 0.25 + 2.25 = 5,
  Sxy = (-1.5)(-25) + (-0.5)(-5) + (0.5)(5) + (1.5)(25) = 80,
  slope = 80 / 5 = 16, intercept = 125 - 16 × 1.5 = 101;
  fitted 101, 117, 133, 149; residuals -1, 3, -3, 1; SSE = 20; s² = 20 / (4 - 2) = 10.
t(0.975, 2 degrees of freedom) = 4.3027 (any t table).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from pipelines.report.forecast import (
    HORIZON_DAYS,
    DayUsage,
    fit_line,
    forecast_tokens,
    spend_forecast,
)

D = Decimal
DAY0 = dt.date(2026, 11, 4)
T_975_2 = 4.3027  # the t table's value, to its 4 decimals


def _days(tokens, costs=None):
    costs = costs or [D(0)] * len(tokens)
    return [
        DayUsage(DAY0 + dt.timedelta(days=i), n, c)
        for i, (n, c) in enumerate(zip(tokens, costs, strict=True))
    ]


HAND = _days([100, 120, 130, 150], [D("1.00"), D("1.20"), D("1.30"), D("1.50")])


def test_the_line_and_the_residual_spread_match_the_hand_fit():
    fit = fit_line(HAND)
    assert fit.origin == DAY0
    assert fit.slope == pytest.approx(16)
    assert fit.intercept == pytest.approx(101)
    assert fit.residual_sd == pytest.approx(math.sqrt(10))
    assert (fit.n, fit.x_mean, fit.sxx) == (4, 1.5, 5)


def test_two_days_ahead_sum_and_interval_by_hand():
    # days 4 and 5: 101 + 64 = 165 and 101 + 80 = 181, sum 346;
    # Σ(x - x̄) = 2.5 + 3.5 = 6; Var = 10 × (2 + 2²/4 + 6²/5) = 10 × 10.2 = 102
    total, low, high = forecast_tokens(fit_line(HAND), DAY0 + dt.timedelta(days=4), 2)
    half = T_975_2 * math.sqrt(102)  # 43.455
    assert total == pytest.approx(346)
    # the table's t has 4 decimals: 10^-4 × √102 ≈ 0.001 tokens
    assert low == pytest.approx(346 - half, abs=0.002)
    assert high == pytest.approx(346 + half, abs=0.002)


def test_thirty_day_spend_is_the_trend_times_the_observed_cost_per_token():
    # days 4..33: Σx = (4 + 33) × 30 / 2 = 555; tokens = 30 × 101 + 16 × 555 = 11,910;
    # Σ(x - x̄) = 555 - 30 × 1.5 = 510; Var = 10 × (30 + 900/4 + 510²/5) = 522,750;
    # half-width = 4.3027 × √522,750 = 3,110.86 → 8,799 .. 15,021 tokens.
    # Cost per token: $5.00 over 500 tokens = $0.01.
    f = spend_forecast("chat", HAND, DAY0 + dt.timedelta(days=3))
    assert HORIZON_DAYS == 30
    assert (f.first_day, f.last_day) == (dt.date(2026, 11, 8), dt.date(2026, 12, 7))
    assert f.observed_days == 4
    assert f.tokens == 11_910
    assert (f.tokens_low, f.tokens_high) == (8_799, 15_021)
    assert f.usd_per_1m_tokens == D("10000")
    assert (f.spend_usd, f.spend_low_usd, f.spend_high_usd) == (
        D("119.10"),
        D("87.99"),
        D("150.21"),
    )
    assert all(isinstance(v, Decimal) for v in (f.spend_usd, f.spend_low_usd, f.spend_high_usd))
    assert f.slope_tokens_per_day == pytest.approx(16)


def test_a_missing_day_is_left_out_not_counted_as_zero():
    # the same four observations with a gap: days 0, 1, 3, 4 → x̄ = 2, slope from those
    gapped = [HAND[0], HAND[1]] + [
        DayUsage(d.day + dt.timedelta(days=1), d.tokens, d.cost_usd) for d in HAND[2:]
    ]
    fit = fit_line(gapped)
    # x = 0, 1, 3, 4; y = 100, 120, 130, 150; Sxx = 4 + 1 + 1 + 4 = 10;
    # Sxy = (-2)(-25) + (-1)(-5) + (1)(5) + (2)(25) = 110 → slope 11, intercept 125 - 22 = 103
    assert (fit.slope, fit.intercept) == (pytest.approx(11), pytest.approx(103))


def test_a_falling_trend_never_forecasts_negative_tokens_or_spend():
    falling = _days([300, 200, 100, 0], [D(3), D(2), D(1), D(0)])
    f = spend_forecast("d", falling, DAY0 + dt.timedelta(days=3))
    assert f.tokens == 0 and f.spend_usd == D("0.00")
    assert f.tokens_low == 0 and f.spend_low_usd == D("0.00")


def test_days_outside_the_fit_window_are_ignored_and_too_few_days_give_none():
    assert spend_forecast("d", HAND[:2], DAY0 + dt.timedelta(days=1)) is None  # 2 days
    assert spend_forecast("d", _days([0, 0, 0]), DAY0 + dt.timedelta(days=2)) is None  # no tokens
    # a day 28 or more days before the last day is outside the window
    old = DayUsage(DAY0 - dt.timedelta(days=25), 10**9, D(10**6))
    f = spend_forecast("chat", [old, *HAND], DAY0 + dt.timedelta(days=3))
    assert f.observed_days == 4 and f.tokens == 11_910
