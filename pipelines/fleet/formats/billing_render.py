"""Render neutral bill lines as CUR 2.0 or FOCUS 1.2 columns and write them (Parquet / CSV.gz)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.fleet.formats.billing_lines import ACCOUNT_ID, REGION, Line, next_month

CUR2_EXPORT = "unitcost-cur2"
FOCUS_EXPORT = "unitcost-focus"
CUR_TYPE = {
    "od_usage": "Usage", "storage": "Usage", "egress": "Usage",
    "sp_usage": "SavingsPlanCoveredUsage",
    "sp_negation": "SavingsPlanNegation", "sp_fee": "SavingsPlanRecurringFee",
    "ri_usage": "DiscountedUsage", "ri_fee": "RIFee", "credit": "Credit", "support": "Fee",
    "tax": "Tax", "refund": "Refund",
}  # fmt: skip
FOCUS_CATEGORY = {"sp_fee": "Purchase", "ri_fee": "Purchase", "support": "Purchase",
                  "credit": "Credit", "refund": "Credit", "tax": "Tax"}  # fmt: skip
SERVICE = {"AmazonEC2": "Amazon Elastic Compute Cloud", "AWSDataTransfer": "AWS Data Transfer",
           "ComputeSavingsPlans": "Savings Plans for AWS Compute usage",
           "AWSSupportBusiness": "AWS Support (Business)"}  # fmt: skip
PARQUET = {"compression": "snappy", "version": "2.6"}


COVERED = ("sp_usage", "ri_usage")
# FOCUS: a row covered by or paying for a commitment names it (CommitmentDiscountId, Type and
# Category are non-null together); Status ("Used") is for Usage rows only.
COMMITTED = (*COVERED, "sp_fee", "ri_fee")
FOCUS_COMMITMENT = {"sp": ("Savings Plan", "Spend"), "ri": ("Reserved Instance", "Usage")}


def _arns(lines: list[Line], prefix: str) -> list:
    return [ln.arn if ln.kind.startswith(prefix) else None for ln in lines]


def _term(lines: list[Line], prefix: str, field: str) -> list:
    # CUR 2.0 writes term times as ISO text in UTC with milliseconds, on every line of the plan
    # or reservation (covered usage, negation, fees).
    return [
        getattr(ln, field).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if ln.kind.startswith(prefix) and getattr(ln, field) is not None
        else None
        for ln in lines
    ]


def _commitment(lines: list[Line], kind: str) -> list:
    return [_money(ln.commitment) if ln.kind == kind else None for ln in lines]


def _zero(kinds: list[str], kind: str) -> list:
    return [0.0 if k == kind else None for k in kinds]


def _focus_commitment(ln: Line, field: int) -> str | None:
    return FOCUS_COMMITMENT[ln.kind[:2]][field] if ln.kind in COMMITTED else None


def _frequency(ln: Line) -> str:
    if ln.kind in ("sp_fee", "ri_fee"):
        return "Recurring"
    return "Usage-Based" if ln.unit else "One-Time"


def _sku_details(ln: Line) -> str | None:
    return json.dumps({"InstanceType": ln.instance_type}) if ln.instance_type else None


def _money(value) -> float | None:
    # AWS writes CUR 2.0 Parquet money as doubles; str() keeps the exact decimal digits.
    return None if value is None else float(value)


def _cur_columns(lines: list[Line], period: dt.date) -> dict[str, list]:
    kind = [ln.kind for ln in lines]
    used = [ln.billed - ln.effective if ln.kind == "sp_fee" else None for ln in lines]
    return {
        "identity_line_item_id": [f"li-{i:09d}" for i in range(len(lines))],
        "bill_payer_account_id": [ACCOUNT_ID] * len(lines),
        "bill_billing_period_start_date": [dt.datetime(period.year, period.month, 1)] * len(lines),
        "line_item_usage_account_id": [ACCOUNT_ID] * len(lines),
        "line_item_line_item_type": [CUR_TYPE[k] for k in kind],
        "line_item_usage_start_date": [ln.start.replace(tzinfo=None) for ln in lines],
        "line_item_usage_end_date": [ln.end.replace(tzinfo=None) for ln in lines],
        "line_item_product_code": [ln.product_code for ln in lines],
        "line_item_usage_type": [ln.usage_type for ln in lines],
        "line_item_operation": ["RunInstances" if ln.instance_type else None for ln in lines],
        "line_item_resource_id": [ln.resource_id for ln in lines],
        "line_item_usage_amount": [_money(ln.quantity) for ln in lines],
        "line_item_currency_code": ["USD"] * len(lines),
        "line_item_unblended_cost": [_money(ln.billed) for ln in lines],
        "line_item_line_item_description": [f"{ln.kind} {ln.usage_type}" for ln in lines],
        "pricing_public_on_demand_cost": [_money(ln.list_cost) for ln in lines],
        "pricing_unit": [ln.unit or None for ln in lines],
        "product_instance_type": [ln.instance_type for ln in lines],
        "product_region_code": [REGION] * len(lines),
        "savings_plan_savings_plan_a_r_n": _arns(lines, "sp"),
        "savings_plan_start_time": _term(lines, "sp", "term_start"),
        "savings_plan_end_time": _term(lines, "sp", "term_end"),
        "savings_plan_savings_plan_effective_cost": _commitment(lines, "sp_usage"),
        "savings_plan_total_commitment_to_date": _commitment(lines, "sp_fee"),
        "savings_plan_used_commitment": [_money(u) for u in used],
        "reservation_reservation_a_r_n": _arns(lines, "ri"),
        "reservation_start_time": _term(lines, "ri", "term_start"),
        "reservation_end_time": _term(lines, "ri", "term_end"),
        "reservation_effective_cost": _commitment(lines, "ri_usage"),
        "reservation_unused_amortized_upfront_fee_for_billing_period": _zero(kind, "ri_fee"),
        "reservation_unused_recurring_fee": _zero(kind, "ri_fee"),
        "resource_tags": [[("team", "inference")] if ln.instance_type else [] for ln in lines],
    }  # fmt: skip


def _focus_columns(lines: list[Line], period: dt.date) -> dict[str, list]:
    lines = [ln for ln in lines if ln.kind != "sp_negation"]  # FOCUS has no negation rows
    covered = [ln.kind in COVERED for ln in lines]
    billed = [0 if ln.kind in COVERED else ln.billed for ln in lines]
    iso = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "BillingAccountId": [ACCOUNT_ID] * len(lines),
        "BillingAccountName": ["unitcost-sim"] * len(lines),
        "BillingAccountType": ["Billing Account"] * len(lines),
        "BillingCurrency": ["USD"] * len(lines),
        "BillingPeriodStart": [f"{period:%Y-%m-%d}T00:00:00Z"] * len(lines),
        "BillingPeriodEnd": [f"{next_month(period):%Y-%m-%d}T00:00:00Z"] * len(lines),
        "ChargeCategory": [FOCUS_CATEGORY.get(ln.kind, "Usage") for ln in lines],
        "ChargeClass": ["Correction" if ln.kind == "refund" else None for ln in lines],
        "ChargeDescription": [f"{ln.kind} {ln.usage_type}" for ln in lines],
        "ChargeFrequency": [_frequency(ln) for ln in lines],
        "ChargePeriodStart": [ln.start.strftime(iso) for ln in lines],
        "ChargePeriodEnd": [ln.end.strftime(iso) for ln in lines],
        "CommitmentDiscountCategory": [_focus_commitment(ln, 1) for ln in lines],
        "CommitmentDiscountId": [ln.arn if ln.kind in COMMITTED else None for ln in lines],
        "CommitmentDiscountStatus": ["Used" if c else None for c in covered],
        "CommitmentDiscountType": [_focus_commitment(ln, 0) for ln in lines],
        "ConsumedQuantity": [ln.quantity if ln.unit else None for ln in lines],
        "ConsumedUnit": [ln.unit or None for ln in lines],
        "BilledCost": billed,
        "EffectiveCost": [ln.effective for ln in lines],
        "ListCost": [ln.list_cost for ln in lines],
        "ContractedCost": [ln.effective for ln in lines],
        "InvoiceId": [f"INV-{period:%Y%m}"] * len(lines),
        "InvoiceIssuerName": ["Amazon Web Services, Inc."] * len(lines),
        "PricingCategory": ["Committed" if c else "Standard" for c in covered],
        "PricingQuantity": [ln.quantity for ln in lines],
        "PricingUnit": [ln.unit or None for ln in lines],
        "ProviderName": ["AWS"] * len(lines),
        "PublisherName": ["Amazon Web Services, Inc."] * len(lines),
        "RegionId": [REGION] * len(lines),
        "ResourceId": [ln.resource_id for ln in lines],
        "ServiceCategory": ["Compute"] * len(lines),
        "ServiceName": [SERVICE[ln.product_code] for ln in lines],
        "SkuId": [ln.usage_type for ln in lines],
        "SkuPriceDetails": [_sku_details(ln) for ln in lines],
        "SubAccountId": [ACCOUNT_ID] * len(lines),
        "Tags": [json.dumps({"team": "inference"}) if ln.instance_type else None for ln in lines],
        "x_Operation": ["RunInstances" if ln.instance_type else None for ln in lines],
    }  # fmt: skip


def _csv_gz(columns: dict[str, list]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    for row in zip(*columns.values(), strict=True):
        writer.writerow(
            [v.isoformat().replace("T", " ") if isinstance(v, dt.datetime) else "" if v is None
             else json.dumps(dict(v)) if isinstance(v, list) else v for v in row]
        )  # fmt: skip
    return gzip.compress(text.getvalue().encode(), mtime=0)


def write_files(
    folder: Path, fmt: str, period: dt.date, lines: list[Line], *, cur_format="parquet",
    rows_per_file: int = 250_000,
) -> tuple[list[str], list[tuple[str, object]], int]:  # fmt: skip
    """Write the period's files into ``folder``; (file names, (column, type) list, row count)."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = _cur_columns(lines, period) if fmt == "cur2" else _focus_columns(lines, period)
    export = CUR2_EXPORT if fmt == "cur2" else FOCUS_EXPORT
    n = len(next(iter(columns.values())))
    names, schema = [], []
    for k, lo in enumerate(range(0, max(n, 1), rows_per_file), start=1):
        chunk = {c: v[lo : lo + rows_per_file] for c, v in columns.items()}
        if fmt == "cur2" and cur_format == "parquet":
            table = pa.table(chunk)
            table = table.set_column(
                table.schema.get_field_index("resource_tags"), "resource_tags",
                pa.array(chunk["resource_tags"], pa.map_(pa.string(), pa.string())),
            )  # fmt: skip
            name = f"{export}-{k:05d}.snappy.parquet"
            pq.write_table(table, folder / name, **PARQUET)
            schema = [(f.name, f.type) for f in table.schema]
        else:
            name = f"{export}-{k:05d}.csv.gz"
            (folder / name).write_bytes(_csv_gz(chunk))
            schema = [(c, "string") for c in chunk]
        names.append(name)
    return names, schema, n
