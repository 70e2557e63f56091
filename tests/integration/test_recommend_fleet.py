"""The warehouse path end to end: `unitcost run` on the default fleet (a week at scale 1, the
session's `default_week`) finds every planted opportunity in marts.fct_recommendations, and
nothing on the healthy one.

Savings are checked against the ground truth ±15 %, priced as the warehouse sees the bill:
at effective (amortized) cost. The spec's planted savings are at on-demand prices, so they
are scaled by the deployment's effective / on-demand ratio from the same ground truth (the
support fleet runs on a reservation, the assistant's on a Savings Plan). A month is 365/12
days on both sides.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

import pipelines.recommend
from pipelines.costmodel.prices import instance_prices
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow

TOLERANCE = 0.15


@pytest.fixture(scope="module")
def fleet(default_week):
    out, truth = default_week
    with connect(out / "unitcost.duckdb", read_only=True) as con:
        cols = (
            "deployment_id, instance_id, kind, target, monthly_savings_usd, confidence, "
            "summary, current_daily_cost_usd, proposed_daily_cost_usd, "
            "cash_monthly_savings_usd, deferred_monthly_savings_usd, commitment_ids, "
            "commitment_kind, commitment_end_date"
        )
        rows = con.execute(
            f"select {cols}, assumptions from marts.fct_recommendations where is_latest"
        ).fetchall()
    recs = [dict(zip([*cols.split(", "), "assumptions"], r, strict=True)) for r in rows]
    return recs, truth


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
    assert float(rec["monthly_savings_usd"]) == pytest.approx(
        (current - l4) * 365 / 12, rel=TOLERANCE
    )


def test_b_bf16_70b_goes_fp8_on_two_gpus(fleet):
    recs, truth = fleet
    facts = truth["planted"]["b"]
    target = _target(rec := _one(recs, facts["deployment"], "quantize"))
    proposed = facts["proposed"]
    assert target["weight_precision"] == proposed["precision"]["weights"]
    assert int(target["num_gpus"]) == proposed["gpu"]["count"]
    assert int(target["tensor_parallel"]) == proposed["tensor_parallel"]
    saved_gpus = facts["current"]["gpu"]["count"] - proposed["gpu"]["count"]
    expected = saved_gpus * _effective_per_gpu_day(truth, facts["deployment"]) * 365 / 12
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
    assert float(rec["monthly_savings_usd"]) == pytest.approx(per_day * 365 / 12, rel=TOLERANCE)


def test_f_healthy_deployment_gets_no_recommendation(fleet):
    recs, truth = fleet
    healthy = truth["planted"]["f"]["deployment"]
    assert [r["kind"] for r in recs if r["deployment_id"] == healthy] == []
    assert all(0 < r["confidence"] <= 1 and r["monthly_savings_usd"] > 0 for r in recs)


COMMITMENT_KIND = {"savings_plan": "Savings Plan", "reserved": "Reserved Instance"}


def _on_demand_share(truth, rec) -> tuple[Decimal, list[str]]:
    """From the ground truth's bill only: the share of the GPU cost the recommendation frees
    that was billed in cash (billed / effective: covered hours bill $0), and its instances."""
    billing = truth["billing"]
    if rec["deployment_id"] is None:
        periods = billing["instances"][rec["instance_id"]].values()
        instances = [rec["instance_id"]]
    else:
        periods = billing["deployments"][rec["deployment_id"]].values()
        instances = sorted(
            i for i, v in truth["instances"].items() if rec["deployment_id"] in v["deployments"]
        )
    billed = sum(Decimal(p["billed_usd"]) for p in periods)
    effective = sum(Decimal(p["effective_usd"]) for p in periods)
    return billed / effective, instances


def test_savings_under_a_commitment_name_it_and_split_cash_now_as_the_bill_says(fleet):
    """The simulator bills the two p5.48xlarge hosts under a Savings Plan and a Reserved
    Instance (ground_truth billing.coverage): their GPU-hours bill $0 cash. Each deployment
    here sits on instances of one coverage kind, so its on-demand share is 0 or 1, and cash
    now = share x saving, except that leaving a reservation for other GPUs costs their price
    in cash until it ends. Every covered recommendation names its commitment and end date."""
    recs, truth = fleet
    coverage = truth["billing"]["coverage"]
    seen = set()
    for rec in recs:
        share, instances = _on_demand_share(truth, rec)
        assert share in (0, 1), (rec["deployment_id"], share)
        saving = rec["monthly_savings_usd"]
        (kind,) = {coverage[i]["kind"] for i in instances}
        gpu = {truth["instances"][i]["gpu_type"] for i in instances}
        moves = _target(rec).get("gpu_id") not in gpu  # an API or terminate: no GPUs kept
        expected = saving * share
        if kind == "reserved" and moves:
            current, proposed = rec["current_daily_cost_usd"], rec["proposed_daily_cost_usd"]
            expected = -saving * proposed / (current - proposed)
        cash = rec["cash_monthly_savings_usd"]
        assert abs(cash - expected) <= Decimal(str(TOLERANCE)) * saving, rec["summary"]
        assert cash + rec["deferred_monthly_savings_usd"] == saving
        if kind == "on_demand":
            assert rec["commitment_ids"] is None and rec["deferred_monthly_savings_usd"] == 0
            continue
        seen.add(kind)
        truth_commitment = coverage[instances[0]]
        end = dt.datetime.fromisoformat(truth_commitment["term_end"]).date()
        assert rec["commitment_ids"] == truth_commitment["commitment_id"]
        assert rec["commitment_kind"] == COMMITMENT_KIND[kind]
        assert rec["commitment_end_date"] == end
        short = truth_commitment["commitment_id"].rsplit("/", 1)[1]
        assert f"{COMMITMENT_KIND[kind]} {short} (ends {end.isoformat()})" in rec["summary"]
    # the planted quantize (Savings Plan host) and distill (reserved host) are both covered
    assert seen == {"savings_plan", "reserved"}


API_PRICES = Path(pipelines.recommend.__file__).parent / "data" / "api_prices.csv"


def _hand_api_usd_per_day(truth, deployment_id: str, llm_id: str) -> tuple[str, float]:
    """(provider, USD/day): the cheapest row of the shipped price table (read with csv) for
    the ground truth's mean daily tokens, cached input at its own price."""
    days = truth["deployments"][deployment_id]["days"].values()
    tokens = {
        k: sum(d[f"{k}_tokens"] for d in days) / len(days) for k in ("input", "cached", "output")
    }
    with API_PRICES.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["llm_id"] == llm_id]
    costs = {
        r["provider"]: (
            (tokens["input"] - tokens["cached"]) * float(r["usd_per_1m_input_tokens"])
            + tokens["cached"] * float(r["usd_per_1m_cached_input_tokens"])
            + tokens["output"] * float(r["usd_per_1m_output_tokens"])
        )
        / 1e6
        for r in rows
    }
    provider = min(costs, key=costs.get)
    return provider, costs[provider]


def test_api_break_even_is_found_for_the_api_eligible_deployment(fleet):
    """The default spec marks summarise-mixtral `api: {eligible: true}` (registry ->
    dim_deployments -> engine). Its saving is checked against the bill (effective USD per
    day from ground_truth billing) minus the API's price for the truth's tokens."""
    recs, truth = fleet
    assert {r["deployment_id"] for r in recs if r["kind"] == "api"} == {"summarise-mixtral"}
    rec = _one(recs, "summarise-mixtral", "api")
    provider, api_day = _hand_api_usd_per_day(truth, "summarise-mixtral", "mixtral-8x7b")
    assert _target(rec)["provider"] == provider
    days = truth["billing"]["deployments"]["summarise-mixtral"]
    current = float(sum(Decimal(d["effective_usd"]) for d in days.values())) / len(days)
    expected = (current - api_day) * 365 / 12
    assert float(rec["monthly_savings_usd"]) == pytest.approx(expected, rel=TOLERANCE)


def test_savings_are_exact_cents_over_a_365_12_day_month(fleet):
    recs, _ = fleet
    month = Decimal(365) / Decimal(12)  # by hand: a twelfth of a 365-day year
    for rec in recs:
        saving = rec["monthly_savings_usd"]
        assert saving == saving.quantize(Decimal("0.01")), saving  # never 7133.183999999999
        delta = rec["current_daily_cost_usd"] - rec["proposed_daily_cost_usd"]
        assert saving == (delta * month).quantize(Decimal("0.01")), rec["summary"]
