"""The report's tables on the hand-built warehouse: every value worked out by hand.

The week is 2026-11-01..07. Rows of 2026-10-31 and recommendations dated before the newest
as-of day (11-06) or after the week (11-08) carry large, recognisable numbers: they must not
show up anywhere. The fixture's fct_efficiency_daily rows are listed in
tests/fixtures/report/warehouse.sql; chat-8b's two days are:

    day    floor  kernel batching residual over-prov idle unobserved non-GPU  actual  usage modelled
    11-01   7.2    3.0     6.0      1.8      4.0     5.8     1.0       0       28.8   18.0   16.2
    11-02   5.4    8.6    10.0     -2.4      0       4.8     0         0.6     27.0   21.6   24.0
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.report.tables import (
    WATERFALL,
    Commitment,
    headline_savings,
    load_tables,
    waterfall_steps,
    waterfall_unexplained,
    week_ending,
)
from pipelines.warehouse import connect

D = Decimal
FIXTURE = Path(__file__).parents[2] / "fixtures" / "report" / "warehouse.sql"


@pytest.fixture(scope="module")
def deployments(tables) -> dict[str, dict]:
    return {r["deployment_id"]: r for r in tables.deployments.rows(named=True)}


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
    # allocated 18 + 21.6 + 250; idle 10.8 + 5.4 + 12 + 6 + 50; unallocated fee 3.25 + 30
    assert rows["USD", "allocated"]["effective_cost"] == D("289.6")
    assert rows["USD", "idle"]["effective_cost"] == D("84.2")
    unallocated = rows["USD", "unallocated"]
    assert (unallocated["billed_cost"], unallocated["effective_cost"]) == (D("130.5"), D("33.25"))
    assert (unallocated["gpu_effective_cost"], unallocated["other_effective_cost"]) == (
        D(24),
        D("9.25"),
    )
    assert rows["USD", "allocated"]["gpu_hours"] == 150
    assert rows["USD", "allocated"]["unobserved_gpu_hours"] == 2
    assert rows["USD", "idle"]["share_of_effective_cost"] == pytest.approx(84.2 / 407.05)
    assert rows["EUR", "unallocated"]["share_of_effective_cost"] == 1.0


def test_money_stays_decimal_with_the_marts_scale(tables):
    decimal_38_12 = pl.Decimal(38, 12)
    assert tables.spend_by_kind["effective_cost"].dtype == decimal_38_12
    for column in ("floor_cost_usd", "actual_cost_usd", "gap_residual_usd"):
        assert tables.deployments[column].dtype == decimal_38_12, column
    for column in ("floor_usd_per_1m_tokens", "actual_usd_per_1m_output_tokens"):
        assert tables.deployments[column].dtype == decimal_38_12, column
    for column in ("cash_monthly_savings_usd", "deferred_monthly_savings_usd"):
        assert tables.recommendations[column].dtype == decimal_38_12, column


def test_daily_spend_has_one_row_per_day_currency_and_kind_in_the_week_only(tables):
    days = sorted({d.isoformat() for d in tables.daily_spend["usage_date"]})
    assert days == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-07"]
    first = tables.daily_spend.filter(tables.daily_spend["usage_date"] == dt.date(2026, 11, 1))
    assert first["allocation_kind"].to_list() == ["allocated", "idle", "unallocated"]
    assert first["effective_cost"].to_list() == [D(18), D("10.8"), D("3.25")]


def test_deployments_are_ordered_by_actual_cost_and_include_cost_without_efficiency_rows(
    deployments,
):
    # big-70b 300, chat-8b 55.8, spare-8b 12, then old-7b: $6 held, no efficiency row
    assert list(deployments) == ["big-70b", "chat-8b", "spare-8b", "old-7b"]
    old = deployments["old-7b"]
    assert (old["held_cost_usd"], old["team"], old["gpu_type"]) == (D(6), "search", "a10g")
    assert old["days"] is None
    assert (old["floor_cost_usd"], old["actual_cost_usd"], old["efficiency"]) == (None,) * 3


def test_efficiency_is_floor_over_actual_from_the_weeks_sums_not_a_mean_of_days(deployments):
    chat = deployments["chat-8b"]
    assert (chat["days"], chat["requests"]) == (2, 2800)
    assert (chat["input_tokens"], chat["output_tokens"], chat["tokens"]) == (
        3_000_000,
        300_000,
        3_300_000,
    )
    assert (chat["floor_cost_usd"], chat["actual_cost_usd"]) == (D("12.6"), D("55.8"))
    assert chat["efficiency"] == pytest.approx(12.6 / 55.8)  # 22.58 %
    assert chat["efficiency"] != pytest.approx((0.25 + 0.2) / 2)  # the mean of the days: 22.5 %
    assert deployments["big-70b"]["efficiency"] == pytest.approx(60 / 300)
    assert deployments["spare-8b"]["efficiency"] == 0.0  # held, served nothing


def test_blended_prices_per_1m_tokens_have_exactly_the_efficiencys_ratio(deployments):
    chat = deployments["chat-8b"]
    # 12.6 and 55.8 USD over 3.3 M tokens, truncated at 10^-12
    assert chat["floor_usd_per_1m_tokens"] == D("3.818181818181")
    assert chat["actual_usd_per_1m_tokens"] == D("16.909090909090")
    for row in (chat, deployments["big-70b"]):
        ratio = row["floor_usd_per_1m_tokens"] / row["actual_usd_per_1m_tokens"]
        assert float(ratio) == pytest.approx(row["efficiency"], rel=1e-11)
    big = deployments["big-70b"]
    assert (big["floor_usd_per_1m_tokens"], big["actual_usd_per_1m_tokens"]) == (D("1.2"), D(6))
    spare = deployments["spare-8b"]
    assert (spare["floor_usd_per_1m_tokens"], spare["actual_usd_per_1m_tokens"]) == (None, None)


def test_split_prices_are_each_bases_weekly_cost_over_the_weeks_tokens(deployments):
    chat = deployments["chat-8b"]
    by_basis = {
        # (4.8 + 5.0) / 3 M input tokens, (24 + 22) / 0.3 M output tokens
        "actual": (D("3.266666666666"), D("153.333333333333")),
        # (3 + 3.6) / 3 M, (15 + 18) / 0.3 M
        "actual_usage": (D("2.2"), D(110)),
        # (2.7 + 4) / 3 M, (13.5 + 20) / 0.3 M
        "modelled": (D("2.233333333333"), D("111.666666666666")),
        # (1.2 + 0.9) / 3 M, (6 + 4.5) / 0.3 M
        "floor": (D("0.7"), D(35)),
    }
    for basis, (per_input, per_output) in by_basis.items():
        assert chat[f"{basis}_usd_per_1m_input_tokens"] == per_input, basis
        assert chat[f"{basis}_usd_per_1m_output_tokens"] == per_output, basis
    assert deployments["spare-8b"]["actual_usd_per_1m_output_tokens"] is None  # no tokens


def test_modelled_is_compared_with_the_usage_basis_over_the_week(deployments):
    chat = deployments["chat-8b"]
    assert (chat["modelled_cost_usd"], chat["actual_usage_cost_usd"]) == (D("40.2"), D("39.6"))
    assert chat["modelled_to_actual_ratio"] == pytest.approx(40.2 / 39.6)
    assert chat["modelled_to_actual_ratio"] != pytest.approx((0.9 + 24 / 21.6) / 2)
    assert deployments["big-70b"]["modelled_to_actual_ratio"] == pytest.approx(200 / 240)
    assert deployments["spare-8b"]["modelled_to_actual_ratio"] is None  # 0 / 0


def test_the_waterfall_sums_each_step_over_the_week(deployments):
    chat = deployments["chat-8b"]
    assert [chat[column] for _, column, _ in WATERFALL] == [
        D("12.6"),  # floor 7.2 + 5.4
        D("11.6"),  # kernel 3.0 + 8.6
        D(16),  # batching 6 + 10
        D("-0.6"),  # residual 1.8 - 2.4: reported as measured, negative
        D(4),  # over-provisioning
        D("10.6"),  # idle 5.8 + 4.8
        D(1),  # unobserved
        D("0.6"),  # non-GPU
        D("55.8"),  # actual
    ]


def test_waterfall_steps_run_from_floor_to_actual_in_the_stated_order(deployments):
    steps = waterfall_steps(deployments["chat-8b"])
    assert [s.label for s in steps] == [
        "floor",
        "kernel efficiency",
        "batching",
        "residual",
        "over-provisioning",
        "idle",
        "unobserved",
        "non-GPU",
        "actual",
    ]
    assert [s.column for s in steps] == [
        "floor_cost_usd",
        "gap_kernel_efficiency_usd",
        "gap_batching_usd",
        "gap_residual_usd",
        "gap_over_provisioning_usd",
        "gap_idle_usd",
        "gap_unobserved_usd",
        "gap_non_gpu_usd",
        "actual_cost_usd",
    ]
    assert [s.measure for s in steps] == ["absolute"] + ["relative"] * 7 + ["absolute"]
    assert waterfall_unexplained(steps) == 0  # the fixture's parts add up
    assert waterfall_steps(deployments["old-7b"]) is None


def test_waterfall_keeps_the_marts_actual_when_the_parts_do_not_add_up(deployments):
    broken = {**deployments["big-70b"], "gap_idle_usd": D(15)}  # 5 short of 300
    steps = waterfall_steps(broken)
    assert steps[-1].value == D(300)
    assert waterfall_unexplained(steps) == D(5)
    # pico-dollars lost to truncation in the mart's DECIMAL sums are not a gap
    truncated = {**deployments["big-70b"], "gap_idle_usd": D("19.999999999998")}
    assert waterfall_unexplained(waterfall_steps(truncated)) == 0
    cent = {**deployments["big-70b"], "gap_idle_usd": D("19.99")}
    assert waterfall_unexplained(waterfall_steps(cent)) == D("0.01")


def test_deployment_facts_are_weighted_over_the_week(deployments):
    chat = deployments["chat-8b"]
    assert (chat["gpu_count"], chat["gpus_needed"]) == (2, 1)
    # (81,000 + 97,200) s busy; (72,900 + 108,000) modelled; (32,400 + 24,300) at the floor
    assert (chat["busy_gpu_hours"], chat["modelled_busy_gpu_hours"], chat["floor_gpu_hours"]) == (
        49.5,
        50.25,
        15.75,
    )
    assert chat["batch_observed"] == pytest.approx((12 * 81_000 + 20 * 97_200) / 178_200, abs=1e-6)
    assert chat["telemetry_coverage"] == pytest.approx((0.958333333333 + 1.0) / 2, abs=1e-6)
    assert (chat["efficiency_source"], chat["calibrated_days"]) == ("mixed", 1)
    assert (chat["calibration_days_min"], chat["calibration_days_max"]) == (0, 5)
    assert chat["split_methods"] == "gpu_time, token_ratio"
    assert (chat["held_cost_usd"], chat["gpu_hours"], chat["unobserved_gpu_hours"]) == (
        D("55.8"),
        96,
        2,
    )
    assert deployments["big-70b"]["efficiency_source"] == "calibrated"
    assert deployments["spare-8b"]["efficiency_source"] == "prior"


def test_held_cost_converts_each_currency_at_its_billing_periods_rate(tmp_path):
    """RELIABILITY case 8: old-7b also held 10 EUR of November's bill, at the fixture's
    1.0834 USD per EUR: 6 + 10.834 = 16.834 USD, exact. Read USD lines only, it was 6."""
    path = tmp_path / "eur.duckdb"
    with connect(path) as con:
        con.execute(FIXTURE.read_text())
        con.execute(
            "insert into marts.fct_cost_allocation_daily values ('2026-11-04', 'e1', "
            "'2026-11-01', 'EUR', 'idle', 'old-7b', 24, 0, 10, 10, 10)"
        )
        tables = load_tables(con, dt.date(2026, 11, 7))
    old = tables.deployments.filter(deployment_id="old-7b").row(0, named=True)
    assert (old["held_cost_usd"], old["gpu_hours"]) == (D("16.834"), 48)
    assert str(old["held_cost_usd"]) == "16.834000000000"  # DECIMAL(38,12), never a float


def test_a_deployments_best_saving_is_the_most_cash_now(deployments):
    big = deployments["big-70b"]
    # distill saves more in total (2,400) but only 900 in cash: quantizing saves 1,500.50 now
    assert (big["best_kind"], big["best_cash_monthly_savings_usd"]) == ("quantize", D("1500.5"))
    chat = deployments["chat-8b"]
    assert (chat["best_cash_monthly_savings_usd"], chat["best_deferred_monthly_savings_usd"]) == (
        D(0),
        D("300.25"),
    )


def test_idle_and_unallocated_list_idle_per_deployment_and_unclaimed_cost(tables):
    rows = [
        (r["allocation_kind"], r["deployment_id"], r["billing_currency"], r["effective_cost"])
        for r in tables.idle_unallocated.rows(named=True)
    ]
    assert rows == [
        ("idle", "big-70b", "USD", D(50)),
        ("unallocated", "(no deployment)", "USD", D("33.25")),
        ("idle", "chat-8b", "USD", D("16.2")),
        ("idle", "spare-8b", "USD", D(12)),
        ("unallocated", "(no deployment)", "EUR", D(10)),
        ("idle", "old-7b", "USD", D(6)),
    ]


def test_recommendations_are_the_newest_in_the_week_most_cash_first(tables):
    recs = tables.recommendations
    assert set(recs["as_of_date"]) == {dt.date(2026, 11, 7)}
    assert list(zip(recs["deployment_id"], recs["instance_id"], recs["kind"], strict=True)) == [
        ("big-70b", None, "quantize"),
        ("big-70b", None, "distill"),
        (None, "i-0abc", "right_size"),
        ("spare-8b", None, "right_size"),
        ("chat-8b", None, "right_size"),
    ]
    assert recs["cash_monthly_savings_usd"].to_list() == [D("1500.5"), D(900), D(720), D(120), D(0)]
    assert recs["deferred_monthly_savings_usd"].to_list() == [
        D(0),
        D(1500),
        D(0),
        D(240),
        D("300.25"),
    ]
    assert recs["counts_in_headline"].to_list() == [True, False, True, True, True]
    assert recs["commitment_end_date"].to_list() == [
        None,
        dt.date(2027, 3, 31),
        None,
        None,
        dt.date(2027, 6, 30),
    ]
    assert recs["assumptions"][0].startswith("Output quality at fp8")


def test_the_headline_sums_cash_of_one_recommendation_per_target_and_sets_deferred_apart(tables):
    headline = headline_savings(tables.recommendations)
    # quantize big-70b 1,500.50 + terminate i-0abc 720 + release spare-8b 120 + chat-8b 0
    assert headline.cash_monthly_usd == D("2340.5")
    # not the cash of every row (distilling big-70b is an alternative to quantizing it)
    assert headline.cash_monthly_usd != sum(tables.recommendations["cash_monthly_savings_usd"])
    # chat-8b 300.25 behind a reservation + spare-8b 240 under a flexible plan
    assert headline.deferred_monthly_usd == D("540.25")
    assert headline.counted == 4
    assert headline.commitments == [
        Commitment(
            "ri-0c2d3e", "reserved_instance", dt.date(2027, 6, 30), D("300.25"),
            ("chat-8b · right_size",),
        ),
        Commitment("sp-9f8e7d", "savings_plan", None, D(240), ("spare-8b · right_size",)),
    ]  # fmt: skip


def test_coverage_counts_days_unobserved_gpu_hours_and_methods(tables):
    assert tables.coverage == {
        "days_with_cost": 4,
        "gpu_hours": 264.0,
        "unobserved_gpu_hours": 2.0,
        "currencies": "EUR, USD",
        "recommendations_as_of": dt.date(2026, 11, 7),
    }
    assert tables.method_counts("split_method") == {"gpu_time": 2, "none": 1, "token_ratio": 1}
    assert tables.method_counts("efficiency_source") == {"calibrated": 2, "prior": 2}
