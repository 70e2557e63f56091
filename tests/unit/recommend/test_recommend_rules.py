"""Rules on hand-made workloads: API break-even, saturation, thresholds, purity."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import replace

import pytest

from pipelines.recommend.api import ApiPrice, api
from pipelines.recommend.inputs import DeploymentConfig
from pipelines.recommend.outputs import Recommendation
from pipelines.recommend.policy import Policy
from pipelines.recommend.rightsize import right_size
from pipelines.recommend.workload import Workload

CONFIG = DeploymentConfig("chat", "qwen2.5-7b", "h100-sxm", 1, 1, "bf16", "bf16", "vllm", 6.88)


def _workload(**kw) -> Workload:
    base = dict(
        deployment_id="chat",
        days=7,
        as_of=dt.date(2026, 11, 7),
        requests_per_day=1200,
        tokens_per_day=1.6e6,
        input_tokens_per_day=1.35e6,
        output_tokens_per_day=0.25e6,
        cached_tokens_per_day=0,
        isl=1130,
        isl_uncached=1130,
        osl=210,
        batch_when_busy=1.0,
        p95_concurrency=1.4,
        busy_fraction=0.02,
        peak_busy_fraction=0.04,
        peak_to_mean_load=1.8,
        p95_ttft_ms=185,
        p95_tpot_ms=8.3,
        telemetry_coverage=1.0,
        daily_cost_usd=6.88 * 24,
    )
    return Workload(**(base | kw))


def test_idle_h100_moves_to_l4():
    rec = right_size(CONFIG, _workload(), Policy(), calibrated=True)
    assert rec is not None and rec.target["gpu_id"] == "l4"


def test_saturated_gpus_are_never_right_sized():
    busy = _workload(busy_fraction=0.97, peak_busy_fraction=0.99)
    assert right_size(CONFIG, busy, Policy(), calibrated=True) is None


def test_saving_threshold_blocks_small_wins():
    policy = Policy(min_monthly_savings_usd=1e6)
    assert right_size(CONFIG, _workload(), policy, calibrated=True) is None


def test_api_only_for_eligible_deployments_and_by_a_margin():
    price = ApiPrice("test", "qwen2.5-7b", "qwen-7b", 0.30, 0.30)
    w, policy = _workload(), Policy()
    assert api(CONFIG, w, policy, 19.3, [price]) is None  # not eligible
    eligible = replace(CONFIG, api_eligible=True)
    rec = api(eligible, w, policy, w.daily_cost_usd, [price])
    assert rec is not None and rec.kind == "api"
    assert rec.monthly_savings_usd == pytest.approx((w.daily_cost_usd - 0.48) * 30)
    # against a right-sized self-hosted option of $19.3/day the API saves < $1000/month
    assert api(eligible, w, policy, 19.3, [price]) is None


def test_recommendation_validates_kind_and_confidence():
    fields = dict(
        deployment_id="x",
        summary="s.",
        monthly_savings_usd=1.0,
        assumptions=(),
        as_of_date=dt.date(2026, 1, 1),
        target={},
        current_daily_cost_usd=2.0,
        proposed_daily_cost_usd=1.0,
    )
    with pytest.raises(ValueError):
        Recommendation(kind="terminate", confidence=0.5, **fields)
    with pytest.raises(ValueError):
        Recommendation(kind="api", confidence=1.5, **fields)


def test_recommend_never_imports_dagster_or_duckdb():
    code = (
        "import sys, pipelines.recommend.engine, pipelines.recommend.fleet_inputs; "
        "print(any(m.split('.')[0] in ('dagster', 'duckdb') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
