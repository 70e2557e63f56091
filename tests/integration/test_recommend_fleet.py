"""The warehouse path end to end: `unitcost run` on the default fleet (two days at scale 1)
finds every planted opportunity in marts.fct_recommendations, and nothing on the healthy one.

Savings are checked against the ground truth ±15 %, priced as the warehouse sees the bill:
at effective (amortized) cost. The spec's planted savings are at on-demand prices, so they
are scaled by the deployment's effective / on-demand ratio from the same ground truth (the
support fleet runs on a reservation, the assistant's on a Savings Plan).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from pipelines.costmodel.prices import instance_prices
from pipelines.fleet.simulate import simulate
from pipelines.runner import run
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow

TOLERANCE = 0.15
START, DAYS = dt.date(2026, 11, 1), 2


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, dbt_manifest):
    out = tmp_path_factory.mktemp("recommend_fleet")
    simulate(out, days=DAYS, seed=42)
    run(out / "unitcost.yaml", START, START + dt.timedelta(days=DAYS))
    with connect(out / "unitcost.duckdb", read_only=True) as con:
        cols = "deployment_id, instance_id, kind, target, monthly_savings_usd, confidence"
        rows = con.execute(
            f"select {cols}, assumptions from marts.fct_recommendations where is_latest"
        ).fetchall()
    recs = [dict(zip([*cols.split(", "), "assumptions"], r, strict=True)) for r in rows]
    return recs, json.loads((out / "ground_truth.json").read_text())


def _target(rec) -> dict[str, str]:
    return dict(part.split("=", 1) for part in rec["target"].split(", "))


def _one(recs, deployment_id, kind):
    found = [r for r in recs if r["deployment_id"] == deployment_id and r["kind"] == kind]
    assert len(found) == 1, [(r["deployment_id"], r["kind"]) for r in recs]
    return found[0]


def _effective_per_gpu_day(truth, deployment_id) -> float:
    days = truth["billing"]["deployments"][deployment_id]
    total = sum(Decimal(d["effective_usd"]) for d in days.values())
    return float(total) / len(days) / truth["deployments"][deployment_id]["gpu"]["count"]


def _list_per_gpu_day(truth, deployment_id) -> float:
    (inst,) = {
        i["hourly_price_usd"]: i
        for i in truth["instances"].values()
        if deployment_id in i["deployments"]
    }.values()
    return float(inst["hourly_price_usd"]) / inst["gpu_count"] * 24


def test_a_idle_7b_moves_to_one_l4(fleet):
    recs, truth = fleet
    facts = truth["planted"]["a"]
    rec = _one(recs, facts["deployment"], "right_size")
    target = _target(rec)
    assert (target["gpu_id"], int(target["num_gpus"])) == (
        facts["fits"]["type"],
        facts["fits"]["count"],
    )
    l4 = instance_prices()["g6.xlarge"].usd_per_hour * 24
    current = _effective_per_gpu_day(truth, facts["deployment"])
    assert float(rec["monthly_savings_usd"]) == pytest.approx((current - l4) * 30, rel=TOLERANCE)


def test_b_bf16_70b_goes_fp8_on_two_gpus(fleet):
    recs, truth = fleet
    facts = truth["planted"]["b"]
    target = _target(rec := _one(recs, facts["deployment"], "quantize"))
    proposed = facts["proposed"]
    assert target["weight_precision"] == proposed["precision"]["weights"]
    assert int(target["num_gpus"]) == proposed["gpu"]["count"]
    assert int(target["tensor_parallel"]) == proposed["tensor_parallel"]
    saved_gpus = facts["current"]["gpu"]["count"] - proposed["gpu"]["count"]
    expected = saved_gpus * _effective_per_gpu_day(truth, facts["deployment"]) * 30
    assert float(rec["monthly_savings_usd"]) == pytest.approx(expected, rel=TOLERANCE)


def test_c_high_volume_70b_distils_into_llama_8b(fleet):
    recs, truth = fleet
    facts = truth["planted"]["c"]
    rec = _one(recs, facts["deployment"], "distill")
    assert _target(rec)["llm_id"] == facts["student_llm"]
    dep = facts["deployment"]
    ratio = _effective_per_gpu_day(truth, dep) / _list_per_gpu_day(truth, dep)
    expected = float(facts["saving_usd_per_month"]) * ratio
    assert float(rec["monthly_savings_usd"]) == pytest.approx(expected, rel=TOLERANCE)
    assert "Conditional on equal quality" in rec["assumptions"]


def test_d_billed_instance_serving_nothing_is_terminated(fleet):
    recs, truth = fleet
    facts = truth["planted"]["d"]
    (rec,) = [r for r in recs if r["instance_id"] == facts["instance"]]
    assert rec["kind"] == "right_size" and _target(rec)["action"] == "terminate"
    per_day = float(facts["cost_usd"]) / (facts["billed_hours"] / 24)
    assert float(rec["monthly_savings_usd"]) == pytest.approx(per_day * 30, rel=TOLERANCE)


def test_f_healthy_deployment_gets_no_recommendation(fleet):
    recs, truth = fleet
    healthy = truth["planted"]["f"]["deployment"]
    assert [r["kind"] for r in recs if r["deployment_id"] == healthy] == []
    assert all(0 < r["confidence"] <= 1 and r["monthly_savings_usd"] > 0 for r in recs)
