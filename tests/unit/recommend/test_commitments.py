"""Commitment-aware savings (recommend/commitments.py) on hand-computed cases.

Every case: current cost C = $100/day, proposed P = $40/day, so the saving is $60/day and,
over a month of 365/12 days, S = $1,825.00. Cash now = the on-demand cost freed minus the new
cost no commitment absorbs; the rest is deferred (cash after the commitment ends).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.recommend import commitments
from pipelines.recommend.commitments import (
    CommitmentCoverage,
    apply_commitments,
    coverage_from_frame,
    split_savings,
)
from pipelines.recommend.engine import recommend
from pipelines.recommend.inputs import FleetInputs, IdleInstance
from pipelines.recommend.outputs import Recommendation
from pipelines.warehouse import connect

AS_OF = dt.date(2026, 11, 7)
S, C, P = Decimal("1825.00"), Decimal("100"), Decimal("40")
RI = "arn:aws:ec2:us-east-1:210987654321:reserved-instances/ri-0c39e507db1f462b3"
SP = "arn:aws:savingsplans::210987654321:savingsplan/sp-0b28d4f6ca0e351a2"
RI_END, SP_END = dt.date(2026, 12, 23), dt.date(2027, 5, 27)


def _row(cost, commitment=None, end=None, deployment="d", instance=None) -> CommitmentCoverage:
    kind = {RI: ("Reserved Instance", "Usage"), SP: ("Savings Plan", "Spend")}
    typ, category = kind.get(commitment, (None, None))
    return CommitmentCoverage(
        deployment, instance, commitment, typ, category, end, 1.0, Decimal(cost), Decimal(0)
    )


def _split(coverage, same_gpu_type=True):
    return split_savings(S, C, P, coverage, same_gpu_type=same_gpu_type, as_of=AS_OF)


def test_reserved_instance_fully_covering_saves_no_cash_before_it_ends():
    # The new config (same GPU type) keeps running on the reservation: 40 of its 100/day
    # stay used, 60/day of reserved capacity is freed for other work until 2026-12-23.
    split = _split([_row("700", RI, RI_END)])
    assert split.cash_monthly_savings_usd == Decimal("0.00")
    assert split.deferred_monthly_savings_usd == S
    assert (split.commitment_ids, split.commitment_kind) == (RI, "Reserved Instance")
    assert split.commitment_end_date == RI_END


def test_leaving_a_reservation_for_other_gpus_costs_cash_until_it_ends():
    # The reservation is still paid (100/day) and the new GPUs cost 40/day in cash:
    # cash now = 0 - 40 = -40/day = -1,216.67/mo; deferred = 100/day = 3,041.67/mo.
    split = _split([_row("700", RI, RI_END)], same_gpu_type=False)
    assert split.cash_monthly_savings_usd == Decimal("-1216.67")
    assert split.deferred_monthly_savings_usd == Decimal("3041.67")


def test_savings_plan_covering_frees_commitment_whatever_the_gpu_type():
    # A Compute Savings Plan covers any instance type: the new 40/day runs under it, the
    # other 60/day of commitment is freed for reuse, cash only after the plan ends.
    for same in (True, False):
        split = _split([_row("504", SP, SP_END)], same_gpu_type=same)
        assert split.cash_monthly_savings_usd == Decimal("0.00")
        assert split.deferred_monthly_savings_usd == S
        assert split.commitment_kind == "Savings Plan"
        assert split.commitment_end_date == SP_END


def test_on_demand_is_all_cash():
    split = _split([_row("700")])
    assert (split.cash_monthly_savings_usd, split.deferred_monthly_savings_usd) == (S, 0)
    assert (split.commitment_ids, split.commitment_kind, split.commitment_end_date) == (
        None,
        None,
        None,
    )


def test_mixed_releases_on_demand_first():
    # 30 % on demand, 70 % reserved: the new 40/day fits in the reservation's 70/day, so the
    # 30/day on demand is freed in cash (912.50/mo) and 30/day of reservation is deferred.
    split = _split([_row("300"), _row("700", RI, RI_END)])
    assert split.cash_monthly_savings_usd == Decimal("912.50")
    assert split.deferred_monthly_savings_usd == Decimal("912.50")
    # 80 % on demand: the new 40/day keeps the whole 20/day reservation busy, all cash.
    split = _split([_row("800"), _row("200", RI, RI_END)])
    assert (split.cash_monthly_savings_usd, split.deferred_monthly_savings_usd) == (S, 0)
    (rec,) = apply_commitments([_rec()], [_row("800"), _row("200", RI, RI_END)], {"d": "h100-sxm"})
    assert "All of it is cash now" in rec.summary and rec.commitment_ids == RI


def test_unknown_end_date_is_null_and_said_so():
    # FOCUS 1.0-1.2 exports name the commitment but not its end.
    split = _split([_row("700", RI, None)])
    assert split.commitment_end_date is None
    rec = _rec()
    (out,) = apply_commitments([rec], [_row("700", RI, None)], {"d": "h100-sxm"})
    assert "end date not in the bill" in out.summary
    assert out.commitment_end_date is None


def test_two_commitments_end_when_the_last_ends_and_an_ended_one_is_on_demand():
    split = _split([_row("500", RI, RI_END), _row("500", SP, SP_END)], same_gpu_type=False)
    assert split.commitment_ids == f"{RI}, {SP}"
    assert split.commitment_kind == "Reserved Instance, Savings Plan"
    assert split.commitment_end_date == SP_END
    # the SP absorbs the new 40 of its 50/day; 50 (RI) + 10 (SP) per day deferred
    assert split.deferred_monthly_savings_usd == Decimal("1825.00")
    ended = _split([_row("700", RI, AS_OF)])  # the term ended on the as-of day
    assert (ended.cash_monthly_savings_usd, ended.commitment_ids) == (S, None)


def _rec(deployment="d", instance=None, target=None) -> Recommendation:
    return Recommendation(
        deployment_id=deployment,
        kind="quantize",
        summary="Quantize d.",
        monthly_savings_usd=S,
        confidence=0.9,
        assumptions=("A month is 365/12 days.",),
        as_of_date=AS_OF,
        target=target or {"gpu_id": "h100-sxm", "num_gpus": 2},
        current_daily_cost_usd=C,
        proposed_daily_cost_usd=P,
        instance_id=instance,
    )


def test_apply_names_the_commitment_and_end_date_in_the_text():
    recs = [
        _rec(),
        _rec("e", target={"gpu_id": "l4", "num_gpus": 1}),
        _rec(None, "i-idle", {"action": "terminate", "num_gpus": 0}),
    ]
    coverage = [
        _row("700", RI, RI_END),
        _row("700", RI, RI_END, deployment="e"),
        _row("100", SP, SP_END, deployment=None, instance="i-idle"),
    ]
    same, other, idle = apply_commitments(recs, coverage, {"d": "h100-sxm", "e": "h100-sxm"})
    assert same.cash_monthly_savings_usd == 0 and same.deferred_monthly_savings_usd == S
    assert "Reserved Instance ri-0c39e507db1f462b3 (ends 2026-12-23)" in same.summary
    assert "Cash saved now $0/mo" in same.summary
    assert any("paid every hour of its term" in a for a in same.assumptions)
    assert other.cash_monthly_savings_usd == Decimal("-1216.67")  # moves off the RI to L4s
    assert "Cash saved now -$1,217/mo" in other.summary
    # an idle instance under a Savings Plan: terminating it frees commitment, not cash
    assert idle.cash_monthly_savings_usd == 0 and idle.commitment_end_date == SP_END
    assert "Savings Plan sp-0b28d4f6ca0e351a2 (ends 2027-05-27)" in idle.summary
    for rec in (same, other, idle):
        total = rec.cash_monthly_savings_usd + rec.deferred_monthly_savings_usd
        assert total == rec.monthly_savings_usd


FIXTURE = Path(__file__).parents[2] / "fixtures" / "recommend" / "warehouse.sql"
QUERY = Path(commitments.__file__).parent / "sql" / "commitments.sql"
DAY = dt.date(2026, 11, 2)


@pytest.fixture(scope="module")
def warehouse_coverage(tmp_path_factory) -> tuple[CommitmentCoverage, ...]:
    """``sql/commitments.sql`` (what ``load_warehouse_inputs`` reads) on the hand-built
    warehouse's int_billing__commitment_coverage, for 2026-11-02."""
    path = tmp_path_factory.mktemp("commitments_warehouse") / "unitcost.duckdb"
    with connect(path) as con:
        con.execute(FIXTURE.read_text())
        window = {"start": DAY, "end": DAY + dt.timedelta(days=1)}
        return coverage_from_frame(con.execute(QUERY.read_text(), window).pl())


def test_warehouse_coverage_is_read_per_deployment_and_idle_instance(warehouse_coverage):
    # fixtures/recommend/warehouse.sql: the 11-03 row is outside the window; i-eur's 2.5 EUR
    # count at November's 1.0834 (RELIABILITY case 8), exactly: DECIMAL, never float
    got = {
        (c.deployment_id, c.instance_id, c.commitment_id): (c.end_date, c.effective_cost_usd)
        for c in warehouse_coverage
    }
    assert got == {
        ("batch-70b", None, None): (None, Decimal("60")),
        ("batch-70b", None, "arn:aws:ec2:us-east-1:1:reserved-instances/ri-batch"): (
            dt.date(2026, 12, 20),
            Decimal("180"),
        ),
        ("chat-8b", None, None): (None, Decimal("48")),
        (None, "i-idle", "arn:aws:savingsplans::1:savingsplan/sp-idle"): (
            dt.date(2027, 3, 1),
            Decimal("4"),
        ),
        (None, "i-eur", None): (None, Decimal("2.7085")),
    }


def test_engine_splits_an_idle_instance_under_a_savings_plan(warehouse_coverage):
    idle = IdleInstance("i-idle", "g6.12xlarge", "l4", 4, 4.0, 1)
    inputs = FleetInputs({}, (), (idle,), commitments=warehouse_coverage)
    (rec,) = recommend(inputs).recommendations
    assert rec.instance_id == "i-idle" and rec.monthly_savings_usd > 0
    assert rec.cash_monthly_savings_usd == 0
    assert rec.deferred_monthly_savings_usd == rec.monthly_savings_usd
    assert rec.commitment_kind == "Savings Plan"
    assert rec.commitment_end_date == dt.date(2027, 3, 1)
    assert "Savings Plan sp-idle (ends 2027-03-01)" in rec.summary
