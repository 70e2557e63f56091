"""api: serve the same open-weights LLM from a hosted API instead of self-hosting.

Only for deployments marked ``api_eligible`` (data policy allows it): self-hosting is often
chosen for reasons a price table cannot see. Prices per 1M tokens come from
``data/api_prices.csv`` (provider, source, date, verified flag) or a caller's table.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipelines.recommend.confidence import confidence
from pipelines.recommend.inputs import DeploymentConfig
from pipelines.recommend.outputs import Recommendation
from pipelines.recommend.policy import Policy
from pipelines.recommend.workload import DAYS_PER_MONTH, Workload

API_PRICES_PATH = Path(__file__).parent / "data" / "api_prices.csv"


@dataclass(frozen=True)
class ApiPrice:
    """List price of one hosted LLM, USD per 1M input and output tokens."""

    provider: str
    llm_id: str
    api_model: str
    usd_per_1m_input_tokens: float
    usd_per_1m_output_tokens: float
    source_url: str = ""
    as_of: str = ""
    verified: bool = False

    def daily_cost_usd(self, w: Workload) -> float:
        return (
            w.input_tokens_per_day * self.usd_per_1m_input_tokens
            + w.output_tokens_per_day * self.usd_per_1m_output_tokens
        ) / 1e6


@cache
def shipped_api_prices() -> tuple[ApiPrice, ...]:
    with API_PRICES_PATH.open(newline="") as fh:
        return tuple(
            ApiPrice(
                r["provider"],
                r["llm_id"],
                r["api_model"],
                float(r["usd_per_1m_input_tokens"]),
                float(r["usd_per_1m_output_tokens"]),
                r["source_url"],
                r["as_of"],
                r["verified"] == "true",
            )
            for r in csv.DictReader(fh)
        )


def cheapest_api(llm_id: str, prices: Iterable[ApiPrice], w: Workload) -> ApiPrice | None:
    offers = [p for p in prices if p.llm_id == llm_id]
    return min(offers, key=lambda p: p.daily_cost_usd(w), default=None)


def api(
    current: DeploymentConfig,
    w: Workload,
    policy: Policy,
    best_self_hosted_usd_day: float,
    prices: Iterable[ApiPrice] | None = None,
) -> Recommendation | None:
    """The ``api`` recommendation, or None.

    Fires only if the deployment is eligible and the cheapest API for the same LLM costs
    at most (1 − ``api_margin``) × the cheapest self-hosted option (current or another
    recommendation's) and saves at least ``api_min_monthly_savings_usd`` against it.
    """
    if not current.api_eligible:
        return None
    offer = cheapest_api(current.llm_id, shipped_api_prices() if prices is None else prices, w)
    if offer is None:
        return None
    api_day = offer.daily_cost_usd(w)
    beats = api_day <= (1 - policy.api_margin) * best_self_hosted_usd_day
    if not beats or (best_self_hosted_usd_day - api_day) * DAYS_PER_MONTH < (
        policy.api_min_monthly_savings_usd
    ):
        return None
    blended = api_day / w.tokens_per_day * 1e6
    break_even = best_self_hosted_usd_day / blended * 1e6
    return Recommendation(
        deployment_id=current.deployment_id,
        kind="api",
        summary=(
            f"Send {current.deployment_id}'s traffic to {offer.provider} {offer.api_model} "
            f"instead of self-hosting on {current.num_gpus}x {current.gpu_id}: "
            f"${api_day:,.2f}/day vs ${best_self_hosted_usd_day:,.2f}/day; break-even at "
            f"{break_even / 1e6:,.0f}M tokens/day."
        ),
        monthly_savings_usd=(w.daily_cost_usd - api_day) * DAYS_PER_MONTH,
        confidence=confidence(w, policy, calibrated=True) * (1.0 if offer.verified else 0.8),
        assumptions=(
            f"{offer.provider} serves the same open weights ({current.llm_id}) at equal quality.",
            f"List price ${offer.usd_per_1m_input_tokens}/${offer.usd_per_1m_output_tokens} "
            f"per 1M input/output tokens as of {offer.as_of} "
            f"({'verified' if offer.verified else 'unverified'}; {offer.source_url}).",
            "Cached prompt tokens are billed as ordinary input; no rate limits or egress.",
            f"A month is {DAYS_PER_MONTH} days at the observed volume.",
        ),
        as_of_date=w.as_of,
        target={"provider": offer.provider, "api_model": offer.api_model, "num_gpus": 0},
        current_daily_cost_usd=w.daily_cost_usd,
        proposed_daily_cost_usd=api_day,
    )
