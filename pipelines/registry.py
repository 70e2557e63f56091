"""The deployment registry: what a team serves, on which GPUs, and how to recognise it.

Users write it as YAML (see ``docs`` in README and ``pipelines/fleet/default_spec.yaml`` for a
generated example). Every later join — billing resources, GPU telemetry, request logs — goes
through the selectors declared here, so the file is validated strictly: an id claimed by two
deployments at the same time would count its cost twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Literal

import polars as pl
from pydantic import Field, field_validator, model_validator

from pipelines.costmodel.catalog import gpu_ids, llm_ids
from pipelines.costmodel.precision import KV_CACHE_BYTES_PER_ELEMENT, PRECISIONS
from pipelines.yamlconf import StrictModel, blame, load_yaml_model

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
NonEmpty = Annotated[str, Field(min_length=1)]


class Engine(StrictModel):
    name: Literal["vllm", "sglang", "tensorrt-llm", "tgi", "llama.cpp", "other"]
    version: NonEmpty


class Precisions(StrictModel):
    """Weight and KV-cache precision, each one the cost model can price.

    Checked against the cost model's own tables (``costmodel.precision``), so a deployment
    the registry accepts is one the recommendation engine can evaluate: weights ``fp16``,
    ``bf16``, ``fp8``, ``int8``, ``int4``; KV cache ``fp16``, ``bf16``, ``fp8``, ``int8``.
    """

    weights: NonEmpty
    kv_cache: NonEmpty

    @field_validator("weights")
    @classmethod
    def _weights_the_cost_model_knows(cls, value: str) -> str:
        return _supported(value, PRECISIONS, "weight")

    @field_validator("kv_cache")
    @classmethod
    def _kv_cache_the_cost_model_knows(cls, value: str) -> str:
        return _supported(value, KV_CACHE_BYTES_PER_ELEMENT, "KV-cache")


def _supported(value: str, known: dict, what: str) -> str:
    if value not in known:
        raise ValueError(
            f"the cost model has no {what} precision {value!r}; supported: {', '.join(known)}"
        )
    return value


class ApiAccess(StrictModel):
    """May this deployment's traffic go to a hosted API, and which hosted LLMs would do.

    ``eligible`` is a data-policy decision (default no). ``substitutes`` are LLM catalog ids
    acceptable in place of the deployment's own; empty means its own LLM only.
    """

    eligible: bool = False
    substitutes: list[NonEmpty] = []

    @field_validator("substitutes")
    @classmethod
    def _known_llms(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in llm_ids()]
        if unknown:
            raise ValueError(
                f"unknown LLM {', '.join(map(repr, unknown))}; known: {', '.join(llm_ids())}"
            )
        return value


class GpuAllocation(StrictModel):
    type: NonEmpty
    count: Annotated[int, Field(ge=1)]

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in gpu_ids():
            raise ValueError(f"unknown GPU type {value!r}; known: {', '.join(gpu_ids())}")
        return value


# A100 and H100 MIG profiles are "<g>g.<mem>gb": g of the GPU's 7 compute slices.
MIG_COMPUTE_SLICES = 7


class MigInstance(StrictModel):
    """One MIG GPU instance (DCGM's GPU_I_ID and GPU_I_PROFILE) the deployment holds."""

    gpu_instance_id: Annotated[int, Field(ge=0)]
    profile: Annotated[str, Field(pattern=r"^[1-7]g\.[0-9]+gb(\+me)?$")]

    @property
    def compute_slices(self) -> int:
        return int(self.profile.split("g.", 1)[0])


class HostSelector(StrictModel):
    host: NonEmpty
    gpu_indexes: list[Annotated[int, Field(ge=0)]] = Field(min_length=1)
    # The host's billing resource id (e.g. its EC2 instance id). Billing knows instances, not
    # host names: this is what lets a billed instance-hour be split by GPU index when several
    # deployments share one host.
    cloud_resource_id: NonEmpty | None = None
    # MIG slices of each listed GPU this deployment holds; empty means the whole GPU. Its cost
    # share of the GPU is compute slices / 7 (what allocation bills it).
    mig_instances: list[MigInstance] = []


class KubernetesSelector(StrictModel):
    namespace: NonEmpty
    pod_labels: dict[str, str] = {}


class Match(StrictModel):
    """How the deployment's resources appear in each source."""

    cloud_resource_ids: list[NonEmpty] = []
    hosts: list[HostSelector] = []
    gpu_uuids: list[NonEmpty] = []
    kubernetes: list[KubernetesSelector] = []
    request_model_names: list[NonEmpty] = []

    @model_validator(mode="after")
    def _not_empty(self) -> Match:
        if not (self.cloud_resource_ids or self.hosts or self.gpu_uuids or self.kubernetes):
            raise ValueError(
                "declare at least one of cloud_resource_ids, hosts, gpu_uuids or kubernetes: "
                "without one no GPU cost can be allocated to this deployment"
            )
        return self


class Deployment(StrictModel):
    id: Slug
    team: NonEmpty
    llm: NonEmpty
    engine: Engine
    precision: Precisions
    tensor_parallel: Annotated[int, Field(ge=1)] = 1
    gpu: GpuAllocation
    match: Match
    valid_from: dt.date
    valid_to: dt.date | None = None  # exclusive; None = still serving
    api: ApiAccess = ApiAccess()

    @field_validator("llm")
    @classmethod
    def _known_llm(cls, value: str) -> str:
        if value not in llm_ids():
            raise ValueError(f"unknown LLM {value!r}; known: {', '.join(llm_ids())}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Deployment:
        if self.gpu.count % self.tensor_parallel:
            raise blame(
                "tensor_parallel",
                f"gpu.count {self.gpu.count} is not a multiple of tensor_parallel "
                f"{self.tensor_parallel}",
            )
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise blame("valid_to", f"{self.valid_to} is not after valid_from {self.valid_from}")
        return self

    @property
    def replicas(self) -> int:
        return self.gpu.count // self.tensor_parallel

    @property
    def api_substitutes(self) -> list[str]:
        """Hosted LLMs acceptable in its place: the declared list, else its own LLM."""
        return list(self.api.substitutes) or [self.llm]

    def active_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    def selectors(self) -> list[tuple[str, str]]:
        """(kind, value) pairs that identify this deployment's resources; see ``selector_rows``."""
        out = [("cloud_resource_id", v) for v in self.match.cloud_resource_ids]
        out += [("gpu_uuid", v) for v in self.match.gpu_uuids]
        out += [("host_gpu", _gpu_key(h.host, i, m)) for h, i, m in self.gpu_claims()]
        out += [("request_model_name", v) for v in self.match.request_model_names]
        return out

    def gpu_claims(self) -> list[tuple[HostSelector, int, MigInstance | None]]:
        """(host selector, GPU index, MIG instance or None for the whole GPU) it holds."""
        return [
            (h, i, m)
            for h in self.match.hosts
            for i in h.gpu_indexes
            for m in (h.mig_instances or [None])
        ]


def _gpu_key(host: str, index: int, mig: MigInstance | None) -> str:
    return f"{host}/{index}" if mig is None else f"{host}/{index}/mig{mig.gpu_instance_id}"


def _overlap(a: Deployment, b: Deployment) -> bool:
    far = dt.date.max
    return a.valid_from < (b.valid_to or far) and b.valid_from < (a.valid_to or far)


class Registry(StrictModel):
    version: Literal[1]
    deployments: list[Deployment] = Field(min_length=1)

    @model_validator(mode="after")
    def _no_double_claims(self) -> Registry:
        seen: dict[str, int] = {}
        for i, dep in enumerate(self.deployments):
            if dep.id in seen:
                raise blame(
                    f"deployments[{i}].id", f"{dep.id!r} is already used by [{seen[dep.id]}]"
                )
            seen[dep.id] = i
        claims: dict[tuple[str, str], list[Deployment]] = defaultdict(list)
        for i, dep in enumerate(self.deployments):
            for selector in dep.selectors():
                for other in claims[selector]:
                    if _overlap(dep, other):
                        raise blame(
                            f"deployments[{i}].match",
                            f"{selector[0]} {selector[1]!r} is also claimed by {other.id!r} "
                            "while both are valid; its cost would be counted twice",
                        )
                claims[selector].append(dep)
        return self._check_mig_slices()

    def _check_mig_slices(self) -> Registry:
        """A GPU is either whole or sliced at a time, and never sliced past its 7 slices."""
        held: dict[tuple[str, int], list[tuple[Deployment, MigInstance | None]]] = defaultdict(list)
        for dep in self.deployments:
            for h, i, m in dep.gpu_claims():
                held[(h.host, i)].append((dep, m))
        for i, dep in enumerate(self.deployments):
            for h, idx, _ in dep.gpu_claims():
                alive = [(d, m) for d, m in held[(h.host, idx)] if _overlap(dep, d)]
                where = f"deployments[{i}].match.hosts"
                if any(m is None for _, m in alive) and any(m is not None for _, m in alive):
                    raise blame(
                        where, f"GPU {h.host}/{idx} is claimed whole and as MIG slices at once"
                    )
                used = sum(m.compute_slices for _, m in alive if m is not None)
                if used > MIG_COMPUTE_SLICES:
                    raise blame(
                        where,
                        f"GPU {h.host}/{idx} has {used} MIG compute slices claimed while "
                        f"{dep.id!r} is valid; a GPU has {MIG_COMPUTE_SLICES}",
                    )
        return self


def load_registry(path: str | Path) -> Registry:
    """Read and validate a registry file; raises ``ConfigError`` naming file, line and key."""
    return load_yaml_model(path, Registry)


def deployment_frame(registry: Registry) -> pl.DataFrame:
    """One row per deployment, as loaded into ``raw.registry_deployments``."""
    rows = [
        {
            "deployment_id": d.id,
            "team": d.team,
            "llm_id": d.llm,
            "engine": d.engine.name,
            "engine_version": d.engine.version,
            "weight_precision": d.precision.weights,
            "kv_cache_precision": d.precision.kv_cache,
            "tensor_parallel": d.tensor_parallel,
            "gpu_type": d.gpu.type,
            "gpu_count": d.gpu.count,
            "replicas": d.replicas,
            "valid_from": d.valid_from,
            "valid_to": d.valid_to,
            "api_eligible": d.api.eligible,
            "api_substitute_llm_ids": d.api_substitutes,
        }
        for d in registry.deployments
    ]
    return pl.DataFrame(rows, schema=DEPLOYMENT_SCHEMA)


def selector_frame(registry: Registry) -> pl.DataFrame:
    """One row per (deployment, selector), as loaded into ``raw.registry_selectors``."""
    rows = []
    for d in registry.deployments:
        base = {
            "deployment_id": d.id,
            "host": None,
            "gpu_index": None,
            "resource_id": None,
            "pod_labels_json": None,
            "gpu_instance_id": None,
            "mig_compute_slices": None,
        }
        rows += [
            {**base, "selector_kind": "cloud_resource_id", "selector_value": v}
            for v in d.match.cloud_resource_ids
        ]
        rows += [
            {**base, "selector_kind": "gpu_uuid", "selector_value": v} for v in d.match.gpu_uuids
        ]
        rows += [
            {
                **base,
                "selector_kind": "host_gpu",
                "selector_value": _gpu_key(h.host, i, m),
                "host": h.host,
                "gpu_index": i,
                "resource_id": h.cloud_resource_id,
                "gpu_instance_id": m.gpu_instance_id if m else None,
                "mig_compute_slices": m.compute_slices if m else None,
            }
            for h, i, m in d.gpu_claims()
        ]
        rows += [
            {
                **base,
                "selector_kind": "kubernetes",
                "selector_value": k.namespace,
                "pod_labels_json": json.dumps(k.pod_labels, sort_keys=True),
            }
            for k in d.match.kubernetes
        ]
        rows += [
            {**base, "selector_kind": "request_model_name", "selector_value": v}
            for v in d.match.request_model_names
        ]
    return pl.DataFrame(rows, schema=SELECTOR_SCHEMA)


DEPLOYMENT_SCHEMA = {
    "deployment_id": pl.String,
    "team": pl.String,
    "llm_id": pl.String,
    "engine": pl.String,
    "engine_version": pl.String,
    "weight_precision": pl.String,
    "kv_cache_precision": pl.String,
    "tensor_parallel": pl.Int32,
    "gpu_type": pl.String,
    "gpu_count": pl.Int32,
    "replicas": pl.Int32,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "api_eligible": pl.Boolean,
    "api_substitute_llm_ids": pl.List(pl.String),
}
SELECTOR_SCHEMA = {
    "deployment_id": pl.String,
    "selector_kind": pl.String,
    "selector_value": pl.String,
    "host": pl.String,
    "gpu_index": pl.Int32,
    "resource_id": pl.String,
    "pod_labels_json": pl.String,
    "gpu_instance_id": pl.Int32,
    "mig_compute_slices": pl.Int32,
}
