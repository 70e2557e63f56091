"""The fleet plan: a spec expanded by ``--scale`` into concrete instances and deployments.

``scale`` S sets both fleet size and traffic: the spec's fleet is replicated
``copies = max(1, ceil(S))`` times and every deployment's volume is multiplied by
``S / copies``, so the fleet serves S × the spec's traffic on ``copies`` × its GPUs. At
integer S ≥ 1 each copy carries exactly the spec's load (the planted scenarios are calibrated
for that); a fractional S < 1 keeps one copy and thins its traffic, which tests use to stay
fast. Copy 0 keeps the spec's ids; copy k ≥ 1 suffixes deployment ids, hosts and request
model names with ``-cNNN`` and derives a fresh, AWS-shaped instance id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from decimal import Decimal

from pipelines.fleet.spec import DeploymentSpec, FleetSpec, Instance
from pipelines.fleet.traces import load_trace


@dataclass(frozen=True)
class PlannedInstance:
    id: str
    type: str
    host: str
    gpu_type: str
    gpu_count: int
    hourly_price_usd: Decimal
    gpu_uuids: tuple[str, ...]
    copy: int
    onprem: bool = False  # no cloud bill: id is the host, priced by unitcost.yaml onprem:
    power_w: tuple[float, float] | None = None  # (idle, busy) W per GPU, from the spec


@dataclass(frozen=True)
class Replica:
    """``tensor_parallel`` GPUs of one host serving one copy of the weights."""

    host: str
    gpu_indexes: tuple[int, ...]


@dataclass(frozen=True)
class PlannedDeployment:
    id: str
    spec: DeploymentSpec
    copy: int
    host_gpus: tuple[tuple[str, tuple[int, ...]], ...]  # (host, indexes) per placement
    replicas: tuple[Replica, ...]
    gpu_type: str
    requests_per_day: float  # expected, after scaling
    request_model_name: str
    valid_from: dt.date
    valid_to: dt.date | None

    @property
    def gpu_count(self) -> int:
        return sum(len(idx) for _, idx in self.host_gpus)

    def active_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class FleetPlan:
    start: dt.date
    days: int
    seed: int
    scale: float
    copies: int
    instances: tuple[PlannedInstance, ...]
    deployments: tuple[PlannedDeployment, ...]
    # bill every day of the simulated days' months, not only the simulated days: a month-end
    # export's size with one day of telemetry and logs (``unitcost simulate --billing-month``)
    billing_whole_months: bool = False

    @property
    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    @property
    def billing_dates(self) -> list[dt.date]:
        """The days the bill charges: the simulated days, or their whole months."""
        if not self.billing_whole_months:
            return self.dates
        first = self.dates[0].replace(day=1)
        last = self.dates[-1].replace(day=1)
        end = (last + dt.timedelta(days=32)).replace(day=1)
        return [first + dt.timedelta(days=i) for i in range((end - first).days)]

    @property
    def gpu_count(self) -> int:
        return sum(i.gpu_count for i in self.instances)


def _suffix(copy: int) -> str:
    return "" if copy == 0 else f"-c{copy:03d}"


def _digest(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def gpu_uuid(seed: int, host: str, index: int) -> str:
    """A stable ``GPU-xxxxxxxx-…`` UUID, as nvidia-smi and DCGM print them."""
    h = _digest("gpu", seed, host, index)
    return f"GPU-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _instance(inst: Instance, copy: int, seed: int) -> PlannedInstance:
    host = inst.host + _suffix(copy)
    if inst.id is None:  # on-prem: billing-like lines name the host
        iid = host
    else:
        iid = inst.id if copy == 0 else "i-0" + _digest("instance", inst.id, copy)[:16]
    return PlannedInstance(
        id=iid,
        type=inst.type,
        host=host,
        gpu_type=inst.gpu.type,
        gpu_count=inst.gpu.count,
        hourly_price_usd=Decimal(inst.hourly_price_usd or 0),
        gpu_uuids=tuple(gpu_uuid(seed, host, i) for i in range(inst.gpu.count)),
        copy=copy,
        onprem=inst.id is None,
        power_w=(inst.power.idle_w, inst.power.busy_w) if inst.power else None,
    )


def _deployment(
    dep: DeploymentSpec, copy: int, gpu_type: str, volume: float, start: dt.date
) -> PlannedDeployment:
    sfx = _suffix(copy)
    host_gpus = tuple((p.host + sfx, tuple(p.gpu_indexes)) for p in dep.placement)
    tp = dep.tensor_parallel
    replicas = tuple(
        Replica(host, idx[k : k + tp]) for host, idx in host_gpus for k in range(0, len(idx), tp)
    )
    traffic = dep.traffic
    per_day = traffic.requests_per_day
    if per_day is None:
        per_day = traffic.tokens_per_day / load_trace(traffic.trace).mean_tokens
    to = None if dep.valid_to_day is None else start + dt.timedelta(days=dep.valid_to_day)
    return PlannedDeployment(
        id=dep.id + sfx,
        spec=dep,
        copy=copy,
        host_gpus=host_gpus,
        replicas=replicas,
        gpu_type=gpu_type,
        requests_per_day=per_day * volume,
        request_model_name=dep.request_model_name + sfx,
        valid_from=start + dt.timedelta(days=dep.valid_from_day),
        valid_to=to,
    )


def build_plan(
    spec: FleetSpec,
    start: dt.date,
    days: int,
    scale: float,
    seed: int,
    billing_whole_months: bool = False,
) -> FleetPlan:
    if days < 1:
        raise ValueError("days must be at least 1")
    if not (scale >= 0 and math.isfinite(scale)):
        raise ValueError("scale must be a finite number >= 0")
    copies = max(1, math.ceil(scale))
    volume = scale / copies
    gpu_type_of = {i.host: i.gpu.type for i in spec.instances}
    instances = [_instance(i, c, seed) for c in range(copies) for i in spec.instances]
    deployments = [
        _deployment(d, c, gpu_type_of[d.placement[0].host], volume, start)
        for c in range(copies)
        for d in spec.deployments
    ]
    return FleetPlan(
        start,
        days,
        seed,
        scale,
        copies,
        tuple(instances),
        tuple(deployments),
        billing_whole_months,
    )
