"""The recommendation engine: calibrate, predict each deployment-day, then recommend.

Kinds are tried from least to most risky: right_size (no quality change), quantize
(quality assumed), distill (must beat both by a margin), api (eligible deployments only);
prefix_cache (a cache setting, beside the others: it changes no GPUs) last.

A deployment that queued or preempted at its peak (vLLM's metrics, ``saturation.py``) is
offered nothing with fewer GPUs or replicas; a change withheld for that is recorded in
``EngineResult.withheld`` with the reason.

A deployment the cost model cannot describe (a precision, LLM or GPU it has no data for) is
left out before anything else runs and recorded in ``EngineResult.skipped`` with the reason,
and logged: one bad registry entry must not cost every other deployment its rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from pipelines.recommend.api import ApiPrice, api
from pipelines.recommend.calibrate import Calibration, calibrate, calibrate_days
from pipelines.recommend.commitments import apply_commitments
from pipelines.recommend.distill import distill
from pipelines.recommend.inputs import DeploymentConfig, FleetInputs
from pipelines.recommend.options import describe
from pipelines.recommend.outputs import EfficiencyRow, Recommendation
from pipelines.recommend.policy import Policy
from pipelines.recommend.predict import efficiency_row
from pipelines.recommend.prefix_cache import prefix_cache
from pipelines.recommend.quantize import best_quantize, quantize
from pipelines.recommend.rightsize import best_right_size, right_size, terminate_idle
from pipelines.recommend.saturation import (
    Withheld,
    keep_size_reason,
    peak_saturation,
    shrinks,
)
from pipelines.recommend.workload import summarise

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkippedDeployment:
    """A deployment the engine left out, and why (the cost model's own error message)."""

    deployment_id: str
    reason: str


@dataclass(frozen=True)
class EngineResult:
    """Rows for ``fct_efficiency_daily`` and ``fct_recommendations``, the calibration, the
    deployments left out (``skipped``) and the changes the saturation guard withheld."""

    efficiency: tuple[EfficiencyRow, ...]
    recommendations: tuple[Recommendation, ...]
    calibration: Calibration
    skipped: tuple[SkippedDeployment, ...] = ()
    withheld: tuple[Withheld, ...] = ()


def unsupported(config: DeploymentConfig) -> str | None:
    """Why the cost model cannot describe ``config``, or None if it can."""
    try:
        config.deployment()
    except ValueError as exc:  # the cost model's error for ids and precisions it lacks
        return str(exc)
    return None


def _split_supported(inputs: FleetInputs) -> tuple[FleetInputs, list[SkippedDeployment]]:
    skipped = [
        SkippedDeployment(dep_id, reason)
        for dep_id, config in sorted(inputs.configs.items())
        if (reason := unsupported(config)) is not None
    ]
    if not skipped:
        return inputs, []
    out = {s.deployment_id for s in skipped}
    configs = {k: v for k, v in inputs.configs.items() if k not in out}
    observations = tuple(o for o in inputs.observations if o.deployment_id not in out)
    requests = inputs.requests
    if requests is not None:
        requests = requests.filter(~requests["deployment_id"].is_in(sorted(out)))
    return replace(inputs, configs=configs, observations=observations, requests=requests), skipped


def _since(inputs: FleetInputs, day: dt.date | None) -> FleetInputs:
    if day is None:
        return inputs
    requests = inputs.requests
    # filtering copies the frame: only when some request is older
    if requests is not None and requests.height and requests["usage_date"].min() < day:
        requests = requests.filter(requests["usage_date"] >= day)
    observations = tuple(o for o in inputs.observations if o.usage_date >= day)
    saturation = tuple(h for h in inputs.saturation if h.hour_start.date() >= day)
    hours = tuple(h for h in inputs.prefix_cache_hours if h.usage_date >= day)
    return replace(
        inputs,
        observations=observations,
        requests=requests,
        saturation=saturation,
        prefix_cache_hours=hours,
    )


def efficiency_rows(
    inputs: FleetInputs,
    policy: Policy,
    window_days: int = 7,
    min_requests: int = 300,
    min_days: int = 1,
) -> tuple[EfficiencyRow, ...]:
    """One row per observed deployment-day, each scored with efficiencies fitted on the
    ``window_days`` before it only (out of sample; ``calibrate.calibrate_days``)."""
    observed = [o for o in inputs.observations if o.deployment_id in inputs.configs]
    fitted = calibrate_days(
        inputs.requests,
        inputs.configs,
        [(o.deployment_id, o.usage_date) for o in observed],
        window_days,
        min_requests,
        min_days,
    )
    rows = (
        efficiency_row(
            o,
            inputs.configs[o.deployment_id],
            fitted[(o.deployment_id, o.usage_date)],
            policy.min_context_tokens,
            policy.kv_headroom,
        )
        for o in observed
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
    keep = keep_size_reason(peak_saturation(inputs.saturation, deployment_id), policy)
    lower = (
        right_size(config, w, policy, calibrated, keep),
        quantize(config, w, policy, calibrated, keep),
    )
    recs = [r for r in lower if r is not None]
    lower_risk = max(
        (r.current_daily_cost_usd - r.proposed_daily_cost_usd for r in recs), default=Decimal(0)
    )
    student = distill(config, w, policy, calibrated, lower_risk)
    if student is not None:
        recs.append(student)
    best_self_hosted = min([w.daily_cost_usd, *(r.proposed_daily_cost_usd for r in recs)])
    hosted = api(config, w, policy, best_self_hosted, api_prices)
    if hosted is not None:
        recs.append(hosted)
    cache = prefix_cache(config, w, inputs.prefix_cache_hours, policy)
    if cache is not None:
        recs.append(cache)
    return recs


def withheld_changes(inputs: FleetInputs, deployment_id: str, policy: Policy) -> list[Withheld]:
    """The right_size and quantize changes that shrink the deployment and that the
    saturation guard kept from being recommended (none when it is not saturated)."""
    keep = keep_size_reason(peak_saturation(inputs.saturation, deployment_id), policy)
    days = inputs.days_of(deployment_id)
    if keep is None or not days:
        return []
    config, w = inputs.configs[deployment_id], summarise(days)
    out = []
    for kind, best in (
        ("right_size", best_right_size(config, w, policy)),
        ("quantize", best_quantize(config, w, policy)),
    ):
        if best is not None and shrinks(best.config, config):
            change = f"{describe(config)} -> {describe(best.config)}"
            out.append(Withheld(deployment_id, kind, change, keep))
    return out


def recommend(
    inputs: FleetInputs,
    policy: Policy | None = None,
    api_prices: Iterable[ApiPrice] | None = None,
    min_calibration_requests: int = 300,
    calibration_window_days: int = 7,
    min_calibration_days: int = 1,
    recommend_since: dt.date | None = None,
) -> EngineResult:
    """Run the whole engine on one window of observations.

    Parameters
    ----------
    inputs
        Configs, daily observations, idle instances, (optionally) request timings, and the
        commitments that paid for the GPUs (each saving's cash / deferred split).
    policy
        Thresholds and SLOs; ``Policy()`` documents every default. The asset passes the
        run config's ``recommend.policy`` (``Settings.policy``).
    api_prices
        Replaces the shipped ``data/api_prices.csv`` table (``Settings.api_prices()``).
    min_calibration_requests
        Requests a (GPU, engine, precision, TP) group needs before its fit replaces the prior.
    calibration_window_days, min_calibration_days
        A day's efficiency row is scored with a fit on the ``calibration_window_days``
        before it only, given at least ``min_calibration_days`` of them (else the prior).
        The caller must pass that lookback in ``inputs``.
    recommend_since
        Recommendations summarise (and calibrate on) the days from this one on; None: all
        of ``inputs``. The asset keeps it at a fixed lookback before the window's end, so
        a recommendation does not depend on how a backfill was cut.

    Returns
    -------
    EngineResult
        With ``skipped``: deployments the cost model cannot describe, left out with the
        reason (and logged), so that the others still get their rows.
    """
    policy = policy or Policy()
    api_prices = None if api_prices is None else tuple(api_prices)
    inputs, skipped = _split_supported(inputs)
    recent = _since(inputs, recommend_since)
    calibration = calibrate(recent.requests, recent.configs, min_calibration_requests)
    recs: list[Recommendation] = []
    withheld: list[Withheld] = []
    for deployment_id in sorted(recent.configs):
        try:
            recs += recommend_deployment(recent, deployment_id, calibration, policy, api_prices)
            withheld += withheld_changes(recent, deployment_id, policy)
        except ValueError as exc:  # a config the cost model describes but cannot evaluate
            skipped.append(SkippedDeployment(deployment_id, f"no recommendations: {exc}"))
    for s in skipped:
        log.warning("recommendations skip deployment %s: %s", s.deployment_id, s.reason)
    for h in withheld:
        log.info("%s for %s withheld (%s): %s", h.kind, h.deployment_id, h.change, h.reason)
    as_of = max((o.usage_date for o in inputs.observations), default=None)
    recs += [terminate_idle(i, as_of, policy) for i in inputs.idle_instances]
    # Last: what of each saving is cash now, given the commitments that paid for the GPUs.
    gpu_types = {d: c.gpu_id for d, c in inputs.configs.items()}
    recs = apply_commitments(recs, inputs.commitments, gpu_types)
    efficiency = efficiency_rows(
        inputs, policy, calibration_window_days, min_calibration_requests, min_calibration_days
    )
    return EngineResult(efficiency, tuple(recs), calibration, tuple(skipped), tuple(withheld))
