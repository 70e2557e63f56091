"""The default fleet's planted scenarios (a-f) are in ground_truth.json and hold in the data."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import load_settings
from pipelines.registry import deployment_frame, load_registry, selector_frame


@pytest.fixture(scope="module")
def truth(default_run: Path) -> dict:
    return json.loads((default_run / "ground_truth.json").read_text())


@pytest.fixture(scope="module")
def timeline(default_run: Path) -> pl.DataFrame:
    return pl.read_parquet(
        default_run / "truth" / "timeline" / "**" / "*.parquet", hive_partitioning=False
    )


def _busy_from_timeline(timeline: pl.DataFrame, deployment: str) -> float:
    """Mean busy fraction of the deployment's GPUs, recomputed from the hourly timeline."""
    gpus = timeline.select(
        pl.col("gpu_deployment_ids").explode(), pl.col("gpu_busy_fraction").explode()
    ).filter(pl.col("gpu_deployment_ids") == deployment)
    assert gpus.height > 0
    return gpus["gpu_busy_fraction"].mean()


def test_a_idle_oversized_7b_on_h100_fits_one_l4(truth, timeline):
    a = truth["planted"]["a"]
    assert (a["kind"], a["current"]["gpu"], a["fits"]["type"], a["fits"]["count"]) == (
        "idle_oversized",
        {"type": "h100-sxm", "count": 1},
        "l4",
        1,
    )
    busy = _busy_from_timeline(timeline, a["deployment"])
    assert busy == pytest.approx(a["mean_busy_fraction"], abs=1e-6)
    assert 0 < busy < a["max_busy_fraction"] == 0.05
    # 7B BF16 weights leave room for a KV cache on a 24 GiB L4.
    assert 13 < a["current"]["weights_gib"] < 0.8 * a["fits"]["memory_gib_per_gpu"]


def test_b_70b_bf16_on_4_h100_fits_2_in_fp8(truth):
    b = truth["planted"]["b"]
    cur, new = b["current"], b["proposed"]
    assert (cur["llm"], cur["precision"]["weights"], cur["gpu"]) == (
        "llama-3.1-70b",
        "bf16",
        {"type": "h100-sxm", "count": 4},
    )
    assert (new["precision"]["weights"], new["gpu"]["count"], new["tensor_parallel"]) == (
        "fp8",
        2,
        2,
    )
    assert cur["weights_gib"] > 2 * b["memory_gib_per_gpu"] * 0.8  # BF16 does not fit 2 GPUs
    assert new["weights_gib_per_gpu"] < 0.5 * b["memory_gib_per_gpu"]


def test_c_high_volume_70b_distillation_pays_back_within_months(truth):
    c = truth["planted"]["c"]
    assert c["teacher"]["llm"] == "llama-3.1-70b" and c["student_llm"] == "llama-3.1-8b"
    assert c["tokens_per_day"] >= 1e9
    day = truth["deployments"][c["deployment"]]["days"]["2026-11-01"]
    assert c["tokens_per_day"] == day["input_tokens"] + day["output_tokens"]
    saving = Decimal(c["teacher_gpu_cost_usd_per_day"]) - Decimal(c["student_gpu_cost_usd_per_day"])
    month = saving * 365 / 12  # a month is a twelfth of a 365-day year, to the cent
    assert Decimal(c["saving_usd_per_month"]) == month.quantize(Decimal("0.01"))
    assert c["payback_months"] == pytest.approx(
        float(Decimal(c["distillation_cost_usd"]) / month), abs=1e-3
    )
    assert c["payback_months"] < c["max_payback_months"]


def test_d_billed_instance_serves_nothing(truth, timeline, default_run):
    d = truth["planted"]["d"]
    rows = timeline.filter(pl.col("instance_id") == d["instance"])
    assert rows.height == 24 and rows["gpus_allocated"].sum() == 0
    assert rows["deployment_ids"].list.len().sum() == 0
    assert d["billed_gpu_hours"] == 24 * d["gpu"]["count"] and d["deployments"] == []
    assert Decimal(d["cost_usd"]) == Decimal(rows["hourly_price_usd"][0]) * 24
    selectors = selector_frame(load_registry(default_run / "registry.yaml"))
    assert d["instance"] not in selectors["selector_value"].to_list()
    assert not selectors["selector_value"].str.starts_with(d["host"] + "/").any()


def test_e_mixtral_is_moe(truth):
    e = truth["planted"]["e"]
    assert (e["current"]["llm"], e["num_experts"], e["experts_per_token"]) == ("mixtral-8x7b", 8, 2)
    assert e["params_billion"] == pytest.approx(46.703, abs=1e-3)  # shared/data model table
    assert e["active_params_billion"] == pytest.approx(12.880, abs=1e-3)


def test_f_healthy_deployment_expects_no_recommendation(truth, timeline):
    f = truth["planted"]["f"]
    assert f["expected_recommendations"] == []
    busy = _busy_from_timeline(timeline, f["deployment"])
    assert busy == pytest.approx(f["mean_busy_fraction"], abs=1e-6)
    assert busy > f["min_busy_fraction"] and f["mean_decode_batch"] < f["max_batch"]


def test_registry_and_run_config_load(default_run, truth):
    registry = load_registry(default_run / "registry.yaml")
    assert {d.id for d in registry.deployments} == set(truth["deployments"])
    settings = load_settings(default_run / "unitcost.yaml")
    assert settings.registry_path == (default_run / "registry.yaml").resolve()
    assert settings.duckdb_path == (default_run / "unitcost.duckdb").resolve()
    assert {name: (src.location, src.format) for name, src in settings.sources.items()} == {
        "billing": ("billing/cur2", "cur2"),
        "requests": ("logs/requests", "vllm_jsonl"),
        "telemetry": ("telemetry", "dcgm"),
    }


def test_totals_equal_sums_over_request_files(default_run, truth):
    requests = pl.read_parquet(
        default_run / "truth" / "requests" / "**" / "*.parquet", hive_partitioning=False
    )
    sums = requests.group_by("deployment_id").agg(
        pl.len().alias("requests"),
        pl.col("input_tokens", "output_tokens", "cached_tokens").sum(),
        (pl.col("status") == "error").sum().alias("errors"),
    )
    keys = ("requests", "input_tokens", "output_tokens", "cached_tokens", "errors")
    for row in sums.iter_rows(named=True):
        day = truth["deployments"][row["deployment_id"]]["days"]["2026-11-01"]
        assert {k: row[k] for k in keys} == {k: day[k] for k in keys}
    assert requests.height == truth["totals"]["requests"]
    assert requests["request_id"].n_unique() == requests.height


def test_instance_costs_are_exact_decimals(truth, timeline):
    for inst_id, inst in truth["instances"].items():
        price = Decimal(inst["hourly_price_usd"])
        assert Decimal(inst["cost_usd"]) == price * inst["billed_hours"]
        hours = timeline.filter(pl.col("instance_id") == inst_id)
        assert hours.height == inst["billed_hours"]
    total = sum(Decimal(i["cost_usd"]) for i in truth["instances"].values())
    assert Decimal(truth["totals"]["cost_usd"]) == total


def test_the_registry_lets_only_summarise_mixtral_go_to_a_hosted_api(default_run):
    # the spec's `api: {eligible: true}` reaches the registry the pipeline loads; its
    # substitutes default to its own LLM
    frame = deployment_frame(load_registry(default_run / "registry.yaml"))
    eligible = frame.filter(pl.col("api_eligible"))
    assert eligible.select("deployment_id", "api_substitute_llm_ids").rows() == [
        ("summarise-mixtral", ["mixtral-8x7b"])
    ]
