"""The sentences a recommendation states, each built from the numbers that bound it.

Every sentence names the policy field it was checked against (``Policy``, settable in
``unitcost.yaml`` under ``recommend.policy``) and is true by construction: the latency
sentence says "within" only when the predicted p95 is at or under the SLO, and otherwise says
the SLO is already exceeded today (``options.check`` lets such a change through only when it
is predicted no slower). Numbers are rounded the same way on both sides of a comparison, and
rounding preserves order, so a printed "within" never shows a larger number than its limit.
Tests parse the numbers back out of these sentences (tests/unit/recommend/test_claims.py).
"""

from __future__ import annotations

from decimal import Decimal

from pipelines.costmodel.units import DAYS_PER_MONTH_TEXT
from pipelines.recommend.money import monthly_saving_usd
from pipelines.recommend.options import Option
from pipelines.recommend.policy import Policy
from pipelines.recommend.workload import Workload


def month(basis: str) -> str:
    """``A month is 30.42 days (365/12) at <basis>.``"""
    return f"A month is {DAYS_PER_MONTH_TEXT} days (365/12) at {basis}."


def savings_floor(policy: Policy, current_usd_day: Decimal, proposed_usd_day: Decimal) -> str:
    """The saving against ``min_monthly_savings_usd`` and ``min_savings_fraction``, computed
    exactly as ``Policy.clears`` computes it."""
    share = (current_usd_day - proposed_usd_day) / current_usd_day
    return (
        f"It saves ${monthly_saving_usd(current_usd_day, proposed_usd_day):,.2f}/month "
        f"({share:.0%} of the current cost); the policy asks for at least "
        f"${policy.min_monthly_savings_usd:,.2f}/month (min_monthly_savings_usd) and "
        f"{policy.min_savings_fraction:.0%} (min_savings_fraction)."
    )


def peak(w: Workload, option: Option) -> str:
    """Busiest-hour busy fraction now, predicted after, and the limit ``check`` applied."""
    return (
        f"The busiest hour's GPU busy fraction is {w.peak_busy_fraction:.0%} now and is "
        f"predicted at {option.peak_busy:.0%} after, within the limit of "
        f"{option.peak_limit:.0%} ({option.peak_limit_field})."
    )


def not_saturated(w: Workload, policy: Policy) -> str:
    return (
        f"The busiest hour is {w.peak_busy_fraction:.0%} busy, under the "
        f"{policy.censored_busy:.0%} (censored_busy) at which the true load would be unknown."
    )


def latency(name: str, now_ms: float, predicted_ms: float, slo_ms: float, field: str) -> str:
    """One latency claim: within the SLO, or the SLO is already exceeded and not made worse.

    ``options.check`` only accepts a prediction over the SLO when it is no slower than now,
    so the second form is the only other truthful one.
    """
    if round(predicted_ms) <= round(slo_ms):
        return (
            f"Predicted p95 {name} is {predicted_ms:,.0f} ms (now {now_ms:,.0f} ms), within "
            f"the {slo_ms:,.0f} ms SLO ({field})."
        )
    return (
        f"p95 {name} is {now_ms:,.0f} ms now and predicted {predicted_ms:,.0f} ms after; the "
        f"{slo_ms:,.0f} ms SLO ({field}) is already exceeded, and the change is predicted "
        "not to make it slower."
    )


def latencies(w: Workload, option: Option, policy: Policy) -> tuple[str, str]:
    return (
        latency(
            "TPOT", w.p95_tpot_ms, option.p95_tpot_ms, policy.slo_p95_tpot_ms, "slo_p95_tpot_ms"
        ),
        latency(
            "TTFT", w.p95_ttft_ms, option.p95_ttft_ms, policy.slo_p95_ttft_ms, "slo_p95_ttft_ms"
        ),
    )


def kv_room(policy: Policy) -> str:
    return (
        f"Each replica keeps KV room for one {policy.min_context_tokens:,}-token sequence "
        f"(min_context_tokens) and for the p95 concurrency × (ISL + OSL) × "
        f"{policy.kv_headroom:g} (kv_headroom)."
    )


def replicas_kept(kept: int, proposed: int, policy: Policy) -> str:
    return (
        f"It keeps {proposed} replica{'' if proposed == 1 else 's'}, at least the {kept} "
        "that min_replicas_kept "
        f"({policy.min_replicas_kept}) asks for at this deployment's size."
    )
