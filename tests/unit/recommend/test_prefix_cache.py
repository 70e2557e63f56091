"""The prefix_cache kind on hand-made hours: quiet vs busy hit rate, dollars by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from workloads import chat_workload

from pipelines.recommend.inputs import DeploymentConfig
from pipelines.recommend.policy import Policy
from pipelines.recommend.prefix_cache import PrefixCacheHour, prefix_cache

CONFIG = DeploymentConfig("chat", "qwen2.5-7b", "h100-sxm", 1, 1, "bf16", "bf16", "vllm", 6.88)
DAYS = (dt.date(2026, 11, 6), dt.date(2026, 11, 7))
WORKLOAD = chat_workload(days=2, daily_cost_usd=Decimal("1000.000000"))


def _hours(prices, quiet=(1_000_000, 600_000), busy=(3_000_000, 900_000), deployment="chat"):
    """Per day: 6 quiet hours (queried, hit) and 18 busy ones, at the day's $ per 1M."""
    out = []
    for day, price in zip(DAYS, prices, strict=True):
        for h in range(24):
            queried, hits = quiet if h < 6 else busy
            start = dt.datetime.combine(day, dt.time(h, tzinfo=dt.UTC))
            out.append(PrefixCacheHour(deployment, day, start, queried, hits, price))
    return out


def test_a_cache_that_evicts_in_busy_hours_is_worth_the_quiet_hours_hit_rate():
    hours = _hours((Decimal("5.00"), Decimal("7.00")))
    rec = prefix_cache(CONFIG, WORKLOAD, hours, Policy())
    assert rec is not None and rec.kind == "prefix_cache"
    # the quietest 25 % of 48 hours are the 12 quiet ones: 600k / 1M = 60 % hit; per day
    # 6 × 600k + 18 × 900k = 19.8M hits of 6 × 1M + 18 × 3M = 60M queried (33 %).
    # At 60 %: 36M, so 16.2M more tokens a day come from the cache:
    # day 1 16.2 × $5.00 = $81.00, day 2 16.2 × $7.00 = $113.40, mean $97.20/day,
    # × 365 / 12 = $2,956.50 a month.
    assert rec.monthly_savings_usd == Decimal("2956.50")
    assert rec.current_daily_cost_usd == Decimal("1000.000000")
    assert rec.proposed_daily_cost_usd == Decimal("902.800000")
    assert rec.target["prefix_cache_hit_rate"] == "0.600"
    assert rec.target["extra_cached_tokens_per_day"] == 16_200_000
    assert (rec.target["gpu_id"], rec.target["num_gpus"]) == ("h100-sxm", 1)
    # confidence: sqrt(2/7) = 0.5345 days × 1.0 coverage × (1.25 - 0.25 × 1.8) = 0.8 peak
    # = 0.428, × 48/48 hours with counters × 0.8 (share inferred) = 0.342
    assert rec.confidence == 0.342
    text = " ".join(rec.assumptions)
    for named in ("prefix_cache_quiet_hour_share", "min_monthly_savings_usd", "30.42 days"):
        assert named in text
    assert "60.0%" in text and "33.0%" in text and "16.2M" in text


def test_a_day_without_a_price_is_left_out_of_the_mean():
    rec = prefix_cache(CONFIG, WORKLOAD, _hours((Decimal("5.00"), None)), Policy())
    # $81.00/day on the one priced day × 365 / 12 = $2,463.75
    assert rec is not None and rec.monthly_savings_usd == Decimal("2463.75")


def test_a_cache_that_hits_as_often_busy_as_quiet_is_left_alone():
    hours = _hours((Decimal("500"), Decimal("500")), quiet=(1_000_000, 400_000))
    busy_40 = [
        PrefixCacheHour(h.deployment_id, h.usage_date, h.hour_start, h.queried_tokens,
                        h.queried_tokens * 2 // 5, h.usd_per_1m_computed_input_tokens)
        for h in hours
    ]  # fmt: skip
    assert prefix_cache(CONFIG, WORKLOAD, busy_40, Policy()) is None


def test_a_gap_under_the_policys_points_is_noise_however_many_dollars():
    # quiet 34 % vs 31 % busy: 3 points < 5 (prefix_cache_min_hit_rate_gap), at $500 per 1M
    hours = _hours(
        (Decimal("500"), Decimal("500")), quiet=(1_000_000, 340_000), busy=(3_000_000, 930_000)
    )
    assert prefix_cache(CONFIG, WORKLOAD, hours, Policy()) is None
    # the same with a 2-point bar fires
    assert prefix_cache(CONFIG, WORKLOAD, hours, Policy(prefix_cache_min_hit_rate_gap=0.02))


def test_savings_under_the_monthly_floor_are_not_recommended():
    # a tenth of the first test's prices: $295.65 a month < $500 (min_monthly_savings_usd)
    hours = _hours((Decimal("0.50"), Decimal("0.70")))
    assert prefix_cache(CONFIG, WORKLOAD, hours, Policy()) is None
    rec = prefix_cache(CONFIG, WORKLOAD, hours, Policy(min_monthly_savings_usd=200))
    assert rec is not None and rec.monthly_savings_usd == Decimal("295.65")


def test_no_counters_or_under_a_day_of_them_or_another_deployments_say_nothing():
    prices = (Decimal("5.00"), Decimal("7.00"))
    assert prefix_cache(CONFIG, WORKLOAD, _hours(prices, deployment="other"), Policy()) is None
    disabled = _hours(prices, quiet=(0, 0), busy=(0, 0))  # caching off: no queries
    assert prefix_cache(CONFIG, WORKLOAD, disabled, Policy()) is None
    assert prefix_cache(CONFIG, WORKLOAD, _hours(prices)[:23], Policy()) is None
