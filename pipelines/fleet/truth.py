"""What the simulated fleet really did: the per-day totals behind ``ground_truth.json``.

The totals are exact sums over the rows written (token counts are integers) and the busy
GPU-seconds are the sums of the same rounded hourly fractions the timeline holds, so both
can be recomputed from the Parquet files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from pipelines.fleet.arrivals import DayRequests
from pipelines.fleet.plan import FleetPlan, PlannedDeployment
from pipelines.fleet.service import Served

MICRO_USD = Decimal("0.000001")


def hourly_busy(served: Served) -> np.ndarray:
    """(replicas, 24) busy fraction per hour, rounded as the timeline stores it."""
    replicas = served.busy.shape[0]
    return np.round(served.busy.reshape(replicas, 24, 60).mean(axis=2), 6)


@dataclass
class DeploymentDay:
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    busy_gpu_seconds: float
    mean_batch: float
    repeated_prefix_tokens: int = 0  # what an unbounded prefix cache would have hit

    def as_json(self) -> dict:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "busy_gpu_seconds": round(self.busy_gpu_seconds, 3),
            "mean_decode_batch": round(self.mean_batch, 4),
            "repeated_prefix_tokens": self.repeated_prefix_tokens,
        }


@dataclass
class TruthBook:
    """Accumulates one ``DeploymentDay`` per active (deployment, day) while simulating."""

    plan: FleetPlan
    days: dict[str, dict[dt.date, DeploymentDay]] = field(default_factory=dict)

    def record(
        self, dep: PlannedDeployment, day: dt.date, reqs: DayRequests, served: Served
    ) -> None:
        tp = dep.spec.tensor_parallel
        self.days.setdefault(dep.id, {})[day] = DeploymentDay(
            requests=len(reqs),
            errors=int(served.error.sum()),
            input_tokens=int(reqs.input_tokens.sum()),
            output_tokens=int(served.output_tokens.sum()),
            cached_tokens=int(reqs.cached_tokens.sum()),
            busy_gpu_seconds=float(hourly_busy(served).sum()) * 3600 * tp,
            mean_batch=float(served.batch.mean()),
            repeated_prefix_tokens=int(reqs.repeats.sum()),
        )

    def mean_busy_fraction(self, dep: PlannedDeployment) -> float | None:
        days = self.days.get(dep.id, {})
        if not days:
            return None
        busy = sum(d.busy_gpu_seconds for d in days.values())
        return round(busy / (dep.gpu_count * 86_400 * len(days)), 6)

    def per_day(self, dep: PlannedDeployment, attr: str) -> float | None:
        """Mean of ``attr`` over the deployment's active days."""
        days = self.days.get(dep.id, {})
        if not days:
            return None
        return sum(getattr(d, attr) for d in days.values()) / len(days)

    def deployment_json(self, dep: PlannedDeployment) -> dict:
        days = self.days.get(dep.id, {})
        totals = {
            k: sum(getattr(d, k) for d in days.values())
            for k in ("requests", "errors", "input_tokens", "output_tokens", "cached_tokens")
        }
        totals["busy_gpu_seconds"] = round(sum(d.busy_gpu_seconds for d in days.values()), 3)
        spec = dep.spec
        return {
            "copy": dep.copy,
            "team": spec.team,
            "llm": spec.llm,
            "precision": {"weights": spec.precision.weights, "kv_cache": spec.precision.kv_cache},
            "tensor_parallel": spec.tensor_parallel,
            "replicas": len(dep.replicas),
            "gpu": {"type": dep.gpu_type, "count": dep.gpu_count},
            "request_model_name": dep.request_model_name,
            "trace": spec.traffic.trace,
            "expected_requests_per_day": round(dep.requests_per_day, 3),
            "service": spec.service.model_dump(),
            "valid_from": dep.valid_from.isoformat(),
            "valid_to": dep.valid_to.isoformat() if dep.valid_to else None,
            "active_days": len(days),
            "mean_busy_fraction": self.mean_busy_fraction(dep),
            "days": {d.isoformat(): v.as_json() for d, v in sorted(days.items())},
            "totals": totals,
        }

    def instance_json(self) -> dict:
        hours = 24 * self.plan.days
        used: dict[str, set[str]] = {}
        for dep in self.plan.deployments:
            for host, _ in dep.host_gpus:
                used.setdefault(host, set()).add(dep.id)
        out = {}
        for inst in self.plan.instances:
            out[inst.id] = {
                "type": inst.type,
                "host": inst.host,
                "gpu_type": inst.gpu_type,
                "gpu_count": inst.gpu_count,
                "gpu_uuids": list(inst.gpu_uuids),
                "hourly_price_usd": str(inst.hourly_price_usd),
                "billed_hours": hours,
                "gpu_hours": hours * inst.gpu_count,
                "cost_usd": str(inst.hourly_price_usd * hours),
                "deployments": sorted(used.get(inst.host, set())),
            }
        return out
