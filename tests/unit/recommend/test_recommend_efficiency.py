"""The engine's efficiency rows on a simulated fleet (library path): GPU-seconds only.

The priced figures and their truth tests are in tests/integration/test_efficiency_fleet.py
(the warehouse path); here, the rows' shape and what follows from the cost model's own
definitions without the bill: the floor never exceeds the modelled time at the best batch,
which never exceeds the modelled time at the observed (smaller) batch.
"""

from __future__ import annotations

from pipelines.recommend.outputs import efficiency_frame, recommendation_frame

MART_EFFICIENCY = {
    "usage_date",
    "deployment_id",
    "modelled_busy_gpu_seconds",
    "kernel_gpu_seconds",
    "reference_gpu_seconds",
    "floor_gpu_seconds",
    "batch_observed",
    "batch_max",
    "gpus_needed",
    "efficiency_source",
    "calibration_scope",
    "calibration_days",
}
MART_RECOMMENDATIONS = {
    "deployment_id",
    "kind",
    "summary",
    "monthly_savings_usd",
    "confidence",
    "assumptions",
    "as_of_date",
}


def test_one_row_per_observed_deployment_day(fleet, result):
    assert len(result.efficiency) == len(fleet.observations)


def test_batching_harder_never_costs_more_gpu_time(result):
    """At the batch memory allows a request shares its decode steps with more others; the
    cost model's replica time per request can only fall (prefill does not batch away)."""
    for row in result.efficiency:
        assert row.batch_max >= row.batch_observed
        assert row.kernel_gpu_seconds <= row.modelled_busy_gpu_seconds
        assert row.floor_gpu_seconds <= row.reference_gpu_seconds


def test_the_first_day_has_no_history(fleet, result):
    first = min(o.usage_date for o in fleet.observations)
    for row in result.efficiency:
        assert (row.efficiency_source == "prior") == (row.usage_date == first) or (
            row.calibration_scope == "hardware_group"
        )


def test_frames_carry_the_mart_columns(result):
    assert set(efficiency_frame(result.efficiency).columns) >= MART_EFFICIENCY
    frame = recommendation_frame(result.recommendations)
    assert set(frame.columns) >= MART_RECOMMENDATIONS
    assert frame.height == len(result.recommendations)


def test_modelled_time_follows_the_observed_traffic_not_the_telemetry_coverage(fleet, result):
    """The old prediction priced GPU-seconds over the covered part of the day but applied
    them to all of the day's requests: coverage 0.5 doubled it. Now the GPU-seconds are for
    the requests of observed hours: half the coverage of the GPU-hours changes nothing by
    itself; half the requests arriving in observed hours halves them."""
    from dataclasses import replace

    from pipelines.recommend.calibrate import calibrate_days
    from pipelines.recommend.predict import efficiency_row

    obs = next(o for o in fleet.observations if o.deployment_id == "assistant-llama70b")
    config = fleet.configs[obs.deployment_id]
    fitted = calibrate_days(fleet.requests, fleet.configs, [(obs.deployment_id, obs.usage_date)])
    fit = fitted[(obs.deployment_id, obs.usage_date)]
    full = efficiency_row(obs, config, fit)
    half_gpu_hours = efficiency_row(replace(obs, telemetry_coverage=0.5), config, fit)
    half_requests = efficiency_row(replace(obs, observed_request_share=0.5), config, fit)
    assert half_gpu_hours.modelled_busy_gpu_seconds == full.modelled_busy_gpu_seconds
    assert half_requests.modelled_busy_gpu_seconds == 0.5 * full.modelled_busy_gpu_seconds
