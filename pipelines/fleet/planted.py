"""Planted scenarios: situations the default fleet contains on purpose, with known answers.

Each names the deployment (or instance) it is about and the spec-side facts of the answer;
the simulator adds the measured facts (busy fraction, tokens/day) to ``ground_truth.json``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pipelines.costmodel.catalog import llm_catalog
from pipelines.fleet.specbase import Fraction, context_of, usd
from pipelines.registry import GpuAllocation, NonEmpty, Precisions
from pipelines.yamlconf import StrictModel


class _AboutDeployment(StrictModel):
    deployment: NonEmpty

    @field_validator("deployment")
    @classmethod
    def _exists(cls, value: str, info: ValidationInfo) -> str:
        ctx = context_of(info)
        if ctx is not None and value not in ctx.get("deployment_ids", set()):
            raise ValueError(f"no deployment has id {value!r}")
        return value


class IdleOversized(_AboutDeployment):
    """(a) Nearly idle on a GPU far larger than it needs; ``fits`` is the right size."""

    kind: Literal["idle_oversized"]
    fits: GpuAllocation
    max_busy_fraction: Fraction = 0.05


class ProposedConfig(StrictModel):
    precision: Precisions
    tensor_parallel: Annotated[int, Field(ge=1)]
    gpu_count: Annotated[int, Field(ge=1)]


class PrecisionDownsize(_AboutDeployment):
    """(b) Would fit on fewer GPUs of the same type at a lower precision."""

    kind: Literal["precision_downsize"]
    proposed: ProposedConfig


class Distill(_AboutDeployment):
    """(c) A distilled student on ``student_gpu_count`` GPUs of the teacher's type pays back."""

    kind: Literal["distill"]
    student_llm: NonEmpty
    student_gpu_count: Annotated[int, Field(ge=1)]
    distillation_cost_usd: str
    max_payback_months: Annotated[float, Field(gt=0)] = 6.0

    @field_validator("distillation_cost_usd", mode="before")
    @classmethod
    def _money(cls, value: object) -> str:
        return usd(value)

    @field_validator("student_llm")
    @classmethod
    def _known_llm(cls, value: str) -> str:
        if value not in llm_catalog():
            raise ValueError(f"unknown LLM {value!r}")
        return value


class UnusedInstance(StrictModel):
    """(d) Billed, but no deployment runs on any of its GPUs."""

    kind: Literal["unused_instance"]
    instance: NonEmpty

    @field_validator("instance")
    @classmethod
    def _unused(cls, value: str, info: ValidationInfo) -> str:
        ctx = context_of(info)
        if ctx is None:
            return value
        if value not in ctx.get("instance_ids", set()):
            raise ValueError(f"no instance has id {value!r}")
        hosts = [h for h, inst in ctx.get("hosts", {}).items() if inst.id == value]
        users = {d.id for (h, _), deps in ctx.get("claims", {}).items() if h in hosts for d in deps}
        if users:
            raise ValueError(f"instance {value!r} is used by {sorted(users)}")
        return value


class Moe(_AboutDeployment):
    """(e) A mixture-of-experts LLM: active parameters differ from total parameters."""

    kind: Literal["moe"]

    @model_validator(mode="after")
    def _is_moe(self, info: ValidationInfo) -> Moe:
        dep = ((context_of(info) or {}).get("deployments") or {}).get(self.deployment)
        if dep is not None and not llm_catalog()[dep.llm].is_moe:
            raise ValueError(f"deployment {self.deployment!r} serves {dep.llm}, not an MoE LLM")
        return self


class Healthy(_AboutDeployment):
    """(f) Well utilised and right-sized: must get no recommendation."""

    kind: Literal["healthy"]
    min_busy_fraction: Fraction = 0.5


PlantedScenario = Annotated[
    IdleOversized | PrecisionDownsize | Distill | UnusedInstance | Moe | Healthy,
    Field(discriminator="kind"),
]
