"""The per-deployment charts, from hand-made rows with the columns of ReportTables.deployments.

Two deployments 1,000x apart in cost: each gets its own figures on its own axis, every bar
is labelled with the same money text as the tables, and the waterfall runs in the stated order.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import polars as pl
import pytest

from pipelines.report.charts import (
    deployment_modelled_vs_actual,
    deployment_waterfall,
    recommendation_savings,
)
from pipelines.report.tables import WATERFALL

D = Decimal


def _deployment(scale: Decimal, **overrides) -> dict:
    """A week whose parts add up: 10 + 2 + 5 + 1 = 18 busy; + 3 + 4 + 0.5 + 0.5 = 26."""
    row = {
        "deployment_id": "d",
        "days": 7,
        "efficiency": 10 / 26,
        "floor_cost_usd": D(10) * scale,
        "gap_kernel_efficiency_usd": D(2) * scale,
        "gap_batching_usd": D(5) * scale,
        "gap_residual_usd": D(1) * scale,
        "gap_over_provisioning_usd": D(3) * scale,
        "gap_idle_usd": D(4) * scale,
        "gap_unobserved_usd": D("0.5") * scale,
        "gap_non_gpu_usd": D("0.5") * scale,
        "actual_cost_usd": D(26) * scale,
        "modelled_cost_usd": D(17) * scale,
        "actual_usage_cost_usd": D(18) * scale,
        "modelled_to_actual_ratio": 17 / 18,
        "modelled_usd_per_1m_output_tokens": D("0.85") * scale,
        "actual_usage_usd_per_1m_output_tokens": D("0.9") * scale,
    }
    return {**row, **overrides}


def test_the_waterfall_runs_floor_kernel_batching_residual_overprovisioning_idle_to_actual():
    fig = deployment_waterfall(_deployment(D(1000)))
    (trace,) = fig.data
    assert trace.type == "bar"  # floating bars: the cartesian bundle has no waterfall trace
    assert list(trace.x) == [
        "floor",
        "kernel efficiency",
        "batching",
        "residual",
        "over-provisioning",
        "idle",
        "unobserved",
        "non-GPU",
        "actual",
    ]
    assert list(trace.x) == [label for label, _, _ in WATERFALL]
    assert list(trace.y) == [10_000, 2_000, 5_000, 1_000, 3_000, 4_000, 500, 500, 26_000]
    # each step starts where the last level ended: 10, 12, 17, 18, 21, 25, 25.5 (thousand)
    assert list(trace.base) == [0, 10_000, 12_000, 17_000, 18_000, 21_000, 25_000, 25_500, 0]
    # every step labelled with the report's money text, so even a thin step reads
    assert list(trace.text) == [
        "$10,000", "$2,000", "$5,000", "$1,000", "$3,000", "$4,000", "$500", "$500", "$26,000",
    ]  # fmt: skip
    assert "efficiency 38.5 %" in fig.layout.title.text


def test_a_negative_residual_steps_down_and_is_labelled_with_its_sign():
    row = _deployment(D(1), gap_residual_usd=D("-0.6"), gap_idle_usd=D("5.6"))
    (trace,) = deployment_waterfall(row).data
    assert trace.y[3] == pytest.approx(-0.6)
    assert trace.base[3] == pytest.approx(17)  # hangs down from 17 to 16.4
    assert trace.base[4] == pytest.approx(16.4)
    assert trace.text[3] == "-$0.60"


def test_each_deployment_has_its_own_axis_so_a_small_one_is_not_flattened():
    big = deployment_waterfall(_deployment(D(1000)))
    small = deployment_waterfall(_deployment(D(1)))
    # the axis ends just above the highest level the bars reach (26 units), per deployment
    assert big.layout.yaxis.range == pytest.approx((0, 26_000 * 1.15))
    assert small.layout.yaxis.range == pytest.approx((0, 26 * 1.15))


def test_modelled_vs_actual_puts_both_on_the_usage_basis_side_by_side_each_panel_from_zero():
    fig = deployment_modelled_vs_actual(_deployment(D(1)))
    week, per_token = fig.data
    assert list(week.x) == list(per_token.x) == ["modelled", "actual (usage)"]
    assert list(week.y) == [17, 18]  # modelled_cost_usd vs actual_usage_cost_usd
    assert list(per_token.y) == [0.85, 0.9]  # per 1M output tokens, both usage basis
    assert list(week.text) == ["$17.00", "$18.00"]
    assert list(per_token.customdata) == ["$0.85 per 1M", "$0.90 per 1M"]
    assert fig.layout.yaxis.range == pytest.approx((0, 18 * 1.2))
    assert fig.layout.yaxis2.range == pytest.approx((0, 0.9 * 1.2))
    assert "modelled ÷ actual = 94.4 %" in fig.layout.title.text
    assert [a.text for a in fig.layout.annotations] == [
        "USD over 7 days",
        "USD per 1M output tokens",
    ]


def test_a_modelled_bar_far_below_actual_is_still_drawn_and_labelled():
    # the old "predicted" was 5 % of actual and 1-2 px wide beside it on a fleet-wide axis
    fig = deployment_modelled_vs_actual(
        _deployment(D(1), modelled_cost_usd=D("0.9"), modelled_to_actual_ratio=0.05)
    )
    week = fig.data[0]
    assert list(week.text) == ["$0.90", "$18.00"]
    assert week.textposition == "outside"


def test_no_figure_without_efficiency_rows_or_without_traffic():
    no_rows = {"deployment_id": "x", "days": None, "floor_cost_usd": None, "actual_cost_usd": None}
    assert deployment_waterfall(no_rows) is None
    assert deployment_modelled_vs_actual({**no_rows, "modelled_cost_usd": None}) is None
    idle = _deployment(D(1), modelled_cost_usd=D(0), actual_usage_cost_usd=D(0))
    assert deployment_modelled_vs_actual(idle) is None
    assert deployment_waterfall(idle) is not None  # its idle cost still steps up to actual


def test_a_deployment_without_token_prices_gets_the_cost_panel_only():
    row = _deployment(D(1), modelled_usd_per_1m_output_tokens=None)
    assert len(deployment_modelled_vs_actual(row).data) == 1


def test_savings_stack_cash_now_and_deferred_per_recommendation(tables):
    # hand-made: two rows, most cash first as recommendations.sql orders them
    recs = pl.DataFrame(
        {
            "deployment_id": ["a", None],
            "instance_id": [None, "i-1"],
            "kind": ["right_size", "right_size"],
            "cash_monthly_savings_usd": [D("1500.5"), D(0)],
            "deferred_monthly_savings_usd": [D(0), D("300.25")],
        },
        schema_overrides={
            "cash_monthly_savings_usd": pl.Decimal(38, 12),
            "deferred_monthly_savings_usd": pl.Decimal(38, 12),
        },
    )
    fig = recommendation_savings(dataclasses.replace(tables, recommendations=recs))
    cash, deferred = fig.data
    assert list(cash.y) == ["i-1 · right_size", "a · right_size"]  # most cash at the top
    assert (list(cash.x), list(deferred.x)) == ([0, 1500.5], [300.25, 0])
    assert list(cash.customdata) == ["$0.00/mo", "$1,501/mo"]
    assert fig.layout.barmode == "stack"
