"""Do the three sources tell the same story? Billed GPU-hours vs telemetry, logged tokens vs
the engines' own counters. Each function reads one window [start, end) and returns a
``Reconciliation``; thresholds are the caller's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Reconciliation:
    """``ratio`` is the headline (1.0 = perfect agreement; None = nothing to compare);
    ``by_deployment`` holds the same ratio per deployment."""

    ratio: float | None
    by_deployment: dict[str, float | None] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)


def telemetry_coverage(con, start: dt.datetime, end: dt.datetime) -> Reconciliation:
    """Share of billed, assigned GPU-hours that DCGM telemetry saw (case 22)."""
    rows = con.execute(_sql("telemetry_coverage"), [start, end]).fetchall()
    assigned = [(d, b, o or 0.0) for d, b, o in rows if d != "(unallocated)" and b]
    billed = sum(b for _, b, _ in assigned)
    observed = sum(o for _, _, o in assigned)
    unallocated = sum(b or 0.0 for d, b, _ in rows if d == "(unallocated)")
    return Reconciliation(
        ratio=round(observed / billed, 4) if billed else None,
        by_deployment={d: round(o / b, 4) for d, b, o in assigned},
        totals={
            "billed_assigned_gpu_hours": round(billed, 3),
            "observed_gpu_hours": round(observed, 3),
            "unallocated_gpu_hours": round(unallocated, 3),
        },
    )


def logged_vs_engine_tokens(con, start: dt.datetime, end: dt.datetime) -> Reconciliation:
    """Request-log tokens ÷ engine-counter tokens, for deployments that have both."""
    rows = con.execute(_sql("logged_vs_engine_tokens"), [start, end, start, end]).fetchall()
    both = [(d, float(lg), float(en)) for d, lg, en in rows if lg and en]
    logged, engine = sum(lg for _, lg, _ in both), sum(en for _, _, en in both)
    return Reconciliation(
        ratio=round(logged / engine, 4) if engine else None,
        by_deployment={d: round(lg / en, 4) for d, lg, en in both},
        totals={
            "deployments_with_both": len(both),
            "deployments_logs_only": sum(1 for _, lg, en in rows if lg and not en),
            "deployments_engine_only": sum(1 for _, lg, en in rows if en and not lg),
        },
    )
