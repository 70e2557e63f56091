"""Simulator writer: the fleet's bill as AWS Data Exports deliver it, in CUR 2.0 and FOCUS 1.2.

``billing/cur2/unitcost-cur2/{data,metadata}/BILLING_PERIOD=YYYY-MM/…`` (Parquet, money as
doubles like AWS's), ``billing/focus/unitcost-focus/…`` (gzip CSV, FOCUS 1.2), and for the
first period a first delivery before its restatement in ``billing/cur2-initial`` and
``billing/focus-initial`` (same export names: ingesting it, then the final folder, replaces
the period and the ledger shows the refund as the delta). ``unitcost.yaml`` points
``sources.billing`` at one of them only (``--billing-format``, CUR 2.0 by default): the
layouts hold the same account and periods, and two sources for one account+period must fail
(case 6). A format beyond those two (FOCUS 1.3, ...) is written besides them when chosen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from pipelines.fleet.formats import SimulationContext, WriterOutput
from pipelines.fleet.formats.billing_lines import (
    RI_DISCOUNT,
    SP_DISCOUNT,
    Line,
    commitments,
    coverage,
    month_start,
    next_month,
    period_lines,
)
from pipelines.fleet.formats.billing_render import CUR2_EXPORT, FOCUS_EXPORT, write_files
from pipelines.fleet.plan import FleetPlan

BUCKET = "unitcost-simulated"

# ``unitcost simulate --billing-format``: the export unitcost.yaml's billing source reads, as
# (folder under billing/, the source's ``format:``). CUR 2.0 and FOCUS 1.2 are always written.
BILLING_FORMATS: dict[str, tuple[str, str]] = {
    "cur2": ("cur2", "cur2"),
    "focus-1.2": ("focus", "focus"),
    "focus-1.3": ("focus-1.3", "focus"),  # the reader detects the version from the columns
    "cur1": ("cur1", "cur1"),  # legacy CUR (billing_cur1.py), beside CUR 2.0 and FOCUS 1.2
}
DEFAULT_BILLING_FORMAT = "cur2"


def periods(plan: FleetPlan) -> list[dt.date]:
    return sorted({month_start(d) for d in plan.billing_dates})


def _manifest(export: str, rel_root: str, period: dt.date, files: list[str], columns) -> bytes:
    doc = {
        "exportName": export,
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:210987654321:export/{export}",
        "billingPeriod": {
            "start": f"{period:%Y-%m-%d}T00:00:00.000Z",
            "end": f"{next_month(period):%Y-%m-%d}T00:00:00.000Z",
        },
        "bucket": BUCKET,
        "dataFiles": [f"s3://{BUCKET}/{rel_root}/{f}" for f in files],
        "columns": [{"name": n, "type": str(t)} for n, t in columns],
    }
    doc["executionId"] = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]
    return json.dumps(doc, indent=2, sort_keys=True).encode()


def write_export(
    root: Path, rel_root: str, fmt: str, period: dt.date, lines: list[Line], **options
) -> int:
    """One delivery of ``period`` under ``root`` (the export folder); returns its row count."""
    export = CUR2_EXPORT if fmt == "cur2" else FOCUS_EXPORT
    part = f"BILLING_PERIOD={period:%Y-%m}"
    files, columns, rows = write_files(root / "data" / part, fmt, period, lines, **options)
    body = _manifest(export, rel_root, period, [f"data/{part}/{f}" for f in files], columns)
    meta = root / "metadata" / part
    meta.mkdir(parents=True, exist_ok=True)
    (meta / f"{export}-Manifest.json").write_bytes(body)
    return rows


def _sums(lines: list[Line]) -> dict:
    billed = sum((ln.billed for ln in lines), Decimal(0))
    effective = sum((ln.effective for ln in lines), Decimal(0))
    return {"USD": {"billed_usd": str(billed), "effective_usd": str(effective)}}


def write_exports(plan: FleetPlan, billing_dir: Path, formats=("cur2", "focus"), **options) -> dict:
    """Write every period in each format (plus the first delivery of the first period)."""
    truth: dict = {"periods": {}, "instances": {}, "rows": {}}
    for n, period in enumerate(periods(plan)):
        lines = period_lines(plan, period)
        first = [ln for ln in lines if not ln.restated_only]
        key = f"{period:%Y-%m}"
        truth["periods"][key] = _sums(lines)
        if n == 0:
            truth["periods"][key]["first_delivery"] = _sums(first)
        for fmt in formats:
            export = CUR2_EXPORT if fmt == "cur2" else FOCUS_EXPORT
            for folder, subset in ((fmt, lines), (f"{fmt}-initial", first))[: 2 if n == 0 else 1]:
                rel = f"billing/{folder}/{export}"
                rows = write_export(
                    billing_dir / folder / export, rel, fmt, period, subset, **options
                )
                truth["rows"].setdefault(folder, {})[key] = rows
        _instance_truth(truth["instances"], key, lines)
        _deployment_truth(truth.setdefault("deployments", {}), plan, lines)
    truth["coverage"] = _coverage_truth(plan)
    return truth


def _coverage_truth(plan: FleetPlan) -> dict:
    """Per instance: on_demand, or the commitment that covers all its hours (id, term, the
    share of the on-demand price it bills as effective cost)."""
    rate = {"savings_plan": SP_DISCOUNT, "reserved": RI_DISCOUNT}
    terms = commitments(plan)
    out = {}
    for inst_id, kind in sorted(coverage(plan).items()):
        out[inst_id] = {"kind": kind}
        if inst_id in terms:
            term = terms[inst_id]
            out[inst_id].update(
                commitment_id=term.arn,
                term_start=term.start.isoformat(),
                term_end=term.end.isoformat(),
                effective_share_of_on_demand=str(rate[kind]),
            )
    return out


def _deployment_truth(out: dict, plan: FleetPlan, lines: list[Line]) -> None:
    """Per deployment and day: its share of its instances' GPU usage lines (GPUs held over
    GPUs of the instance), what allocation must recover from the bill and the registry."""
    by_host = {i.host: i for i in plan.instances}
    shares: dict[str, list[tuple]] = {}
    for dep in plan.deployments:
        for host, indexes in dep.host_gpus:
            inst = by_host.get(host)
            if inst is None:  # an on-prem host: not on this bill
                continue
            shares.setdefault(inst.id, []).append((dep, Decimal(len(indexes)) / inst.gpu_count))
    for ln in lines:
        if ln.instance_type is None:
            continue
        day = ln.start.date()
        for dep, share in shares.get(ln.resource_id, []):
            if not dep.active_on(day):
                continue
            entry = out.setdefault(dep.id, {}).setdefault(
                day.isoformat(), {"billed_usd": Decimal(0), "effective_usd": Decimal(0)}
            )
            entry["billed_usd"] += ln.billed * share
            entry["effective_usd"] += ln.effective * share
    for days in out.values():
        for entry in days.values():
            entry["billed_usd"] = str(entry["billed_usd"])
            entry["effective_usd"] = str(entry["effective_usd"])


def _instance_truth(out: dict, period: str, lines: list[Line]) -> None:
    """Per instance: hours, billed and effective cost of its GPU instance usage lines."""
    for ln in lines:
        if ln.instance_type is None:
            continue
        entry = out.setdefault(ln.resource_id, {}).setdefault(
            period, {"hours": 0, "billed_usd": Decimal(0), "effective_usd": Decimal(0)}
        )
        entry["hours"] += 0 if ln.kind == "sp_negation" else 1
        entry["billed_usd"] += ln.billed
        entry["effective_usd"] += ln.effective
    for per in out.values():
        for entry in per.values():
            entry["billed_usd"] = str(entry["billed_usd"])
            entry["effective_usd"] = str(entry["effective_usd"])


def _write_focus13(plan: FleetPlan, billing_dir: Path) -> dict:
    return write_exports(plan, billing_dir, formats=("focus-1.3",))


def _write_cur1(plan: FleetPlan, billing_dir: Path) -> dict:
    # imported here: billing_cur1 builds on this module's period and truth helpers
    from pipelines.fleet.formats.billing_cur1 import PREFIX, write_cur1_export

    return {"rows": {PREFIX: write_cur1_export(plan, billing_dir)["rows"]}}


# Writers of the formats not always written: name -> f(plan, billing dir) -> its truth (only
# its "rows", by folder, are kept).
EXTRA_WRITERS: dict[str, Callable[[FleetPlan, Path], dict]] = {
    "focus-1.3": _write_focus13,
    "cur1": _write_cur1,
}


def write(ctx: SimulationContext) -> WriterOutput:
    # On-prem hosts have no cloud bill (unitcost prices them from unitcost.yaml onprem:)
    cloud = tuple(i for i in ctx.plan.instances if not i.onprem)
    if not cloud:
        return WriterOutput()
    plan = replace(ctx.plan, instances=cloud)
    truth = write_exports(plan, ctx.out / "billing")
    if ctx.billing_format in EXTRA_WRITERS:
        extra = EXTRA_WRITERS[ctx.billing_format](plan, ctx.out / "billing")
        truth["rows"].update(extra["rows"])
    folder, fmt = BILLING_FORMATS[ctx.billing_format]
    truth.update(
        account_id="210987654321",
        source=f"billing/{folder}",
        billing_format=ctx.billing_format,
        exports={"cur2": CUR2_EXPORT, "focus": FOCUS_EXPORT},
        note="billed/effective per period for the final (restated) delivery; instances: "
        "GPU instance usage lines only (SP negation included, so SP-covered billed is 0); "
        "coverage: each instance on demand or under a commitment (id, term in UTC)",
    )
    return WriterOutput(
        sources={"billing": {"location": f"billing/{folder}", "format": fmt}},
        truth={"billing": truth},
    )
