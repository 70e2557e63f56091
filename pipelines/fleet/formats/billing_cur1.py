"""Simulator writer: the fleet's bill as a legacy AWS Cost and Usage Report (CUR 1).

The same format-neutral lines as CUR 2.0 and FOCUS (``billing_lines.period_lines``), written
as AWS delivers a legacy report with report versioning "create new report version":

    <billing_dir>/cur1/<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-<n>.csv.gz
    <billing_dir>/cur1/<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-Manifest.json
    <billing_dir>/cur1/<report>/<yyyymmdd-yyyymmdd>/<report>-Manifest.json  (current version)

Slash-style headers (``lineItem/UnblendedCost``), money written as AWS's legacy CSV writes a
double (``0.0``, ``1.25``, ``4.0E-7``; from the exact Decimal, never through a float), times
as ``2026-11-01T00:00:00.000Z``, tags as ``resourceTags/user:team``. The first period also
gets its first delivery (without the restatement's refund) as an older assembly that the
period manifest no longer lists: reading the folder must take the current one only.

Call ``write_cur1_export(plan, billing_dir)``; it returns the truth in the shape of
``billing.write_exports``'s (``periods`` → ``USD`` billed/effective, ``rows``, ``instances``)
and ``source``, the folder to point ``sources.billing`` at with ``format: cur1``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

from pipelines.fleet.formats.billing import BUCKET, _instance_truth, _sums, periods
from pipelines.fleet.formats.billing_lines import ACCOUNT_ID, REGION, Line, next_month, period_lines
from pipelines.fleet.formats.billing_render import CUR_TYPE
from pipelines.fleet.plan import FleetPlan

CUR1_REPORT = "unitcost-cur1"
PREFIX = "cur1"  # the report's S3 prefix, and its folder under billing_dir
TIME = "%Y-%m-%dT%H:%M:%S.000Z"
COLUMNS = (
    "identity/LineItemId", "identity/TimeInterval", "bill/InvoiceId", "bill/InvoicingEntity",
    "bill/BillingEntity", "bill/BillType", "bill/PayerAccountId", "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate", "lineItem/UsageAccountId", "lineItem/LineItemType",
    "lineItem/UsageStartDate", "lineItem/UsageEndDate", "lineItem/ProductCode",
    "lineItem/UsageType", "lineItem/Operation", "lineItem/ResourceId", "lineItem/UsageAmount",
    "lineItem/CurrencyCode", "lineItem/UnblendedCost", "lineItem/LineItemDescription",
    "product/instanceType", "product/region", "pricing/publicOnDemandCost", "pricing/unit",
    "reservation/EffectiveCost", "reservation/EndTime", "reservation/ReservationARN",
    "reservation/StartTime", "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/UnusedRecurringFee", "savingsPlan/EndTime", "savingsPlan/SavingsPlanARN",
    "savingsPlan/SavingsPlanEffectiveCost", "savingsPlan/StartTime",
    "savingsPlan/TotalCommitmentToDate", "savingsPlan/UsedCommitment", "resourceTags/user:team",
)  # fmt: skip


def java_double(value: Decimal | None) -> str:
    """``value`` as Java's ``Double.toString`` spells it (how legacy CUR CSVs write money):
    plain from 1e-3 to below 1e7 with at least one decimal, else ``d.dddE±n``."""
    if value is None:
        return ""
    if value == 0:
        return "0.0"
    sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    magnitude = len(digits) - 1 + exponent  # power of ten of the first digit
    if -3 <= magnitude < 7:
        plain = format(abs(value).normalize(), "f")
        plain = plain if "." in plain else plain + ".0"
    else:
        plain = f"{text[0]}.{text[1:] or '0'}E{magnitude}"
    return ("-" if sign else "") + plain


def _time(value: dt.datetime | None) -> str:
    return "" if value is None else value.strftime(TIME)


def _zero_on(ln: Line, kind: str) -> str:
    return "0.0" if ln.kind == kind else ""


def _row(n: int, ln: Line, period: dt.date) -> dict[str, str]:
    sp, ri = ln.kind.startswith("sp"), ln.kind.startswith("ri")
    used = ln.billed - ln.effective if ln.kind == "sp_fee" else None
    return {
        "identity/LineItemId": hashlib.sha256(f"{period}|{n}".encode()).hexdigest()[:52],
        "identity/TimeInterval": f"{ln.start:%Y-%m-%dT%H:%M:%SZ}/{ln.end:%Y-%m-%dT%H:%M:%SZ}",
        "bill/InvoiceId": f"INV-{period:%Y%m}",
        "bill/InvoicingEntity": "Amazon Web Services, Inc.",
        "bill/BillingEntity": "AWS",
        "bill/BillType": "Anniversary",
        "bill/PayerAccountId": ACCOUNT_ID,
        "bill/BillingPeriodStartDate": f"{period:%Y-%m-%d}T00:00:00.000Z",
        "bill/BillingPeriodEndDate": f"{next_month(period):%Y-%m-%d}T00:00:00.000Z",
        "lineItem/UsageAccountId": ACCOUNT_ID,
        "lineItem/LineItemType": CUR_TYPE[ln.kind],
        "lineItem/UsageStartDate": _time(ln.start),
        "lineItem/UsageEndDate": _time(ln.end),
        "lineItem/ProductCode": ln.product_code,
        "lineItem/UsageType": ln.usage_type,
        "lineItem/Operation": "RunInstances" if ln.instance_type else "",
        "lineItem/ResourceId": ln.resource_id,
        "lineItem/UsageAmount": java_double(ln.quantity),
        "lineItem/CurrencyCode": "USD",
        "lineItem/UnblendedCost": java_double(ln.billed),
        "lineItem/LineItemDescription": f"{ln.kind} {ln.usage_type}",
        "product/instanceType": ln.instance_type or "",
        "product/region": REGION,
        "pricing/publicOnDemandCost": java_double(ln.list_cost),
        "pricing/unit": ln.unit,
        "reservation/EffectiveCost": java_double(ln.commitment) if ln.kind == "ri_usage" else "",
        "reservation/EndTime": _time(ln.term_end) if ri else "",
        "reservation/ReservationARN": (ln.arn or "") if ri else "",
        "reservation/StartTime": _time(ln.term_start) if ri else "",
        "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": _zero_on(ln, "ri_fee"),
        "reservation/UnusedRecurringFee": _zero_on(ln, "ri_fee"),
        "savingsPlan/EndTime": _time(ln.term_end) if sp else "",
        "savingsPlan/SavingsPlanARN": (ln.arn or "") if sp else "",
        "savingsPlan/SavingsPlanEffectiveCost": (
            java_double(ln.commitment) if ln.kind == "sp_usage" else ""
        ),
        "savingsPlan/StartTime": _time(ln.term_start) if sp else "",
        "savingsPlan/TotalCommitmentToDate": (
            java_double(ln.commitment) if ln.kind == "sp_fee" else ""
        ),
        "savingsPlan/UsedCommitment": java_double(used),
        "resourceTags/user:team": "inference" if ln.instance_type else "",
    }  # fmt: skip


def _csv_gz(period: dt.date, lines: list[Line]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_row(n, ln, period) for n, ln in enumerate(lines))
    return gzip.compress(text.getvalue().encode(), mtime=0)


def _write_assembly(
    period_dir: Path, key_base: str, period: dt.date, lines: list[Line], report: str,
    rows_per_file: int,
) -> tuple[str, bytes]:  # fmt: skip
    """One version of the period in its assemblyId folder; (assemblyId, manifest)."""
    parts = [lines[i : i + rows_per_file] for i in range(0, max(len(lines), 1), rows_per_file)]
    bodies = [_csv_gz(period, part) for part in parts]
    assembly = hashlib.sha256(b"".join(bodies)).hexdigest()[:32]
    assembly = (
        f"{assembly[:8]}-{assembly[8:12]}-{assembly[12:16]}-{assembly[16:20]}-{assembly[20:]}"
    )
    folder = period_dir / assembly
    folder.mkdir(parents=True, exist_ok=True)
    keys = []
    for n, body in enumerate(bodies, start=1):
        name = f"{report}-{n}.csv.gz"
        (folder / name).write_bytes(body)
        keys.append(f"{key_base}/{assembly}/{name}")
    manifest = {
        "assemblyId": assembly,
        "account": ACCOUNT_ID,
        "columns": [
            {"category": c.split("/")[0], "name": c.split("/")[1], "type": "String"}
            for c in COLUMNS
        ],
        "charset": "UTF-8",
        "compression": "GZIP",
        "contentType": "text/csv",
        "reportId": hashlib.sha256(report.encode()).hexdigest()[:64],
        "reportName": report,
        "billingPeriod": {
            "start": f"{period:%Y%m%d}T000000.000Z",
            "end": f"{next_month(period):%Y%m%d}T000000.000Z",
        },
        "bucket": BUCKET,
        "reportKeys": keys,
        "additionalArtifactKeys": [],
    }
    body = json.dumps(manifest, indent=2).encode()
    (folder / f"{report}-Manifest.json").write_bytes(body)
    return assembly, body


def write_cur1_export(
    plan: FleetPlan, billing_dir: Path, *, report: str = CUR1_REPORT, rows_per_file: int = 250_000
) -> dict:
    """Every billing period of ``plan`` as a legacy CUR under ``billing_dir/cur1``."""
    truth: dict = {"periods": {}, "rows": {}, "instances": {}, "source": f"billing/{PREFIX}"}
    for n, period in enumerate(periods(plan)):
        lines = period_lines(plan, period)
        key = f"{period:%Y-%m}"
        span = f"{period:%Y%m%d}-{next_month(period):%Y%m%d}"
        period_dir = billing_dir / PREFIX / report / span
        key_base = f"{PREFIX}/{report}/{span}"
        truth["periods"][key] = _sums(lines)
        if n == 0:  # an earlier version, superseded: only the period manifest says so
            first = [ln for ln in lines if not ln.restated_only]
            _write_assembly(period_dir, key_base, period, first, report, rows_per_file)
            truth["periods"][key]["first_delivery"] = _sums(first)
        _, manifest = _write_assembly(period_dir, key_base, period, lines, report, rows_per_file)
        (period_dir / f"{report}-Manifest.json").write_bytes(manifest)
        truth["rows"][key] = len(lines)
        _instance_truth(truth["instances"], key, lines)
    return truth
