"""The recommendation engine: calibrate, predict each deployment-day, then recommend.

Kinds are tried from least to most risky: right_size (no quality change), quantize
(quality assumed), distill (must beat both by a margin), api (eligible deployments only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipelines.recommend.api import ApiPrice, api
from pipelines.recommend.calibrate import Calibration, calibrate
from pipelines.recommend.distill import distill
from pipelines.recommend.inputs import FleetInputs
from pipelines.recommend.outputs import EfficiencyRow, Recommendation
from pipelines.recommend.policy import Policy
from pipelines.recommend.predict import efficiency_row
from pipelines.recommend.quantize import quantize
from pipelines.recommend.rightsize import right_size, terminate_idle
from pipelines.recommend.workload import summarise


@dataclass(frozen=True)
class EngineResult:
    """Rows for ``fct_efficiency_daily`` and ``fct_recommendations``, and the calibration."""

    efficiency: tuple[EfficiencyRow, ...]
    recommendations: tuple[Recommendation, ...]
    calibration: Calibration


def efficiency_rows(
    inputs: FleetInputs, calibration: Calibration, policy: Policy
) -> tuple[EfficiencyRow, ...]:
    rows = (
        efficiency_row(
            o,
            inputs.configs[o.deployment_id],
            calibration,
            policy.min_context_tokens,
            policy.kv_headroom,
        )
        for o in inputs.observations
        if o.deployment_id in inputs.configs
    )
    return tuple(r for r in rows if r is not None)


def recommend_deployment(
    inputs: FleetInputs,
    deployment_id: str,
    calibration: Calibration,
    policy: Policy,
    api_prices: Iterable[ApiPrice] | None = None,
) -> list[Recommendation]:
    """Every recommendation for one deployment (an empty list when it is healthy)."""
    days = inputs.days_of(deployment_id)
    if not days:
        return []
    config = inputs.configs[deployment_id]
    w = summarise(days)
    calibrated = calibration.for_config(config).source == "calibrated"
    lower = (right_size(config, w, policy, calibrated), quantize(config, w, policy, calibrated))
    recs = [r for r in lower if r is not None]
    lower_risk = max(
        (r.current_daily_cost_usd - r.proposed_daily_cost_usd for r in recs), default=0.0
    )
    student = distill(config, w, policy, calibrated, lower_risk)
    if student is not None:
        recs.append(student)
    best_self_hosted = min([w.daily_cost_usd, *(r.proposed_daily_cost_usd for r in recs)])
    hosted = api(config, w, policy, best_self_hosted, api_prices)
    if hosted is not None:
        recs.append(hosted)
    return recs


def recommend(
    inputs: FleetInputs,
    policy: Policy | None = None,
    api_prices: Iterable[ApiPrice] | None = None,
    min_calibration_requests: int = 300,
) -> EngineResult:
    """Run the whole engine on one window of observations.

    Parameters
    ----------
    inputs
        Configs, daily observations, idle instances and (optionally) request timings.
    policy
        Thresholds and SLOs; ``Policy()`` documents every default.
    api_prices
        Replaces the shipped ``data/api_prices.csv`` table.
    min_calibration_requests
        Requests a (GPU, engine, precision, TP) group needs before its fit replaces the prior.

    Returns
    -------
    EngineResult
    """
    policy = policy or Policy()
    calibration = calibrate(inputs.requests, inputs.configs, min_calibration_requests)
    recs: list[Recommendation] = []
    for deployment_id in sorted(inputs.configs):
        recs += recommend_deployment(inputs, deployment_id, calibration, policy, api_prices)
    as_of = max((o.usage_date for o in inputs.observations), default=None)
    recs += [terminate_idle(i, as_of, policy) for i in inputs.idle_instances]
    return EngineResult(efficiency_rows(inputs, calibration, policy), tuple(recs), calibration)
