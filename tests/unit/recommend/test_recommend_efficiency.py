"""fct_efficiency_daily rows: the gap waterfall sums to the bill, fields and frames."""

from __future__ import annotations

import pytest

from pipelines.recommend.outputs import efficiency_frame, recommendation_frame

MART_EFFICIENCY = {
    "usage_date",
    "deployment_id",
    "predicted_usd_per_1m_input_tokens",
    "predicted_usd_per_1m_output_tokens",
    "actual_usd_per_1m_input_tokens",
    "actual_usd_per_1m_output_tokens",
    "efficiency",
    "gap_over_provisioning_usd",
    "gap_idle_usd",
    "gap_batching_usd",
    "gap_kernel_efficiency_usd",
    "gap_residual_usd",
    "efficiency_source",
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


def test_waterfall_sums_to_the_actual_cost(result):
    for row in result.efficiency:
        parts = (
            row.predicted_cost_usd
            + row.gap_over_provisioning_usd
            + row.gap_idle_usd
            + row.gap_batching_usd
            + row.gap_kernel_efficiency_usd
            + row.gap_residual_usd
        )
        assert parts == pytest.approx(row.actual_cost_usd, rel=1e-9)
        assert row.efficiency == pytest.approx(row.predicted_cost_usd / row.actual_cost_usd)
        assert 0 < row.efficiency <= 1


def test_idle_deployment_gap_is_mostly_idle(result, truth):
    dep = truth["planted"]["a"]["deployment"]
    for row in (r for r in result.efficiency if r.deployment_id == dep):
        assert row.gap_idle_usd > 0.9 * row.actual_cost_usd


def test_residual_is_small_once_calibrated(result):
    # the cost-model error left after calibration: prefill is serial in the cost model but
    # overlaps decode in the simulator, so high-concurrency deployments keep up to ~15 %
    for row in result.efficiency:
        assert row.efficiency_source == "calibrated"
        assert abs(row.gap_residual_usd) < 0.15 * row.actual_cost_usd


def test_frames_carry_the_mart_columns(result):
    assert set(efficiency_frame(result.efficiency).columns) >= MART_EFFICIENCY
    frame = recommendation_frame(result.recommendations)
    assert set(frame.columns) >= MART_RECOMMENDATIONS
    assert frame.height == len(result.recommendations)
