"""The simulated fleet's bill, format-neutral: one ``Line`` per charge, exact Decimals.

Per copy of the fleet the most expensive instance runs under a no-upfront Compute Savings
Plan (28 % off, hourly commitment slightly above use, so a little goes unused) and the next
one under a no-upfront Reserved Instance (38 % off); the rest are on demand. Both are 1-year
terms bought before the simulation (``commitments``): the reservation ends 45 days after the
last simulated day (a renewal decision is near), the Savings Plan about 200 days after, so a
recommendation on their GPUs has a dated cash saving to state. Each simulated
day adds an EBS volume per instance and internet egress; each period a promotional credit,
a support fee and sales tax. A restatement adds a refund (``restated_only``): the first
delivery of the first period lacks it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from pipelines.fleet.plan import FleetPlan, PlannedInstance

ACCOUNT_ID = "210987654321"  # the default spec's account (writers do not see the spec)
REGION = "us-east-1"
SP_DISCOUNT = Decimal("0.72")
SP_COMMIT_MARKUP = Decimal("1.01")
RI_DISCOUNT = Decimal("0.62")
EBS_PER_DAY = Decimal("1.20")  # 500 GiB gp3 at $0.072/GB-month, per day
EGRESS_GB_PER_DAY = Decimal("120")
EGRESS_PER_GB = Decimal("0.09")
CREDIT = Decimal("-50.00")
REFUND = Decimal("-25.00")
SUPPORT_RATE = Decimal("0.10")
TAX_RATE = Decimal("0.06")
CENT = Decimal("0.01")
HOUR = dt.timedelta(hours=1)
TERM = dt.timedelta(days=365)  # a 1-year term: EC2's Duration of 31,536,000 s
# Term ends after the end of the simulated days (odd times: purchases are not at midnight).
TERM_END_AFTER = {
    "reserved": dt.timedelta(days=45, hours=9, minutes=14, seconds=27),
    "savings_plan": dt.timedelta(days=200, hours=16, minutes=3, seconds=51),
}


@dataclass(frozen=True)
class Line:
    kind: str  # od_usage sp_usage sp_negation sp_fee ri_usage ri_fee storage egress credit ...
    start: dt.datetime
    end: dt.datetime
    resource_id: str
    instance_type: str | None
    usage_type: str
    product_code: str
    billed: Decimal  # unblended / BilledCost
    effective: Decimal  # amortized / EffectiveCost
    list_cost: Decimal
    quantity: Decimal
    unit: str
    commitment: Decimal | None = None  # SP fee: total commitment; SP/RI usage: effective cost
    arn: str | None = None
    restated_only: bool = False
    term_start: dt.datetime | None = None  # the commitment's term, on lines with an ARN
    term_end: dt.datetime | None = None


@dataclass(frozen=True)
class Commitment:
    kind: str  # savings_plan | reserved
    arn: str
    start: dt.datetime
    end: dt.datetime


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(period: dt.date) -> dt.date:
    return (period + dt.timedelta(days=32)).replace(day=1)


def _at(day: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def coverage(plan: FleetPlan) -> dict[str, str]:
    """instance id -> savings_plan | reserved | on_demand."""
    out = {i.id: "on_demand" for i in plan.instances}
    for copy in {i.copy for i in plan.instances}:
        ranked = sorted(
            (i for i in plan.instances if i.copy == copy), key=lambda i: (-i.hourly_price_usd, i.id)
        )
        for inst, kind in zip(ranked, ("savings_plan", "reserved"), strict=False):
            out[inst.id] = kind
    return out


def commitments(plan: FleetPlan) -> dict[str, Commitment]:
    """instance id -> the commitment covering it all billed days (on-demand ones absent)."""
    after_last = _at(plan.billing_dates[-1] + dt.timedelta(days=1))
    by_id = {i.id: i for i in plan.instances}
    out = {}
    for inst_id, kind in coverage(plan).items():
        if kind != "on_demand":
            end = after_last + TERM_END_AFTER[kind]
            out[inst_id] = Commitment(kind, _arn(kind, by_id[inst_id]), end - TERM, end)
    return out


def _arn(kind: str, inst: PlannedInstance) -> str:
    if kind == "savings_plan":
        return f"arn:aws:savingsplans::{ACCOUNT_ID}:savingsplan/sp-{inst.id[2:]}"
    return f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:reserved-instances/ri-{inst.id[2:]}"


def _hourly(inst: PlannedInstance, term: Commitment | None, start: dt.datetime) -> list[Line]:
    kind = term.kind if term else "on_demand"
    price = inst.hourly_price_usd
    common = dict(start=start, end=start + HOUR, resource_id=inst.id, instance_type=inst.type)
    usage = f"BoxUsage:{inst.type}"
    one = Decimal(1)
    if kind == "on_demand":
        return [
            Line(
                "od_usage",
                **common,
                usage_type=usage,
                product_code="AmazonEC2",
                billed=price,
                effective=price,
                list_cost=price,
                quantity=one,
                unit="Hrs",
            )
        ]
    arn = term.arn
    dates = dict(term_start=term.start, term_end=term.end)
    if kind == "reserved":
        eff = price * RI_DISCOUNT
        return [
            Line(
                "ri_usage",
                **common,
                usage_type=usage,
                product_code="AmazonEC2",
                billed=Decimal(0),
                effective=eff,
                list_cost=price,
                quantity=one,
                unit="Hrs",
                commitment=eff,
                arn=arn,
                **dates,
            )
        ]
    eff = price * SP_DISCOUNT
    commit = (eff * SP_COMMIT_MARKUP).quantize(CENT)
    fee = dict(start=start, end=start + HOUR, resource_id=arn, instance_type=None)
    return [
        Line("sp_usage", **common, usage_type=usage, product_code="AmazonEC2", billed=price,
             effective=eff, list_cost=price, quantity=one, unit="Hrs", commitment=eff, arn=arn,
             **dates),
        Line("sp_negation", **common, usage_type=usage, product_code="AmazonEC2", billed=-price,
             effective=Decimal(0), list_cost=Decimal(0), quantity=one, unit="Hrs", arn=arn,
             **dates),
        Line("sp_fee", **fee, usage_type="ComputeSP:1yrNoUpfront",
             product_code="ComputeSavingsPlans", billed=commit, effective=commit - eff,
             list_cost=Decimal(0), quantity=one, unit="Hrs", commitment=commit, arn=arn,
             **dates),
    ]  # fmt: skip


def period_lines(plan: FleetPlan, period: dt.date) -> list[Line]:
    """Every charge of ``period`` over the plan's billed days in it."""
    days = [d for d in plan.billing_dates if month_start(d) == period]
    terms = commitments(plan)
    lines: list[Line] = []
    for inst in plan.instances:
        term = terms.get(inst.id)
        for day in days:
            for hour in range(24):
                lines.extend(_hourly(inst, term, _at(day, hour)))
            lines.append(_daily_storage(inst, day))
        if term is not None and term.kind == "reserved":
            lines.append(_ri_fee(inst, term, days, period))
    for copy in sorted({i.copy for i in plan.instances}):
        lines.extend(_egress(copy, day) for day in days)
    return lines + _period_charges(plan, period, lines)


def _daily_storage(inst: PlannedInstance, day: dt.date) -> Line:
    vol = "vol-" + inst.id[2:]
    return Line("storage", _at(day), _at(day + dt.timedelta(days=1)), vol, None,
                "EBS:VolumeUsage.gp3", "AmazonEC2", EBS_PER_DAY, EBS_PER_DAY, EBS_PER_DAY,
                Decimal("16.666667"), "GB-Mo")  # fmt: skip


def _egress(copy: int, day: dt.date) -> Line:
    cost = EGRESS_GB_PER_DAY * EGRESS_PER_GB
    return Line("egress", _at(day), _at(day + dt.timedelta(days=1)), f"egress-copy-{copy}", None,
                "DataTransfer-Out-Bytes", "AWSDataTransfer", cost, cost, cost,
                EGRESS_GB_PER_DAY, "GB")  # fmt: skip


def _ri_fee(inst: PlannedInstance, term: Commitment, days: list[dt.date], period: dt.date) -> Line:
    hours = Decimal(24 * len(days))
    fee = inst.hourly_price_usd * RI_DISCOUNT * hours
    return Line("ri_fee", _at(period), _at(next_month(period)), term.arn, None,
                f"HeavyUsage:{inst.type}", "AmazonEC2", fee, Decimal(0), Decimal(0), hours, "Hrs",
                arn=term.arn, term_start=term.start, term_end=term.end)  # fmt: skip


def _period_charges(plan: FleetPlan, period: dt.date, lines: list[Line]) -> list[Line]:
    copies = Decimal(plan.copies)
    start, end = _at(period), _at(next_month(period))
    usage = sum((ln.billed for ln in lines), Decimal(0))
    support = (usage * SUPPORT_RATE).quantize(CENT)
    tax = ((usage + support) * TAX_RATE).quantize(CENT)

    def flat(kind, resource, usage_type, product, amount, restated=False) -> Line:
        return Line(kind, start, end, resource, None, usage_type, product, amount, amount,
                    Decimal(0), Decimal(0), "", restated_only=restated)  # fmt: skip

    return [
        flat("credit", "promo-credit", "Credit", "AmazonEC2", CREDIT * copies),
        flat("support", "support-business", "Dollar", "AWSSupportBusiness", support),
        flat("tax", "sales-tax", "Tax", "AmazonEC2", tax),
        flat("refund", "refund-outage", "Refund", "AmazonEC2", REFUND * copies, restated=True),
    ]
