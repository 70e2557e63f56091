"""The simulator's KV-cache preemption model (pipelines/fleet/kv_pressure.py), by hand, and
the vLLM scrapes it drives: a spec with a KV capacity preempts, one without never does."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from pipelines.fleet.kv_pressure import kv_pressure
from pipelines.fleet.simulate import simulate


def test_the_newest_requests_are_preempted_until_the_rest_fit():
    # capacity 100 tokens; times in seconds
    #   A: scheduled 0, first token 10, finish 110, 40 prompt + 20 output tokens
    #   B: scheduled 5, first token 15, finish 115, 40 prompt + 10 output tokens
    #   C: scheduled 20, first token 25, finish 200, 30 prompt, no output
    # t=0:   A alone, 40 tokens: 0.40 of the cache.
    # t=60:  A 40 + 20 × 50/100 = 50; B 40 + 10 × 45/100 = 44.5; C 30: 124.5 > 100. Newest
    #        first: C goes (30): 94.5 left, fits. 1 preemption, usage 0.945.
    # t=112: A done; B 40 + 10 × 97/100 = 49.7; C 30: 79.7, fits.
    # t=120: B done too: C alone, 0.30.
    p = kv_pressure(
        scheduled_s=np.array([0.0, 5.0, 20.0]),
        first_token_s=np.array([10.0, 15.0, 25.0]),
        finish_s=np.array([110.0, 115.0, 200.0]),
        input_tokens=np.array([40.0, 40.0, 30.0]),
        output_tokens=np.array([20.0, 10.0, 0.0]),
        scrape_s=np.array([0.0, 60.0, 112.0, 120.0]),
        capacity_tokens=100,
    )
    assert p.preempted.tolist() == [0, 1, 0, 0]
    assert p.usage_frac.tolist() == pytest.approx([0.40, 0.945, 0.797, 0.30], abs=1e-12)


def test_two_evictions_when_one_is_not_enough():
    # capacity 50: three 30-token prompts on at t=1 (90 tokens). Evicting the newest (30)
    # leaves 60 > 50, the next too: 2 preemptions, 30 left (0.6).
    p = kv_pressure(
        np.array([0.0, 0.5, 0.9]),
        np.array([2.0, 2.0, 2.0]),
        np.array([9.0, 9.0, 9.0]),
        np.array([30.0, 30.0, 30.0]),
        np.array([0.0, 0.0, 0.0]),
        np.array([1.0]),
        50,
    )
    assert (p.preempted.tolist(), p.usage_frac.tolist()) == ([2], [pytest.approx(0.6)])


@pytest.fixture
def tight(write_spec, tmp_path):
    """tests/unit/fleet's tiny spec with long prompts and a KV cache of 20,000 tokens."""
    spec = write_spec(
        (
            "traffic: {requests_per_day: 3000, trace: azure_conv}",
            "traffic: {requests_per_day: 3000, trace: mooncake_conversation}",
        ),
        ("max_batch: 16}", "max_batch: 16, kv_capacity_tokens: 20000}"),
    )
    simulate(tmp_path / "out", spec_path=spec, days=2, seed=3)
    return tmp_path / "out"


def _series(out, metric: str) -> pl.DataFrame:
    frame = pl.read_parquet(
        out / "telemetry" / "vllm" / "**" / "*.parquet", hive_partitioning=False
    )
    return frame.filter(pl.col("metric").cast(pl.String) == metric).sort("timestamp")


def test_a_full_kv_cache_preempts_and_the_counter_matches_the_truth(tight):
    counter = _series(tight, "vllm:num_preemptions_total")["value"].to_numpy()
    assert len(counter) == 2 * 1440  # one replica, two days of minute scrapes
    # the only deployment is also the one restarted at 14:00 on day 1: its counter drops
    # once, and rises everywhere else
    drops = np.flatnonzero(np.diff(counter) < 0)
    assert drops.tolist() in ([], [14 * 60])
    steps = np.diff(counter)
    steps[drops] = counter[drops + 1]  # a restart: the new value is the increment
    truth = json.loads((tight / "ground_truth.json").read_text())
    days = truth["telemetry"]["engine_metrics"]["deployments"]["tiny-8b"]
    # the truth counts from the second scrape of the first day (the first has no delta)
    assert steps.sum() == days["2026-11-01"]["preemptions"] + days["2026-11-02"]["preemptions"]
    assert steps.sum() > 0
    kv = _series(tight, "vllm:gpu_cache_usage_perc")["value"]  # an L4 host: vLLM's old name
    assert kv.max() <= 1.0


def test_preempted_requests_wait(tight):
    counter = _series(tight, "vllm:num_preemptions_total")["value"].to_numpy()
    waiting = _series(tight, "vllm:num_requests_waiting")["value"].to_numpy()
    preempted_now = np.diff(counter, prepend=0.0) > 0
    preempted_now[14 * 60 + 1] = False  # the restart's drop is no preemption
    assert (waiting[preempted_now] >= 1).all()
