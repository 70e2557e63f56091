"""Actual, modelled and floor on two simulated fleets, against the simulator's truth: the
default fleet over a week and the second fleet (pipelines/fleet/specs/second_fleet.yaml)
over three days, each loaded by one `unitcost run`.

Every expected value comes from the simulator, never from the project's marts or the engine:
``ground_truth.json`` (busy GPU-seconds per deployment-day, the bill's effective USD per
deployment-day, the spec's service parameters) and the simulator's own service law
(``pipelines/fleet/service.py``): a request takes ``(input − cached) / prefill_tokens_per_s
+ (output − 1) · (tpot_base + tpot_per_seq · B)`` on a replica at batch B, each jittered by
a log-normal speed factor of mean e^(σ²/2).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from statistics import median

import pytest

from pipelines.costmodel.architecture import expert_touch_fraction, forward_flops, parameter_counts
from pipelines.costmodel.catalog import llm_architecture
from pipelines.costmodel.gpus import gpu_spec
from pipelines.costmodel.memory import kv_cache_bytes_per_token, weight_bytes
from pipelines.costmodel.precision import get_precision
from pipelines.fleet.service import SPEED_SIGMA
from pipelines.runner import run
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow

# The bound is issue 11's; the tolerances are what the code achieves on both fleets (measured
# maxima over every scored day in brackets), not loosened to pass.
MODELLED_BOUND = 0.10  # median |modelled / actual - 1| per deployment [9.8 %: mixtral, MoE]
USAGE_VS_TRUTH = 0.002  # DCGM-measured busy cost vs the simulator's busy time [0.11 %]
IDLE_VS_TRUTH = 0.002  # idle + surplus GPUs vs the simulator's idle time [0.13 %]
BATCHING_VS_SPEC = 0.10  # [8.7 %: agents-qwen3-32b, 12k-token contexts]
MBU_VS_SPEC = 0.16  # [15.2 %: summarise-mixtral, experts touched at a varying batch]
MFU_VS_SPEC = 0.05  # [4.5 %]
SPEED_MEAN = math.exp(SPEED_SIGMA**2 / 2)


@pytest.fixture(scope="module", params=["default_week", "second_fleet_run"])
def week(request):
    folder, truth = request.getfixturevalue(request.param)
    with connect(folder / "unitcost.duckdb", read_only=True) as con:
        cur = con.execute("select * from marts.fct_efficiency_daily order by 2, 1")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return folder, truth, rows


def _usd_per_gpu_second(truth, dep_id: str, day: dt.date) -> Decimal:
    """The deployment's effective USD per GPU-second that day, from the simulated bill."""
    billed = Decimal(truth["billing"]["deployments"][dep_id][day.isoformat()]["effective_usd"])
    return billed / (truth["deployments"][dep_id]["gpu"]["count"] * 86_400)


def _truth_day(truth, dep_id: str, day: dt.date) -> dict:
    return truth["deployments"][dep_id]["days"][day.isoformat()]


def _spec_gpu_seconds(truth, row, batch: float) -> float:
    """GPU-seconds the simulator's service law says the day's (observed) requests take at
    ``batch`` requests per replica (Little's law: time on the GPUs / batch while busy)."""
    dep = truth["deployments"][row["deployment_id"]]
    svc, day = dep["service"], _truth_day(truth, row["deployment_id"], row["usage_date"])
    # every request prefills its uncached prompt; those that succeed decode output - 1 steps
    prefill_s = (day["input_tokens"] - day["cached_tokens"]) / svc["prefill_tokens_per_s"]
    steps = day["output_tokens"] - (day["requests"] - day["errors"])
    tpot_s = (svc["tpot_base_ms"] + svc["tpot_per_seq_ms"] * batch) / 1000
    life_s = SPEED_MEAN * (prefill_s + steps * tpot_s)
    return row["observed_request_share"] * life_s / batch * dep["tensor_parallel"]


def _calibrated(rows):
    return [r for r in rows if r["efficiency_source"] == "calibrated"]


def _own_fit(rows):
    """Days scored with the deployment's own earlier requests (not its hardware group's)."""
    return [r for r in rows if r["calibration_scope"] == "deployment"]


def test_every_day_after_the_first_is_scored_out_of_sample(week):
    """Nothing precedes the week's first day: the prior, and the row says so. Every later
    day is scored with a fit on at most the 7 days before it (its own, or, on a
    deployment's first day, its hardware group's: agents-qwen3-32b starts on day 3)."""
    _, truth, rows = week
    first = min(r["usage_date"] for r in rows)
    for r in rows:
        if r["usage_date"] == first:
            assert (r["efficiency_source"], r["calibration_days"]) == ("prior", 0), r
        else:
            assert r["efficiency_source"] == "calibrated", r
            assert 1 <= r["calibration_days"] <= min(7, (r["usage_date"] - first).days)
    assert {r["deployment_id"] for r in rows} == set(truth["deployments"])


def test_modelled_reproduces_the_measured_busy_cost_out_of_sample(week):
    """Issue 11's bound, against the simulator's busy time priced at the simulated bill."""
    _, truth, rows = week
    errors: dict[str, list[float]] = {}
    for r in _calibrated(rows):
        day = r["usage_date"]
        price = _usd_per_gpu_second(truth, r["deployment_id"], day)
        actual = price * Decimal(
            str(_truth_day(truth, r["deployment_id"], day)["busy_gpu_seconds"])
        )
        errors.setdefault(r["deployment_id"], []).append(float(r["modelled_cost_usd"] / actual) - 1)
    medians = {d: median(abs(e) for e in v) for d, v in errors.items()}
    print({d: round(m, 4) for d, m in sorted(medians.items())})
    assert set(medians) == set(truth["deployments"])
    assert max(medians.values()) <= MODELLED_BOUND, medians


def test_usage_basis_actual_is_the_simulated_busy_time_at_the_billed_price(week):
    _, truth, rows = week
    for r in rows:
        day = r["usage_date"]
        price = _usd_per_gpu_second(truth, r["deployment_id"], day)
        busy = Decimal(str(_truth_day(truth, r["deployment_id"], day)["busy_gpu_seconds"]))
        assert float(r["actual_usage_cost_usd"] / (price * busy)) == pytest.approx(
            1, abs=USAGE_VS_TRUTH
        ), r["deployment_id"]


def test_idle_and_surplus_gpus_are_the_simulated_idle_time(week):
    """Idle + GPUs held beyond need (over-provisioning less its TP part) = the GPU-seconds
    the simulator did not keep busy, at the billed price."""
    _, truth, rows = week
    for r in rows:
        day, dep = r["usage_date"], r["deployment_id"]
        price = _usd_per_gpu_second(truth, dep, day)
        held = truth["deployments"][dep]["gpu"]["count"] * 86_400
        idle = price * (held - Decimal(str(_truth_day(truth, dep, day)["busy_gpu_seconds"])))
        got = r["gap_idle_usd"] + r["gap_over_provisioning_usd"] - r["gap_over_provisioning_tp_usd"]
        assert float(got) == pytest.approx(float(idle), rel=IDLE_VS_TRUTH, abs=0.01), dep
        assert r["gap_idle_usd"] >= 0 and r["gap_over_provisioning_usd"] >= 0


def test_batching_gap_follows_the_simulators_service_law(week):
    """From the observed batch to the batch memory allows, the simulator's own law gives the
    GPU time saved; the mart's batching component prices the cost model's version."""
    _, truth, rows = week
    ratios = {}
    for r in _own_fit(rows):
        price = float(_usd_per_gpu_second(truth, r["deployment_id"], r["usage_date"]))
        saved = _spec_gpu_seconds(truth, r, r["batch_observed"]) - _spec_gpu_seconds(
            truth, r, r["batch_max"]
        )
        ratios[(r["deployment_id"], r["usage_date"])] = float(r["gap_batching_usd"]) / (
            price * saved
        )
    print({k[0]: round(v, 3) for k, v in sorted(ratios.items())})
    assert max(abs(v - 1) for v in ratios.values()) <= BATCHING_VS_SPEC, ratios


def _spec_efficiency(truth, row) -> tuple[float, float]:
    """(MBU, MFU) the simulator's service parameters imply on that day, by hand: a decode
    step at the observed batch reads the weights it touches and the batch's KV at the mean
    context, over the catalog's HBM bandwidth, in tpot(B); a prefill does its FLOPs for the
    mean uncached prompt in prompt / prefill_tokens_per_s, over the catalog's dense peak."""
    dep = truth["deployments"][row["deployment_id"]]
    day = _truth_day(truth, row["deployment_id"], row["usage_date"])
    svc, tp, batch = dep["service"], dep["tensor_parallel"], row["batch_observed"]
    arch, gpu = llm_architecture(dep["llm"]), gpu_spec(dep["gpu"]["type"])
    precision = get_precision(dep["precision"]["weights"])
    isl = day["input_tokens"] / day["requests"]
    osl = day["output_tokens"] / (day["requests"] - day["errors"])
    uncached = (day["input_tokens"] - day["cached_tokens"]) / day["requests"]
    untouched = parameter_counts(arch).expert_params * precision.bytes_per_weight
    untouched *= 1 - expert_touch_fraction(arch, batch)
    kv = kv_cache_bytes_per_token(arch, dep["precision"]["kv_cache"], tp)
    read = (weight_bytes(arch, precision) - untouched) / tp + batch * (isl + osl / 2) * kv
    tpot_s = (svc["tpot_base_ms"] + svc["tpot_per_seq_ms"] * batch) / 1000
    mbu = read / gpu.memory_bandwidth_bytes_per_s / tpot_s
    flops = float(forward_flops(arch, uncached, uncached / 2)) / tp
    mfu = (
        flops
        * svc["prefill_tokens_per_s"]
        / uncached
        / gpu.peak_flops_per_s(precision.compute_dtype)
    )
    return mbu, mfu


def test_calibration_recovers_the_efficiency_the_spec_implies(week):
    """The kernel-efficiency component prices fitted vs prior MBU/MFU; the fitted values
    must be the ones the simulator's spec implies (fitted on earlier days, own requests)."""
    _, truth, rows = week
    off = {}
    for r in _own_fit(rows):
        mbu, mfu = _spec_efficiency(truth, r)
        off[(r["deployment_id"], r["usage_date"])] = (r["mbu_used"] / mbu, r["mfu_used"] / mfu)
    print({k[0]: (round(a, 3), round(b, 3)) for k, (a, b) in sorted(off.items())})
    assert max(abs(a - 1) for a, _ in off.values()) <= MBU_VS_SPEC, off
    assert max(abs(b - 1) for _, b in off.values()) <= MFU_VS_SPEC, off


def test_the_floor_is_below_the_bill(week):
    """The floor is the cheapest way to serve the traffic: above the bill it would be wrong."""
    _, _, rows = week
    for r in rows:
        assert 0 < r["floor_cost_usd"] <= r["actual_cost_usd"]


def test_a_daily_run_writes_the_rows_a_backfill_wrote(default_week):
    """The fixture loaded the week in one run; re-running one day alone (as the daily job
    does) must give that day the same rows, bit for bit."""
    folder, _ = default_week
    day = dt.date(2026, 11, 5)
    with connect(folder / "unitcost.duckdb", read_only=True) as con:
        cur = con.execute(
            "select * from marts.fct_efficiency_daily where usage_date = ? order by 2", [day]
        )
        names = [d[0] for d in cur.description]
        before = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    assert len(before) == 8  # every deployment served that day
    run(folder / "unitcost.yaml", day, day + dt.timedelta(days=1))
    with connect(folder / "unitcost.duckdb", read_only=True) as con:
        cur = con.execute(
            "select * from marts.fct_efficiency_daily where usage_date = ? order by 2", [day]
        )
        names = [d[0] for d in cur.description]
        after = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    assert after == before
