"""The saturation guard (pipelines/recommend/saturation.py) on hand-built deployments: a
deployment that queued or preempted at its peak is never proposed fewer GPUs or replicas,
and says why."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from workloads import chat_workload

from pipelines.recommend.engine import recommend
from pipelines.recommend.inputs import DeploymentConfig
from pipelines.recommend.policy import Policy
from pipelines.recommend.quantize import quantize
from pipelines.recommend.rightsize import right_size
from pipelines.recommend.saturation import (
    SaturationHour,
    keep_size_reason,
    peak_saturation,
)


def _hour(h: int, waiting_p95: float, preemptions: int | None, dep: str = "d") -> SaturationHour:
    start = dt.datetime(2026, 11, 3, h, tzinfo=dt.UTC)
    return SaturationHour(dep, start, waiting_p95, waiting_p95 * 2, preemptions)


HOURS = (
    _hour(10, 0.0, 0),
    _hour(15, 1.5, 12),  # the most queued hour
    _hour(16, 0.0, 40),  # the most preempting hour
    _hour(15, 9.0, 99, dep="other"),  # another deployment's
)


def test_the_peak_is_the_worst_hour_of_each_signal_and_the_reason_names_both():
    peak = peak_saturation(HOURS, "d")
    assert (peak.waiting_p95_requests, peak.waiting_hour.hour) == (1.5, 15)
    assert (peak.preemptions, peak.preemptions_hour.hour) == (40, 16)
    reason = keep_size_reason(peak, Policy())
    assert "2026-11-03 15:00 UTC: p95 1.5 waiting per vLLM server" in reason
    assert "over the 0 of max_peak_waiting_p95_requests" in reason
    assert "preempted 40 requests in its worst hour (2026-11-03 16:00 UTC)" in reason
    assert "max_peak_preemptions" in reason


def test_thresholds_are_strict_and_no_metrics_means_no_guard():
    peak = peak_saturation(HOURS, "d")
    # at the limits exactly: not saturated (waiting p95 must exceed 1.5, preemptions 40)
    assert (
        keep_size_reason(peak, Policy(max_peak_waiting_p95_requests=1.5, max_peak_preemptions=40))
        is None
    )
    only_preempts = keep_size_reason(peak, Policy(max_peak_waiting_p95_requests=2))
    assert only_preempts is not None and "queued" not in only_preempts
    assert peak_saturation(HOURS, "no-vllm-metrics") is None
    assert keep_size_reason(None, Policy()) is None
    # an hour whose counter is absent (NULL) counts as no preemptions, its queue still counts
    quiet = peak_saturation((_hour(9, 0.0, None),), "d")
    assert (quiet.preemptions, quiet.preemptions_hour) == (0, None)
    assert keep_size_reason(quiet, Policy()) is None


# Four TP1 replicas of Llama-3.1-8B on L4s at $1.1504/GPU-hour (a g6.12xlarge), 20 % busy in
# its busiest hour: consolidating to fewer replicas is what busy time alone proposes.
FOUR_L4 = DeploymentConfig("d", "llama-3.1-8b", "l4", 4, 1, "bf16", "bf16", "vllm", 1.1504)
QUIET_4_L4 = chat_workload(
    deployment_id="d",
    requests_per_day=6000,
    busy_fraction=0.12,
    peak_busy_fraction=0.20,
    p95_tpot_ms=75,
    p95_ttft_ms=400,
    daily_cost_usd=Decimal("110.438400"),  # 4 × 1.1504 × 24
)
SATURATED = keep_size_reason(peak_saturation(HOURS, "d"), Policy())


def test_a_saturated_deployment_is_not_consolidated():
    free = right_size(FOUR_L4, QUIET_4_L4, Policy(), calibrated=True)
    assert free is not None and free.target["num_gpus"] < 4  # the change the guard must stop
    assert right_size(FOUR_L4, QUIET_4_L4, Policy(), True, keep_size_reason=SATURATED) is None


def test_a_saturated_deployment_may_move_to_as_many_cheaper_gpus_and_says_why():
    # one H100 at $6.88/h serving a 7B chat model: one L4 is the same count, cheaper
    h100 = DeploymentConfig("d", "qwen2.5-7b", "h100-sxm", 1, 1, "bf16", "bf16", "vllm", 6.88)
    rec = right_size(h100, chat_workload(), Policy(), True, keep_size_reason=SATURATED)
    assert rec is not None
    assert (rec.target["gpu_id"], rec.target["num_gpus"]) == ("l4", 1)
    assert SATURATED in " ".join(rec.assumptions)
    assert "keeps at least its 1 GPUs and 1 replicas" in " ".join(rec.assumptions)


def test_quantize_frees_gpus_so_a_saturated_deployment_gets_none():
    # 70B BF16 on 4 H100s (TP4), FP8 fits 2: the default fleet's planted quantize
    tp4 = DeploymentConfig("d", "llama-3.1-70b", "h100-sxm", 4, 4, "bf16", "bf16", "vllm", 6.88)
    w = chat_workload(
        deployment_id="d",
        requests_per_day=14000,
        peak_busy_fraction=0.5,
        busy_fraction=0.4,
        p95_tpot_ms=40,
        p95_ttft_ms=600,
        daily_cost_usd=Decimal("660.480000"),
    )
    free = quantize(tp4, w, Policy(), calibrated=True)
    assert free is not None and free.target["num_gpus"] < 4
    assert quantize(tp4, w, Policy(), True, keep_size_reason=SATURATED) is None


def test_the_engine_withholds_shrinks_of_saturated_deployments_with_the_reason(fleet, result):
    """On the simulated default fleet (tests/unit/recommend/conftest.py): give every
    deployment that gets a shrinking recommendation a queued peak hour; each such
    recommendation disappears into ``withheld``, reason attached; nothing else changes."""
    shrinking = {
        r.deployment_id: r
        for r in result.recommendations
        if r.deployment_id is not None
        and r.kind in ("right_size", "quantize")
        and r.target["num_gpus"] < fleet.configs[r.deployment_id].num_gpus
    }
    assert shrinking, "the default fleet has right_size or quantize recommendations that shrink"
    day = max(o.usage_date for o in fleet.observations)
    peak = dt.datetime.combine(day, dt.time(15, tzinfo=dt.UTC))
    hours = tuple(SaturationHour(d, peak, 2.0, 5.0, 0) for d in shrinking)
    out = recommend(replace(fleet, saturation=hours))
    for dep_id, rec in shrinking.items():
        kinds = {(r.kind, r.deployment_id) for r in out.recommendations}
        assert (rec.kind, dep_id) not in kinds
        (held,) = [h for h in out.withheld if h.deployment_id == dep_id and h.kind == rec.kind]
        assert "p95 2 waiting per vLLM server" in held.reason
    untouched = [r for r in result.recommendations if r.deployment_id not in shrinking]
    key = lambda r: (r.deployment_id or "", r.instance_id or "", r.kind, r.monthly_savings_usd)  # noqa: E731
    assert sorted(map(key, untouched)) == sorted(
        key(r) for r in out.recommendations if r.deployment_id not in shrinking
    )
    # saturation older than the recommendations' window does not count
    old = tuple(replace(h, hour_start=h.hour_start - dt.timedelta(days=30)) for h in hours)
    since = min(o.usage_date for o in fleet.observations)
    aged = recommend(replace(fleet, saturation=old), recommend_since=since)
    assert aged.withheld == ()
