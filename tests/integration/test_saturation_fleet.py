"""The saturation signals end to end on pipelines/fleet/specs/saturation_fleet.yaml (two
days, seed 42, one `unitcost run`): fct_saturation_hourly against the simulator's truth and
a second reading of the raw vLLM files, and the right-size guard on the deployment the spec
makes preempt at its peak."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.recommend.engine import recommend
from pipelines.recommend.policy import Policy
from pipelines.recommend.warehouse_inputs import load_warehouse_inputs
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow

SPEC = Path(__file__).parents[2] / "pipelines" / "fleet" / "specs" / "saturation_fleet.yaml"
START, DAYS = dt.date(2026, 11, 1), 2
END = START + dt.timedelta(days=DAYS)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, dbt_manifest):
    from pipelines.fleet.simulate import simulate
    from pipelines.runner import run

    out = tmp_path_factory.mktemp("saturation_fleet")
    simulate(out, spec_path=SPEC, start=START, days=DAYS, seed=42)
    run(out / "unitcost.yaml", START, END)
    truth = json.loads((out / "ground_truth.json").read_text())
    with connect(out / "unitcost.duckdb", read_only=True) as con:
        mart = con.execute("select * from marts.fct_saturation_hourly").pl()
        recs = con.execute(
            "select deployment_id, kind, target from marts.fct_recommendations where is_latest"
        ).pl()
    return out, truth, mart, recs


def _preempting(truth) -> dict[str, int]:
    """Preemptions per deployment over the run, from the simulator's own model."""
    engine = truth["telemetry"]["engine_metrics"]["deployments"]
    return {d: sum(day["preemptions"] for day in days.values()) for d, days in engine.items()}


def test_the_spec_makes_one_deployment_preempt_and_the_other_not(fleet):
    _, truth, _, _ = fleet
    assert {d: n > 0 for d, n in _preempting(truth).items()} == {
        "burst-llama8b": True,
        "steady-llama8b": False,
    }


def test_preemptions_per_day_match_the_simulators_count(fleet):
    """The counter's hourly deltas (a restart at 14:00 on day 1 included: burst-llama8b is
    the restarted server) add up to the simulator's preemptions, exactly."""
    _, truth, mart, _ = fleet
    engine = truth["telemetry"]["engine_metrics"]["deployments"]
    assert truth["telemetry"]["engine_metrics"]["restart"]["deployment_id"] == "burst-llama8b"
    got = mart.group_by("deployment_id", pl.col("hour_start").dt.date().alias("day")).agg(
        pl.col("preemptions").sum()
    )
    for dep, day, n in got.iter_rows():
        assert n == engine[dep][day.isoformat()]["preemptions"], (dep, day)
    assert got.height == 2 * DAYS


def test_hourly_gauges_match_a_second_reading_of_the_raw_files(fleet):
    """avg, p95 (linear interpolation, numpy's default = DuckDB's quantile_cont) and max per
    deployment-hour, pooled over the servers, recomputed from the Parquet files the
    simulator wrote; the mart rounds to 9 decimals."""
    out, _, mart, _ = fleet
    raw = pl.read_parquet(out / "telemetry" / "vllm" / "**" / "*.parquet", hive_partitioning=False)
    model_to_dep = {
        "meta-llama/Llama-3.1-8B-Instruct": "steady-llama8b",
        "research-llama-3.1-8b": "burst-llama8b",
    }
    raw = raw.with_columns(
        metric=pl.col("metric").cast(pl.String),
        deployment_id=pl.col("model_name").cast(pl.String).replace_strict(model_to_dep),
        hour_start=pl.col("timestamp").dt.truncate("1h"),
    )
    families = {
        "kv_cache_usage": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
        "waiting": ("vllm:num_requests_waiting",),
    }
    by_key = {(r["deployment_id"], r["hour_start"]): r for r in mart.iter_rows(named=True)}
    checked = 0
    for (dep, hour), group in raw.group_by("deployment_id", "hour_start"):
        row = by_key[(dep, hour)]
        for name, metrics in families.items():
            values = group.filter(pl.col("metric").is_in(metrics))["value"].to_numpy()
            unit = "frac" if name == "kv_cache_usage" else "requests"
            expect = (values.mean(), np.percentile(values, 95), values.max())
            got = tuple(row[f"{name}_{s}_{unit}"] for s in ("avg", "p95", "max"))
            assert got == pytest.approx(expect, abs=1e-8), (dep, hour, name)
        checked += 1
    assert checked == len(by_key) == 2 * 24 * DAYS


def test_the_preempting_deployment_is_not_shrunk_and_the_other_is(fleet):
    """Which deployment preempts comes from the simulator's truth, not from the mart."""
    out, truth, _, recs = fleet
    preempting = {d for d, n in _preempting(truth).items() if n > 0}
    calm = set(_preempting(truth)) - preempting
    gpus = 4  # every deployment of the spec holds 4 L4s in 4 replicas
    shrinks = recs.filter(
        pl.col("kind").is_in(["right_size", "quantize"])
        & pl.col("deployment_id").is_not_null()  # not the spare instance's termination
        & (pl.col("target").str.extract(r"num_gpus=(\d+)").cast(pl.Int64) < gpus)
    )
    assert set(shrinks["deployment_id"]) == calm
    # the engine on the same warehouse: the guard is what stops it, and says so
    with connect(out / "unitcost.duckdb", read_only=True) as con:
        inputs = load_warehouse_inputs(con, START, END)
    guarded = recommend(inputs)
    assert {h.deployment_id for h in guarded.withheld} == preempting
    assert all("max_peak_preemptions" in h.reason for h in guarded.withheld)
    off = Policy(max_peak_waiting_p95_requests=1e9, max_peak_preemptions=10**9)
    unguarded = recommend(inputs, off)
    shrunk = {
        r.deployment_id
        for r in unguarded.recommendations
        if r.deployment_id and r.kind in ("right_size", "quantize") and r.target["num_gpus"] < gpus
    }
    assert shrunk == preempting | calm
