"""The default fleet's api-eligible deployment gets the ``api`` kind, with the saving the
simulator's truth and the price table imply (±15 %), and no other deployment gets it.

Independent of the engine: tokens come from ground_truth.json, prices from reading
data/api_prices.csv with the csv module, the current cost from the instance's list price.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

import pipelines.recommend

ELIGIBLE = "summarise-mixtral"  # the default spec marks it `api: {eligible: true}`
PRICES = Path(pipelines.recommend.__file__).parent / "data" / "api_prices.csv"
TOLERANCE = 0.15


def hand_api_cost_per_day(truth: dict, deployment_id: str, llm_id: str) -> tuple[str, float]:
    """(provider, USD/day) of the cheapest hosted offer for the truth's mean daily tokens."""
    days = list(truth["deployments"][deployment_id]["days"].values())
    mean = {k: sum(d[k] for d in days) / len(days) for k in ("input_tokens", "cached_tokens")}
    output = sum(d["output_tokens"] for d in days) / len(days)
    with PRICES.open(newline="") as fh:
        offers = [r for r in csv.DictReader(fh) if r["llm_id"] == llm_id]
    costs = {
        r["provider"]: (
            (mean["input_tokens"] - mean["cached_tokens"]) * float(r["usd_per_1m_input_tokens"])
            + mean["cached_tokens"] * float(r["usd_per_1m_cached_input_tokens"])
            + output * float(r["usd_per_1m_output_tokens"])
        )
        / 1e6
        for r in offers
    }
    provider = min(costs, key=costs.get)
    return provider, costs[provider]


def test_only_the_eligible_deployment_gets_the_api_kind(result):
    assert {r.deployment_id for r in result.recommendations if r.kind == "api"} == {ELIGIBLE}


def test_api_saving_matches_truth_tokens_and_the_price_table(result, truth):
    (rec,) = [r for r in result.recommendations if r.deployment_id == ELIGIBLE and r.kind == "api"]
    provider, api_day = hand_api_cost_per_day(truth, ELIGIBLE, "mixtral-8x7b")
    assert rec.target["provider"] == provider
    # today: its 4 of the p4de.24xlarge's 8 A100s at the instance's hourly list price
    (instance,) = [i for i in truth["instances"].values() if ELIGIBLE in i["deployments"]]
    current = float(instance["hourly_price_usd"]) / instance["gpu_count"] * 4 * 24
    expected = (current - api_day) * 365 / 12
    assert float(rec.monthly_savings_usd) == pytest.approx(expected, rel=TOLERANCE)
    assert float(rec.proposed_daily_cost_usd) == pytest.approx(api_day, rel=0.01)
    assert rec.monthly_savings_usd == rec.monthly_savings_usd.quantize(Decimal("0.01"))
