"""Recommendation money is exact Decimal, and a month is 365/12 days everywhere.

The issue's CSV showed ``7133.183999999999``: a float saving times a 30-day month. The
month length is checked against the hand value 365 / 12 = 30.41666…, and each saving in the
table against (current − proposed) × 365 / 12 to the cent, computed here in Decimal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import polars as pl
import pytest
from workloads import chat_workload

from pipelines.costmodel import units
from pipelines.costmodel.cost import TrafficProfile, predict_cost
from pipelines.costmodel.deployment import Deployment
from pipelines.recommend.api import ApiPrice, api
from pipelines.recommend.inputs import DeploymentConfig, IdleInstance
from pipelines.recommend.money import daily_usd
from pipelines.recommend.policy import Policy
from pipelines.recommend.quantize import quantize
from pipelines.recommend.rightsize import right_size, terminate_idle
from pipelines.recommend.tables import recommendation_table
from pipelines.recommend.workload import Workload

MONTH_DAYS = Decimal(365) / Decimal(12)  # by hand: a twelfth of a 365-day year
CENT = Decimal("0.01")


def test_one_month_length_shared_by_the_cost_model_and_the_engine():
    assert round(units.DAYS_PER_MONTH, 9) == 30.416_666_667  # 365 / 12
    assert units.DAYS_PER_MONTH_TEXT == "30.42"
    assert units.per_month(Decimal(24)) == Decimal(730)  # 730 hours a month
    prediction = predict_cost(
        Deployment("llama-3.1-8b", "h100-sxm", 1, "fp8"),
        TrafficProfile.from_tokens_per_day(1e8, 1000, 200),
        6.88,
    )
    # the cost model's monthly figure is the same month: 165.12 $/day × 365 / 12
    assert prediction.monthly_cost_usd == pytest.approx(165.12 * 365 / 12)


def test_the_issues_idle_instance_saving_is_cents_not_a_float():
    # $9.9072/h for 24 h = $237.7728/day; the old table said 237.7728 × 30 = 7133.183999999999
    idle = IdleInstance("i-0idle", "g6e.xlarge", "l40s", 1, 237.7728, 7)
    rec = terminate_idle(idle, dt.date(2026, 11, 7), Policy())
    # 237.7728 × 365 / 12 = 7,232.256 -> 7,232.26
    assert rec.monthly_savings_usd == Decimal("7232.26")
    assert "A month is 30.42 days (365/12)" in rec.assumptions[0]


def _workload(**kw) -> Workload:
    # an awkward float mean (1/3 of a cent), as a warehouse average would be
    base = {"cached_tokens_per_day": 0.4e6, "daily_cost_usd": daily_usd(165.12 + 1 / 300)}
    return chat_workload(**(base | kw))


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    chat = DeploymentConfig("chat", "qwen2.5-7b", "h100-sxm", 1, 1, "bf16", "bf16", "vllm", 6.88)
    big = DeploymentConfig("asst", "llama-3.1-70b", "h100-sxm", 4, 4, "bf16", "bf16", "vllm", 6.88)
    w = _workload()
    busy = _workload(deployment_id="asst", daily_cost_usd=daily_usd(660.48), peak_busy_fraction=0.3)
    price = ApiPrice("t", "qwen2.5-7b", "q", "0.3", "0.15", "0.6")
    recs = [
        right_size(chat, w, Policy(), calibrated=True),
        quantize(big, busy, Policy(), calibrated=True),
        api(replace(chat, api_eligible=True), w, Policy(), w.daily_cost_usd, [price]),
        terminate_idle(
            IdleInstance("i-0idle", "g6e.xlarge", "l40s", 1, 44.664, 3), w.as_of, Policy()
        ),
    ]
    assert all(r is not None for r in recs)
    return recommendation_table(recs, w.as_of)


def test_table_money_is_decimal_with_cents_and_micro_dollars(table):
    assert table.height == 4
    for column in ("monthly_savings_usd", "current_daily_cost_usd", "proposed_daily_cost_usd"):
        assert table.schema[column] == pl.Decimal(38, 12)
    for row in table.iter_rows(named=True):
        assert row["monthly_savings_usd"] == row["monthly_savings_usd"].quantize(CENT)
        for daily in (row["current_daily_cost_usd"], row["proposed_daily_cost_usd"]):
            assert daily == daily.quantize(Decimal("0.000001"))


def test_each_saving_is_current_minus_proposed_over_a_365_12_day_month(table):
    for row in table.iter_rows(named=True):
        delta = row["current_daily_cost_usd"] - row["proposed_daily_cost_usd"]
        assert row["monthly_savings_usd"] == (delta * MONTH_DAYS).quantize(CENT), row["kind"]
    # and by hand for the idle l40s: 44.664 $/day × 365 / 12 = 1,358.53
    idle = table.filter(pl.col("instance_id") == "i-0idle").row(0, named=True)
    assert idle["monthly_savings_usd"] == Decimal("1358.53")
