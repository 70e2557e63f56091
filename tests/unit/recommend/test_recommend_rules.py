"""Rules on hand-made workloads: API break-even, saturation, thresholds, purity."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from workloads import chat_workload

from pipelines.recommend.api import ApiPrice, api
from pipelines.recommend.inputs import DeploymentConfig
from pipelines.recommend.outputs import Recommendation
from pipelines.recommend.policy import Policy
from pipelines.recommend.rightsize import right_size
from pipelines.recommend.workload import Workload

CONFIG = DeploymentConfig("chat", "qwen2.5-7b", "h100-sxm", 1, 1, "bf16", "bf16", "vllm", 6.88)


def _workload(**kw) -> Workload:
    return chat_workload(**kw)


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
    price = ApiPrice("test", "qwen2.5-7b", "qwen-7b", "0.30", "0.30", "0.30")
    w, policy = _workload(), Policy()
    assert api(CONFIG, w, policy, Decimal("19.3"), [price]) is None  # not eligible
    eligible = replace(CONFIG, api_eligible=True)
    rec = api(eligible, w, policy, w.daily_cost_usd, [price])
    assert rec is not None and rec.kind == "api"
    # by hand: 1.6M tokens × $0.30/1M = $0.48/day; (165.12 - 0.48) × 365 / 12 = 5,007.80
    assert rec.proposed_daily_cost_usd == Decimal("0.48")
    assert rec.monthly_savings_usd == Decimal("5007.80")
    # against a right-sized self-hosted option of $19.3/day the API saves
    # (19.3 - 0.48) × 365 / 12 = $572.44/month, under the $1,000 floor
    assert api(eligible, w, policy, Decimal("19.3"), [price]) is None


def test_api_prices_cached_input_at_the_cached_rate():
    # 1.35M input tokens/day of which 1.0M hit the prompt cache, 0.25M output tokens/day
    price = ApiPrice("test", "qwen2.5-7b", "qwen-7b", "0.30", "0.075", "0.60")
    w = _workload(cached_tokens_per_day=1.0e6)
    rec = api(replace(CONFIG, api_eligible=True), w, Policy(), w.daily_cost_usd, [price])
    # by hand: 0.35M × 0.30 + 1.0M × 0.075 + 0.25M × 0.60 = 0.105 + 0.075 + 0.15 = $0.33/day
    # (all input at $0.30 would be $0.555/day)
    assert rec.proposed_daily_cost_usd == Decimal("0.33")
    # (165.12 - 0.33) × 365 / 12 = 164.79 × 30.41666… = 5,012.3625 -> 5,012.36 to the cent
    assert rec.monthly_savings_usd == Decimal("5012.36")
    assert "1.0M of the 1.4M input tokens/day hit this deployment's prompt cache" in (
        " ".join(rec.assumptions)
    )


def test_api_offers_only_the_registry_substitutes():
    own = ApiPrice("a", "qwen2.5-7b", "qwen-7b", "0.30", "0.30", "0.30")
    other = ApiPrice("b", "llama-3.1-8b", "llama-8b", "0.10", "0.10", "0.10")
    w = _workload()
    eligible = replace(CONFIG, api_eligible=True)
    # default: the deployment's own LLM only, though another is cheaper
    rec = api(eligible, w, Policy(), w.daily_cost_usd, [own, other])
    assert (rec.target["provider"], rec.target["llm_id"]) == ("a", "qwen2.5-7b")
    both = replace(eligible, api_substitutes=("qwen2.5-7b", "llama-3.1-8b"))
    rec = api(both, w, Policy(), w.daily_cost_usd, [own, other])
    assert (rec.target["provider"], rec.target["llm_id"]) == ("b", "llama-3.1-8b")
    assert rec.proposed_daily_cost_usd == Decimal("0.16")  # 1.6M tokens × $0.10/1M
    assert "llama-3.1-8b is an acceptable substitute for qwen2.5-7b" in rec.assumptions[0]


def test_recommendation_validates_kind_and_confidence():
    fields = dict(
        deployment_id="x",
        summary="s.",
        monthly_savings_usd=Decimal("1.00"),
        assumptions=(),
        as_of_date=dt.date(2026, 1, 1),
        target={},
        current_daily_cost_usd=Decimal("2"),
        proposed_daily_cost_usd=Decimal("1"),
    )
    with pytest.raises(ValueError):
        Recommendation(kind="terminate", confidence=0.5, **fields)
    with pytest.raises(ValueError):
        Recommendation(kind="api", confidence=1.5, **fields)
    with pytest.raises(TypeError, match="money must be Decimal"):  # a float is never money
        Recommendation(kind="api", confidence=0.5, **(fields | {"monthly_savings_usd": 1.0}))


def test_recommend_never_imports_dagster_or_duckdb():
    code = (
        "import sys, pipelines.recommend.engine, pipelines.recommend.predict; "
        "print(any(m.split('.')[0] in ('dagster', 'duckdb') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_production_code_reads_the_simulators_ground_truth():
    """The simulator is the test oracle: only pipelines/fleet (which writes it), the
    benchmarks (which run it to make inputs) and the tests may name ground_truth.json or its
    truth/ streams."""
    root = Path(__file__).parents[3] / "pipelines"
    readers = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if not {"fleet", "bench"} & set(p.relative_to(root).parts)
        and ("ground_truth" in (text := p.read_text()) or '"truth"' in text)
    ]
    assert readers == []
