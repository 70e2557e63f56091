"""Confidence of a recommendation in [0, 1]: a product of documented evidence factors.

* days observed: sqrt(days / days_for_full_confidence), capped at 1 (a week sees weekdays);
* telemetry coverage: the share of billed hours with utilisation data, as is;
* peak-to-mean hourly load: 1.25 − 0.25 · ratio, in [0.5, 1] (spiky load hides peaks);
* latency headroom: 2 · (1 − predicted p95 / SLO), in [0.25, 1], worst of TPOT and TTFT;
* efficiency source: 1 if calibrated from this deployment's logs, 0.8 on priors.
"""

from __future__ import annotations

import math

from pipelines.recommend.policy import Policy
from pipelines.recommend.workload import Workload


def _clip(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def confidence(
    w: Workload,
    policy: Policy,
    predicted_p95_tpot_ms: float | None = None,
    predicted_p95_ttft_ms: float | None = None,
    calibrated: bool = True,
) -> float:
    """Combine the evidence factors; latency is skipped when the change cannot slow it."""
    days = min(1.0, math.sqrt(w.days / policy.days_for_full_confidence))
    coverage = _clip(w.telemetry_coverage, 0.0, 1.0)
    peak = _clip(1.25 - 0.25 * w.peak_to_mean_load, 0.5, 1.0)
    latency = 1.0
    for predicted, slo in (
        (predicted_p95_tpot_ms, policy.slo_p95_tpot_ms),
        (predicted_p95_ttft_ms, policy.slo_p95_ttft_ms),
    ):
        if predicted is not None:
            latency = min(latency, _clip(2 * (1 - predicted / slo), 0.25, 1.0))
    source = 1.0 if calibrated else 0.8
    return round(days * coverage * peak * latency * source, 3)
