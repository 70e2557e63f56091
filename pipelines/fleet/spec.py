"""The fleet spec: which instances exist, what each deployment serves, and how it behaves.

The spec is the simulator's whole truth. Service speed (prefill tokens/s, TPOT as a function
of batch) is stated here, never taken from the cost model, so the cost model's predictions
can later be tested against the simulated fleet honestly.

Cross-references (a placement's host, a planted scenario's deployment) are checked while
pydantic validates, through a validation context that earlier fields fill in: pydantic
validates fields in declaration order, so ``instances`` are known before ``deployments`` and
both before ``planted``. That keeps every error at its own key path and line.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pipelines.costmodel.catalog import llm_catalog
from pipelines.fleet.planted import PlantedScenario
from pipelines.fleet.specbase import Service, Traffic, context_of, usd
from pipelines.onprem.config import OnPremConfig
from pipelines.registry import (
    ApiAccess,
    Engine,
    GpuAllocation,
    KubernetesSelector,
    NonEmpty,
    Precisions,
    Slug,
)
from pipelines.yamlconf import StrictModel, blame, load_yaml_model

DEFAULT_SPEC_PATH = Path(__file__).parent / "default_spec.yaml"


class Account(StrictModel):
    cloud: Literal["aws"]
    account_id: Annotated[str, Field(pattern=r"^[0-9]{12}$")]
    region: NonEmpty


class PowerDraw(StrictModel):
    """Watts per GPU the simulated DCGM reports: ``idle_w + (busy_w - idle_w) × activity``
    (without it, fractions of the GPU's TDP: ``dcgm_signals``)."""

    idle_w: Annotated[float, Field(gt=0)]
    busy_w: Annotated[float, Field(gt=0)]

    @model_validator(mode="after")
    def _ordered(self) -> PowerDraw:
        if self.busy_w < self.idle_w:
            raise ValueError("busy_w must be at least idle_w")
        return self


class Instance(StrictModel):
    """A cloud instance (``id``, ``hourly_price_usd``: billed by the simulated CUR), or an
    on-prem host (neither: priced by the spec's ``onprem:`` section, no cloud bill)."""

    id: Annotated[str, Field(pattern=r"^i-[0-9a-f]{8,17}$")] | None = None
    type: NonEmpty
    gpu: GpuAllocation
    hourly_price_usd: str | None = None
    host: Slug
    power: PowerDraw | None = None

    @field_validator("hourly_price_usd", mode="before")
    @classmethod
    def _price(cls, value: Any) -> str | None:
        return None if value is None else usd(value)

    @model_validator(mode="after")
    def _cloud_or_onprem(self) -> Instance:
        if (self.id is None) != (self.hourly_price_usd is None):
            raise ValueError(
                "a cloud instance has both id and hourly_price_usd; an on-prem host neither"
            )
        return self

    @field_validator("id")
    @classmethod
    def _unique_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Registered before the rest validates, so a later error in this instance does not
        # also make every reference to it fail.
        ctx = context_of(info)
        if ctx is not None and value is not None:
            ids = ctx.setdefault("instance_ids", set())
            if value in ids:
                raise ValueError(f"instance id {value!r} appears twice")
            ids.add(value)
        return value

    @model_validator(mode="after")
    def _unique_host(self, info: ValidationInfo) -> Instance:
        ctx = context_of(info)
        if ctx is not None:
            hosts = ctx.setdefault("hosts", {})
            if self.host in hosts:
                raise ValueError(f"host {self.host!r} is used by two instances")
            hosts[self.host] = self
        return self


class Placement(StrictModel):
    host: NonEmpty
    gpu_indexes: list[Annotated[int, Field(ge=0)]] = Field(min_length=1)

    @field_validator("host")
    @classmethod
    def _known_host(cls, host: str, info: ValidationInfo) -> str:
        ctx = context_of(info)
        if ctx is not None and "hosts" in ctx and host not in ctx["hosts"]:
            raise ValueError(f"no instance has host {host!r}")
        return host

    @field_validator("gpu_indexes")
    @classmethod
    def _in_range(cls, indexes: list[int], info: ValidationInfo) -> list[int]:
        if len(set(indexes)) != len(indexes):
            raise ValueError("a GPU index is listed twice")
        ctx = context_of(info)
        instance = (ctx or {}).get("hosts", {}).get(info.data.get("host"))
        if instance is not None and max(indexes) >= instance.gpu.count:
            raise ValueError(
                f"host {instance.host!r} has GPUs 0..{instance.gpu.count - 1}, not {max(indexes)}"
            )
        return indexes


class DeploymentSpec(StrictModel):
    """A deployment as the registry will know it, plus how it is placed and how it behaves."""

    id: Slug
    team: NonEmpty
    llm: NonEmpty
    engine: Engine
    precision: Precisions
    tensor_parallel: Annotated[int, Field(ge=1)] = 1
    placement: list[Placement] = Field(min_length=1)
    request_model_name: NonEmpty
    kubernetes: KubernetesSelector | None = None
    valid_from_day: int = 0  # days after the simulation start; negative = already serving
    valid_to_day: int | None = None  # exclusive; None = still serving at the end
    api: ApiAccess | None = None  # copied to the registry as is (data policy, not behaviour)
    traffic: Traffic
    service: Service

    @field_validator("id")
    @classmethod
    def _unique_id(cls, value: str, info: ValidationInfo) -> str:
        ctx = context_of(info)
        if ctx is not None:
            ids = ctx.setdefault("deployment_ids", set())
            if value in ids:
                raise ValueError(f"deployment id {value!r} appears twice")
            ids.add(value)
        return value

    @field_validator("llm")
    @classmethod
    def _known_llm(cls, value: str) -> str:
        if value not in llm_catalog():
            raise ValueError(f"unknown LLM {value!r}; known: {', '.join(sorted(llm_catalog()))}")
        return value

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> DeploymentSpec:
        if self.valid_to_day is not None and self.valid_to_day <= self.valid_from_day:
            raise ValueError("valid_to_day must be after valid_from_day")
        for place in self.placement:
            if len(place.gpu_indexes) % self.tensor_parallel:
                raise ValueError(
                    f"{len(place.gpu_indexes)} GPUs on {place.host} do not split into replicas "
                    f"of tensor_parallel {self.tensor_parallel} (a replica never spans hosts)"
                )
        ctx = context_of(info)
        if ctx is not None and "hosts" in ctx:
            self._claim_gpus(ctx)
        return self

    def _claim_gpus(self, ctx: dict) -> None:
        """Refuse a GPU that another deployment uses on an overlapping day range."""
        types = {ctx["hosts"][p.host].gpu.type for p in self.placement}
        if len(types) > 1:
            raise ValueError(f"placement mixes GPU types {sorted(types)}")
        claims: dict[tuple[str, int], list[DeploymentSpec]] = ctx.setdefault("claims", {})
        mine = [(p.host, i) for p in self.placement for i in p.gpu_indexes]
        if len(set(mine)) != len(mine):
            raise ValueError("placement lists a GPU twice")
        for gpu in mine:
            for other in claims.get(gpu, []):
                if _days_overlap(self, other):
                    raise ValueError(
                        f"GPU {gpu[1]} of {gpu[0]} is also used by {other.id!r} on the same days"
                    )
        for gpu in mine:
            claims.setdefault(gpu, []).append(self)
        ctx.setdefault("deployments", {})[self.id] = self


def _days_overlap(a: DeploymentSpec, b: DeploymentSpec) -> bool:
    end_a = a.valid_to_day if a.valid_to_day is not None else 10**9
    end_b = b.valid_to_day if b.valid_to_day is not None else 10**9
    return a.valid_from_day < end_b and b.valid_from_day < end_a


class FleetSpec(StrictModel):
    version: Literal[1]
    account: Account
    instances: list[Instance] = Field(min_length=1)
    deployments: list[DeploymentSpec] = Field(min_length=1)
    planted: dict[Slug, PlantedScenario] = {}
    # Copied into unitcost.yaml as is (what the owner of the hosts would configure); its
    # entries must price exactly the instances without an id (specs/onprem_fleet.yaml)
    onprem: OnPremConfig | None = None

    @model_validator(mode="after")
    def _onprem_hosts_priced(self) -> FleetSpec:
        entries = self.onprem.hosts if self.onprem else []
        for i, inst in enumerate(self.instances):
            exact = [e for e in entries if e.host == inst.host]
            globs = [
                e for e in entries if e.host_pattern and fnmatchcase(inst.host, e.host_pattern)
            ]
            priced = (exact + globs)[:1]  # as unitcost resolves it: by name, else first glob
            if priced and priced[0].gpu != inst.gpu:
                raise blame(f"instances[{i}].gpu", "differs from its onprem entry's gpu")
            if priced and inst.id is not None:
                raise blame(f"instances[{i}].id", f"{inst.host} is billed and priced on-prem")
            if not priced and inst.id is None:
                raise blame(f"instances[{i}]", f"on-prem host {inst.host} matches no onprem entry")
            if inst.id is None and inst.power is None:
                raise blame(f"instances[{i}].power", "an on-prem host needs its power draw")
        return self


def load_spec(path: str | Path = DEFAULT_SPEC_PATH) -> FleetSpec:
    """Read and validate a fleet spec; raises ``ConfigError`` naming file, line and key."""
    return load_yaml_model(path, FleetSpec, context={})
