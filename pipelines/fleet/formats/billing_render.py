"""Render neutral bill lines as CUR 2.0 columns (FOCUS: ``billing_focus``) and write them
(Parquet / CSV.gz)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.fleet.formats.billing_focus import SERVICE, focus_columns
from pipelines.fleet.formats.billing_lines import ACCOUNT_ID, REGION, Line

CUR2_EXPORT = "unitcost-cur2"
FOCUS_EXPORT = "unitcost-focus"
CUR_TYPE = {
    "od_usage": "Usage", "storage": "Usage", "egress": "Usage",
    "sp_usage": "SavingsPlanCoveredUsage",
    "sp_negation": "SavingsPlanNegation", "sp_fee": "SavingsPlanRecurringFee",
    "ri_usage": "DiscountedUsage", "ri_fee": "RIFee", "credit": "Credit", "support": "Fee",
    "tax": "Tax", "refund": "Refund",
}  # fmt: skip
# CUR 2.0's map columns and their types (AWS's CUR 2.0 column dictionary)
MAPS = {
    "resource_tags": pa.map_(pa.string(), pa.string()),
    "product": pa.map_(pa.string(), pa.string()),
    "discount": pa.map_(pa.string(), pa.float64()),
}
PARQUET = {"compression": "snappy", "version": "2.6"}


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
        # CUR 2.0's maps: product attributes without a column of their own, and discounts
        # (EDP, bundled: none here; Savings Plans and reservations have their own columns)
        "product": [[("product_name", SERVICE[ln.product_code])] for ln in lines],
        "discount": [[] for _ in lines],
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
    if fmt == "cur2":
        columns = _cur_columns(lines, period)
    else:  # focus (1.2) or focus-1.3
        columns = focus_columns(lines, period, "1.3" if fmt == "focus-1.3" else "1.2")
    export = CUR2_EXPORT if fmt == "cur2" else FOCUS_EXPORT
    n = len(next(iter(columns.values())))
    names, schema = [], []
    for k, lo in enumerate(range(0, max(n, 1), rows_per_file), start=1):
        chunk = {c: v[lo : lo + rows_per_file] for c, v in columns.items()}
        if fmt == "cur2" and cur_format == "parquet":
            table = pa.table(
                {c: pa.array(v, MAPS[c]) if c in MAPS else v for c, v in chunk.items()}
            )
            name = f"{export}-{k:05d}.snappy.parquet"
            pq.write_table(table, folder / name, **PARQUET)
            schema = [(f.name, f.type) for f in table.schema]
        else:
            name = f"{export}-{k:05d}.csv.gz"
            (folder / name).write_bytes(_csv_gz(chunk))
            schema = [(c, "string") for c in chunk]
        names.append(name)
    return names, schema, n
