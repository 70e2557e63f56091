"""prefix_cache: enlarge a prefix cache that evicts repeated prompt prefixes in busy hours.

A prefix cache hits a repeated prompt prefix only while it still holds it. A cache too small
for the busy hours' prompts evicts repeats that a quiet hour keeps, so its hit rate falls as
load rises. The observed repeated-prefix share is vLLM's own hit rate
(``prefix_cache_hits_total`` / ``prefix_cache_queries_total``, per deployment-hour:
``int_prefix_cache__hourly``) in the quietest ``prefix_cache_quiet_hour_share`` of the
window's hours (fewest queried tokens), pooled: there the cache evicts least. Assumed: the
workload repeats prefixes as often in every hour, so a cache holding the busiest hour's
prefixes would hit that rate all day. When even the quiet hours evict, the true share is
higher and the saving larger: the estimate errs low.

Money: each day's tokens that would move from prefill to the cache
(quiet rate × queried − hits) are priced at that day's actual prefill cost of a computed
prompt token (``fct_prefix_cache_daily.usd_per_1m_computed_input_tokens``, usage basis),
in Decimal; the daily mean over the days with a price, × 365/12. Enlarging needs no GPUs
(cache blocks from ``gpu_memory_utilization``, or a CPU tier such as vLLM's KV offloading or
LMCache). Confidence: the engine's usual factors (days, telemetry coverage, load shape) ×
the share of the window's hours with vLLM counters × 0.8, as the repeated-prefix share is
inferred from quiet hours, not measured. Deployments without vLLM prefix-cache counters (or
with caching disabled: no queries) get no recommendation here: nothing observed says how
often their prompts repeat.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from pipelines.recommend import claims
from pipelines.recommend.confidence import confidence
from pipelines.recommend.inputs import DeploymentConfig
from pipelines.recommend.money import daily_usd, monthly_saving_usd
from pipelines.recommend.outputs import Recommendation
from pipelines.recommend.policy import Policy
from pipelines.recommend.workload import Workload

INFERRED_SHARE_FACTOR = 0.8  # the repeated-prefix share is inferred, not measured
MIN_HOURS = 24  # a day of hours before quiet and busy hours can be told apart


@dataclass(frozen=True)
class PrefixCacheHour:
    """One deployment-hour of vLLM prefix-cache counters and the day's prefill price
    (``sql/prefix_cache.sql``); ``usd_per_1m_computed_input_tokens`` None without cost."""

    deployment_id: str
    usage_date: dt.date
    hour_start: dt.datetime
    queried_tokens: int
    hit_tokens: int
    usd_per_1m_computed_input_tokens: Decimal | None


@dataclass(frozen=True)
class CacheGap:
    """The quiet hours' pooled hit rate against the window's, and what the gap is worth."""

    quiet_hours: int
    hours: int
    quiet_hit_rate: Decimal
    hit_rate: Decimal
    extra_tokens_per_day: Decimal
    usd_per_1m_tokens: Decimal  # the token-weighted mean price of the extra tokens
    daily_saving_usd: Decimal


def cache_gap(hours: Iterable[PrefixCacheHour], quiet_share: float) -> CacheGap | None:
    """The gap over these hours (one deployment's), or None without enough counters or cost."""
    seen = [h for h in hours if h.queried_tokens > 0]
    if len(seen) < MIN_HOURS:
        return None
    by_load = sorted(seen, key=lambda h: (h.queried_tokens, h.hour_start))
    quiet = by_load[: max(1, math.ceil(quiet_share * len(seen)))]
    quiet_rate = Decimal(sum(h.hit_tokens for h in quiet)) / sum(h.queried_tokens for h in quiet)
    rate = Decimal(sum(h.hit_tokens for h in seen)) / sum(h.queried_tokens for h in seen)
    days: dict[dt.date, list[PrefixCacheHour]] = {}
    for h in seen:
        days.setdefault(h.usage_date, []).append(h)
    extra, value, priced = Decimal(0), Decimal(0), 0
    for day in days.values():
        price = day[0].usd_per_1m_computed_input_tokens
        if price is None:
            continue
        queried = sum(h.queried_tokens for h in day)
        more = max(Decimal(0), quiet_rate * queried - sum(h.hit_tokens for h in day))
        extra += more
        value += more * price / 1_000_000
        priced += 1
    if priced == 0:
        return None
    return CacheGap(
        quiet_hours=len(quiet),
        hours=len(seen),
        quiet_hit_rate=quiet_rate,
        hit_rate=rate,
        extra_tokens_per_day=extra / priced,
        usd_per_1m_tokens=value * 1_000_000 / extra if extra else Decimal(0),
        daily_saving_usd=daily_usd(value / priced),
    )


def _assumptions(gap: CacheGap, w: Workload, policy: Policy, proposed: Decimal) -> tuple[str, ...]:
    return (
        f"The workload repeats prompt prefixes as often in every hour: the quietest "
        f"{gap.quiet_hours} of {gap.hours} hours with vLLM prefix-cache counters "
        f"({policy.prefix_cache_quiet_hour_share:.0%}, prefix_cache_quiet_hour_share), when "
        f"the cache evicts least, hit {gap.quiet_hit_rate:.1%} of queried prompt tokens, the "
        f"whole window {gap.hit_rate:.1%}; a cache that holds the busiest hour's prefixes is "
        "assumed to hit the quiet hours' rate all day. If even the quiet hours evict, the "
        "true share is higher and so is the saving.",
        f"{gap.extra_tokens_per_day / 1_000_000:,.1f}M more prompt tokens/day would come from "
        f"the cache instead of prefill, each at the day's actual prefill cost of a computed "
        f"prompt token (${gap.usd_per_1m_tokens:,.4f} per 1M on average; "
        "fct_prefix_cache_daily, usage basis), linear in tokens.",
        "Enlarging the cache takes no GPUs: more KV blocks for it (gpu_memory_utilization) or "
        "a CPU tier (vLLM KV offloading, LMCache). The freed busy GPU time is cash only when "
        "the GPUs are cut to match (a right_size after the change) or carry more traffic.",
        claims.month(f"the observed volume ({w.tokens_per_day / 1e6:,.1f}M tokens/day)")
        + f" The saving is against today's ${w.daily_cost_usd:,.2f}/day.",
        f"It saves ${monthly_saving_usd(w.daily_cost_usd, proposed):,.2f}/month; the policy "
        f"asks for at least ${policy.min_monthly_savings_usd:,.2f}/month "
        f"(min_monthly_savings_usd) and a hit-rate gap of at least "
        f"{policy.prefix_cache_min_hit_rate_gap:.0%} (prefix_cache_min_hit_rate_gap).",
    )


def prefix_cache(
    current: DeploymentConfig,
    w: Workload,
    hours: Iterable[PrefixCacheHour],
    policy: Policy,
) -> Recommendation | None:
    """The ``prefix_cache`` recommendation for one deployment, or None.

    Fires when the quiet hours' hit rate beats the window's by at least
    ``prefix_cache_min_hit_rate_gap`` and the saving is at least ``min_monthly_savings_usd``
    a month (not ``min_savings_fraction``: the change is a setting, not a move).
    """
    hours = [h for h in hours if h.deployment_id == current.deployment_id]
    gap = cache_gap(hours, policy.prefix_cache_quiet_hour_share)
    if gap is None or gap.quiet_hit_rate - gap.hit_rate < Decimal(
        repr(policy.prefix_cache_min_hit_rate_gap)
    ):
        return None
    proposed = max(Decimal(0), w.daily_cost_usd - gap.daily_saving_usd)
    monthly = monthly_saving_usd(w.daily_cost_usd, proposed)
    if monthly < policy.min_monthly_savings_usd:
        return None
    coverage = min(1.0, gap.hours / (24 * w.days))
    return Recommendation(
        deployment_id=current.deployment_id,
        kind="prefix_cache",
        summary=(
            f"Enlarge {current.deployment_id}'s prefix cache: it hits {gap.hit_rate:.0%} of "
            f"prompt tokens over the window but {gap.quiet_hit_rate:.0%} in its quietest "
            f"hours; holding the busy hours' repeated prefixes saves "
            f"{gap.extra_tokens_per_day / 1_000_000:,.1f}M prefill tokens/day."
        ),
        monthly_savings_usd=monthly,
        confidence=round(
            confidence(w, policy, calibrated=True) * coverage * INFERRED_SHARE_FACTOR, 3
        ),
        assumptions=_assumptions(gap, w, policy, proposed),
        as_of_date=w.as_of,
        target={
            "gpu_id": current.gpu_id,
            "num_gpus": current.num_gpus,
            "prefix_cache": "enlarge",
            "prefix_cache_hit_rate": f"{gap.quiet_hit_rate:.3f}",
            "extra_cached_tokens_per_day": int(gap.extra_tokens_per_day),
        },
        current_daily_cost_usd=w.daily_cost_usd,
        proposed_daily_cost_usd=proposed,
    )
