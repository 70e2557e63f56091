"""The report's tables on the hand-built warehouse: every value worked out by hand.

The week is 2026-11-01..07. Rows of 2026-10-31 and recommendations dated before the newest
as-of day (11-06) or after the week (11-08) carry large, recognisable numbers: they must not
show up anywhere.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pipelines.report.tables import week_ending

D = Decimal


def test_the_week_is_the_seven_days_ending_on_the_last_day(tables):
    assert week_ending(dt.date(2026, 11, 7)) == (dt.date(2026, 11, 1), dt.date(2026, 11, 7))
    assert (tables.first_day, tables.days) == (dt.date(2026, 11, 1), 7)


def test_spend_by_kind_sums_the_week_per_currency_and_splits_gpu_from_other_cost(tables):
    rows = {
        (r["billing_currency"], r["allocation_kind"]): r
        for r in tables.spend_by_kind.rows(named=True)
    }
    assert list(rows) == [
        ("EUR", "unallocated"),
        ("USD", "allocated"),
        ("USD", "idle"),
        ("USD", "unallocated"),
    ]
    # allocated 18 + 21.6 + 250; idle 10.8 + 5.4 + 50; unallocated fee 3.25 + instance 30
    assert rows["USD", "allocated"]["effective_cost"] == D("289.6")
    assert rows["USD", "idle"]["effective_cost"] == D("66.2")
    unallocated = rows["USD", "unallocated"]
    assert (unallocated["billed_cost"], unallocated["effective_cost"]) == (D("130.5"), D("33.25"))
    assert (unallocated["gpu_effective_cost"], unallocated["other_effective_cost"]) == (
        D(24),
        D("9.25"),
    )
    assert rows["USD", "allocated"]["gpu_hours"] == 150
    assert rows["USD", "allocated"]["unobserved_gpu_hours"] == 2
    assert rows["USD", "idle"]["share_of_effective_cost"] == pytest.approx(66.2 / 389.05)
    assert rows["EUR", "unallocated"]["share_of_effective_cost"] == 1.0


def test_money_stays_decimal_with_the_marts_scale(tables):
    assert str(tables.spend_by_kind["effective_cost"].dtype) == "Decimal(precision=38, scale=12)"
    assert str(tables.deployments["usd_per_1m_output_tokens"].dtype).startswith("Decimal")


def test_daily_spend_has_one_row_per_day_currency_and_kind_in_the_week_only(tables):
    days = sorted({d.isoformat() for d in tables.daily_spend["usage_date"]})
    assert days == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-07"]
    first = tables.daily_spend.filter(tables.daily_spend["usage_date"] == dt.date(2026, 11, 1))
    assert first["allocation_kind"].to_list() == ["allocated", "idle", "unallocated"]
    assert first["effective_cost"].to_list() == [D(18), D("10.8"), D("3.25")]


def test_deployments_price_tokens_over_the_week_on_the_allocation_basis(tables):
    rows = {r["deployment_id"]: r for r in tables.deployments.rows(named=True)}
    assert list(rows) == ["big-70b", "chat-8b"]  # by cost, largest first
    chat = rows["chat-8b"]
    assert (chat["team"], chat["llm_id"], chat["gpu_type"], chat["gpu_count"]) == (
        "chat",
        "llama-3.1-8b",
        "l4",
        2,
    )
    assert (chat["days"], chat["input_tokens"], chat["output_tokens"]) == (2, 3_000_000, 300_000)
    assert chat["cost_usd"] == D("55.8")  # the usage-basis row (18) is not counted
    # (4.8 + 5.0) x 10^6 / 3,000,000 and (24 + 22) x 10^6 / 300,000, truncated at 10^-12
    assert chat["usd_per_1m_input_tokens"] == D("3.266666666666")
    assert chat["usd_per_1m_output_tokens"] == D("153.333333333333")
    # token-weighted: (60 x 100,000 + 30 x 200,000) / 300,000
    assert chat["predicted_usd_per_1m_output_tokens"] == D(40)
    assert chat["efficiency"] == pytest.approx(12.6 / 55.8)
    assert chat["efficiency_source"] == "mixed"  # one calibrated day, one prior
    assert chat["idle_cost_usd"] == D("16.2")
    assert (chat["gpu_hours"], chat["unobserved_gpu_hours"]) == (96, 2)
    assert chat["split_methods"] == "gpu_time, token_ratio"
    assert (chat["best_kind"], chat["best_monthly_savings_usd"]) == ("right_size", D("300.25"))


def test_a_deployment_without_tokens_keeps_its_cost_and_has_no_prices(tables):
    big = tables.deployments.row(0, named=True)
    assert (big["deployment_id"], big["cost_usd"], big["split_methods"]) == (
        "big-70b",
        D(300),
        "none",
    )
    assert big["usd_per_1m_input_tokens"] is None
    assert big["usd_per_1m_output_tokens"] is None
    assert (big["efficiency"], big["efficiency_source"]) == (None, None)
    assert (big["best_kind"], big["best_monthly_savings_usd"]) == ("distill", D(2400))


def test_idle_and_unallocated_list_idle_per_deployment_and_unclaimed_cost(tables):
    rows = [
        (r["allocation_kind"], r["deployment_id"], r["billing_currency"], r["effective_cost"])
        for r in tables.idle_unallocated.rows(named=True)
    ]
    assert rows == [
        ("idle", "big-70b", "USD", D(50)),
        ("unallocated", "(no deployment)", "USD", D("33.25")),
        ("idle", "chat-8b", "USD", D("16.2")),
        ("unallocated", "(no deployment)", "EUR", D(10)),
    ]


def test_recommendations_are_the_newest_in_the_week_largest_saving_first(tables):
    recs = tables.recommendations
    assert set(recs["as_of_date"]) == {dt.date(2026, 11, 7)}
    assert list(zip(recs["deployment_id"], recs["instance_id"], recs["kind"], strict=True)) == [
        ("big-70b", None, "distill"),
        ("big-70b", None, "quantize"),
        (None, "i-0abc", "right_size"),
        ("chat-8b", None, "right_size"),
    ]
    assert recs["monthly_savings_usd"].to_list() == [D(2400), D("1500.5"), D(720), D("300.25")]
    assert recs["confidence"].to_list() == [0.5, 0.8, 1.0, 0.9]
    assert recs["is_largest_for_target"].to_list() == [True, False, True, True]
    assert recs["assumptions"][1].startswith("Output quality at fp8")


def test_coverage_counts_days_unobserved_gpu_hours_and_methods(tables):
    assert tables.coverage == {
        "days_with_cost": 4,
        "gpu_hours": 216.0,
        "unobserved_gpu_hours": 2.0,
        "currencies": "EUR, USD",
        "recommendations_as_of": dt.date(2026, 11, 7),
    }
    assert tables.method_counts("split_method") == {"gpu_time": 1, "none": 1, "token_ratio": 1}
    assert tables.method_counts("efficiency_source") == {"calibrated": 1, "prior": 1}
