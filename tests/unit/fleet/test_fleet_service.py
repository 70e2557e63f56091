"""The simulator's service model and arrival process, on hand-built inputs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from pipelines.fleet.arrivals import DayRequests, day_requests
from pipelines.fleet.service import serve
from pipelines.fleet.specbase import Service, Traffic
from pipelines.fleet.traces import load_trace

SVC = Service(prefill_tokens_per_s=10_000, tpot_base_ms=10, tpot_per_seq_ms=0, max_batch=8)


def _one_per_minute(minutes: int, output: int = 101) -> DayRequests:
    n = minutes
    return DayRequests(
        arrival_us=np.arange(n, dtype=np.int64) * 60_000_000,
        input_tokens=np.full(n, 1_500),
        output_tokens=np.full(n, output),
        cached_tokens=np.full(n, 500),
    )


def test_light_load_ttft_is_prefill_and_decode_follows_tpot():
    served = serve(_one_per_minute(100), SVC, 1, np.random.default_rng(0))
    ttft_s = (served.first_token_us - np.arange(100) * 60_000_000) / 1e6
    decode_s = (served.finish_us - served.first_token_us) / 1e6
    # 1,000 uncached tokens at 10k tok/s = 0.1 s; 100 decode steps x 10 ms = 1 s; both share
    # the request's speed factor, so their ratio is exact.
    assert ttft_s.mean() == pytest.approx(0.1, rel=0.05)
    np.testing.assert_allclose(decode_s / ttft_s, 10.0, rtol=1e-4)
    # One request a minute, alone on the GPUs from its arrival (no queue) to its finish: the
    # minute is busy for exactly its life (µs-rounded), not 1 - e^(-λW) of it.
    np.testing.assert_allclose(served.busy[0, :100], (ttft_s + decode_s) / 60, atol=1e-7)
    assert served.busy[0, 100:].sum() == 0


def test_busy_is_the_union_of_overlapping_requests():
    """Two requests at once for 30 s keep the GPUs busy 30 s, not 60 (and not Poisson's
    1 - e^(-1) of the minute): 12:00:00 and 12:00:00.5 each for ~30 s at this speed."""
    svc = Service(prefill_tokens_per_s=1e9, tpot_base_ms=100, tpot_per_seq_ms=0, max_batch=8)
    pair = DayRequests(
        arrival_us=np.array([720 * 60_000_000, 720 * 60_000_000 + 500_000]),
        input_tokens=np.full(2, 10),
        output_tokens=np.full(2, 301),
        cached_tokens=np.zeros(2, dtype=np.int64),
    )
    served = serve(pair, svc, 1, np.random.default_rng(0))
    start = pair.arrival_us.min()
    union_s = (served.finish_us.max() - start) / 1e6  # they overlap: one stretch
    assert served.busy[0, 720] == pytest.approx(min(union_s, 60) / 60, abs=1e-6)
    assert served.busy[0].sum() == pytest.approx(union_s / 60, abs=1e-6)


def test_overload_saturates_and_queues_until_drained():
    burst = DayRequests(
        arrival_us=np.sort(np.random.default_rng(1).integers(0, 60_000_000, 2_000)),
        input_tokens=np.full(2_000, 1_000),
        output_tokens=np.full(2_000, 100),
        cached_tokens=np.zeros(2_000, dtype=np.int64),
    )
    served = serve(burst, SVC, 1, np.random.default_rng(0))
    # Capacity: 8 requests per (0.1 + 100 x 0.01) s = 7.27/s = 436/minute: ~5 minutes backlog.
    busy = served.busy[0]
    assert busy[:4].tolist() == [1.0] * 4 and busy[10:].sum() == 0
    assert served.batch[0, 0] == SVC.max_batch
    assert (served.first_token_us - burst.arrival_us).max() > 60_000_000


def test_errors_have_no_output():
    svc = SVC.model_copy(update={"error_rate": 0.5})
    served = serve(_one_per_minute(1_000), svc, 2, np.random.default_rng(0))
    assert 400 < served.error.sum() < 600
    assert served.output_tokens[served.error].sum() == 0
    assert set(np.unique(served.replica)) == {0, 1}


def test_arrivals_follow_the_diurnal_curve():
    traffic = Traffic(
        trace="azure_conv", requests_per_day=200_000, diurnal_amplitude=0.5, peak_hour_utc=15
    )
    day = day_requests(load_trace("azure_conv"), 200_000, traffic, np.random.default_rng(0))
    hours = np.bincount(day.arrival_us // 3_600_000_000, minlength=24)
    assert len(hours) == 24 and np.all(np.diff(day.arrival_us) >= 0)
    # The trace's own bursts ride on the curve, so compare 6-hour windows, not single hours:
    # over 12-18 h the cosine term integrates to +(24/pi)*sin(pi/4)*0.5, over 0-6 h to minus it.
    swing = 24 / np.pi * np.sin(np.pi / 4) * 0.5
    peak, trough = hours[12:18].sum(), hours[0:6].sum()
    assert peak / trough == pytest.approx((6 + swing) / (6 - swing), rel=0.1)


def test_tokens_per_day_volume_uses_the_trace_mean():
    trace = load_trace("mooncake_conversation")
    traffic = Traffic(trace="mooncake_conversation", tokens_per_day=1e8)
    day = day_requests(trace, 1e8 / trace.mean_tokens, traffic, np.random.default_rng(0))
    total = day.input_tokens.sum() + day.output_tokens.sum()
    assert total == pytest.approx(1e8, rel=0.05)
    assert 0 < day.cached_tokens.sum() < day.input_tokens.sum()


def test_fleet_package_never_imports_dagster_or_duckdb():
    code = (
        "import sys, pipelines.fleet.cli, pipelines.fleet.derive_traces; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'duckdb')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
