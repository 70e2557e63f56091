"""api: send a deployment's traffic to a hosted API instead of self-hosting it.

Only for deployments the registry marks ``api: {eligible: true}`` (data policy allows it):
self-hosting is often chosen for reasons a price table cannot see. The hosted LLMs tried are
the registry's ``api.substitutes`` (default: the deployment's own LLM). Prices come from
``api_prices`` (the shipped dated, sourced table or ``recommend.api_prices`` in the run
config); prompt-cache hits are priced at the cached-input price.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pipelines.recommend import claims
from pipelines.recommend.api_prices import ApiPrice, cheapest_api, shipped_api_prices
from pipelines.recommend.confidence import confidence
from pipelines.recommend.inputs import DeploymentConfig
from pipelines.recommend.money import monthly_saving_usd, usd
from pipelines.recommend.outputs import Recommendation
from pipelines.recommend.policy import Policy
from pipelines.recommend.workload import Workload

__all__ = ["ApiPrice", "api"]


def _assumptions(
    current: DeploymentConfig,
    w: Workload,
    policy: Policy,
    offer: ApiPrice,
    api_day: Decimal,
    best_day: Decimal,
) -> tuple[str, ...]:
    same = offer.llm_id == current.llm_id
    quality = (
        f"{offer.provider} serves the same open weights ({current.llm_id}) at equal quality"
        if same
        else f"{offer.llm_id} is an acceptable substitute for {current.llm_id} (registry "
        "api.substitutes) at equal quality"
    )
    return (
        f"{quality}: an assumption to verify on an eval set, not a prediction.",
        f"List price ${offer.usd_per_1m_input_tokens} / ${offer.usd_per_1m_cached_input_tokens}"
        f" / ${offer.usd_per_1m_output_tokens} per 1M input / cached input / output tokens as "
        f"of {offer.as_of} ({'verified' if offer.verified else 'unverified'}; "
        f"{offer.source_url}).",
        f"{w.cached_tokens_per_day / 1e6:,.1f}M of the {w.input_tokens_per_day / 1e6:,.1f}M "
        "input tokens/day hit this deployment's prompt cache and are priced at the cached "
        "rate, assuming the provider's cache hits as often; no rate limits or egress.",
        f"The API's ${api_day:,.2f}/day is at most {1 - policy.api_margin:.0%} of the cheapest "
        f"self-hosted option's ${best_day:,.2f}/day (api_margin {policy.api_margin:.0%}) and "
        f"saves ${monthly_saving_usd(best_day, api_day):,.2f}/month against it (at least "
        f"${policy.api_min_monthly_savings_usd:,.2f}, api_min_monthly_savings_usd).",
        claims.month(f"the observed volume ({w.tokens_per_day / 1e6:,.1f}M tokens/day)")
        + f" The saving is against today's ${w.daily_cost_usd:,.2f}/day.",
    )


def api(
    current: DeploymentConfig,
    w: Workload,
    policy: Policy,
    best_self_hosted_usd_day: Decimal,
    prices: Iterable[ApiPrice] | None = None,
) -> Recommendation | None:
    """The ``api`` recommendation, or None.

    Fires only if the deployment is eligible and the cheapest API among its substitutes
    costs at most (1 − ``api_margin``) × the cheapest self-hosted option (current or another
    recommendation's) and saves at least ``api_min_monthly_savings_usd`` against it. The
    recommendation's ``monthly_savings_usd`` is against today's cost, like every other kind.
    """
    if not current.api_eligible:
        return None
    substitutes = current.api_substitutes or (current.llm_id,)
    table = shipped_api_prices() if prices is None else prices
    offer = cheapest_api(substitutes, table, w)
    if offer is None:
        return None
    best = usd(best_self_hosted_usd_day)
    api_day = offer.daily_cost_usd(w)
    beats = api_day <= (1 - usd(policy.api_margin)) * best
    if not beats or monthly_saving_usd(best, api_day) < policy.api_min_monthly_savings_usd:
        return None
    # tokens/day at which the API, at this traffic mix, costs what self-hosting does
    break_even = best / api_day * usd(w.tokens_per_day) if api_day > 0 else None
    even = "never" if break_even is None else f"at {break_even / 1_000_000:,.0f}M tokens/day"
    return Recommendation(
        deployment_id=current.deployment_id,
        kind="api",
        summary=(
            f"Send {current.deployment_id}'s traffic to {offer.provider} {offer.api_model} "
            f"instead of self-hosting on {current.num_gpus}x {current.gpu_id}: "
            f"${api_day:,.2f}/day vs ${w.daily_cost_usd:,.2f}/day now; the API would cost as "
            f"much as the cheapest self-hosted option (${best:,.2f}/day) {even}, against "
            f"{w.tokens_per_day / 1e6:,.1f}M observed."
        ),
        monthly_savings_usd=monthly_saving_usd(w.daily_cost_usd, api_day),
        confidence=round(
            confidence(w, policy, calibrated=True) * (1.0 if offer.verified else 0.8), 3
        ),
        assumptions=_assumptions(current, w, policy, offer, api_day, best),
        as_of_date=w.as_of,
        target={
            "provider": offer.provider,
            "api_model": offer.api_model,
            "llm_id": offer.llm_id,
            "num_gpus": 0,
        },
        current_daily_cost_usd=w.daily_cost_usd,
        proposed_daily_cost_usd=api_day,
    )
