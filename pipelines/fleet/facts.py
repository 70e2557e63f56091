"""The facts that make each planted scenario's answer checkable, for ``ground_truth.json``.

Weights sizes are plain arithmetic on the LLM catalog (parameter count × bytes per weight,
the formula of shared/COSTMODEL.md §1), not a cost-model prediction. Money is Decimal.
A month is 365/12 days (``costmodel.units.per_month``), the same month every saving uses.
"""

from __future__ import annotations

from decimal import Decimal

from pipelines.costmodel.architecture import parameter_counts
from pipelines.costmodel.catalog import gpu_catalog_rows, llm_catalog
from pipelines.costmodel.memory import weight_bytes
from pipelines.costmodel.precision import get_precision
from pipelines.costmodel.units import per_month
from pipelines.fleet import planted as pl
from pipelines.fleet.plan import FleetPlan, PlannedDeployment
from pipelines.fleet.truth import MICRO_USD, TruthBook

CENT = Decimal("0.01")


def param_count(llm: str, *, active: bool = False) -> int:
    counts = parameter_counts(llm_catalog()[llm])
    return counts.active_params if active else counts.total_params


def weights_gib(llm: str, precision: str) -> float:
    """Weight memory as the cost model computes it (arithmetic, not service behaviour)."""
    return round(weight_bytes(llm_catalog()[llm], get_precision(precision)) / 2**30, 3)


def gpu_memory_gib(gpu: str) -> float:
    return float(gpu_catalog_rows()[gpu]["memory_gib"])


def gpu_cost_per_day(plan: FleetPlan, dep: PlannedDeployment) -> Decimal:
    """The deployment's share of its instances' price: GPUs used / GPUs on the instance."""
    by_host = {i.host: i for i in plan.instances}
    total = Decimal(0)
    for host, idx in dep.host_gpus:
        inst = by_host[host]
        total += inst.hourly_price_usd * len(idx) / inst.gpu_count * 24
    return total.quantize(MICRO_USD)


def _config(dep: PlannedDeployment) -> dict:
    spec = dep.spec
    return {
        "llm": spec.llm,
        "precision": {"weights": spec.precision.weights, "kv_cache": spec.precision.kv_cache},
        "tensor_parallel": spec.tensor_parallel,
        "gpu": {"type": dep.gpu_type, "count": dep.gpu_count},
        "weights_gib": weights_gib(spec.llm, spec.precision.weights),
    }


def idle_oversized(s: pl.IdleOversized, dep, plan, book: TruthBook) -> dict:
    return {
        "current": _config(dep),
        "mean_busy_fraction": book.mean_busy_fraction(dep),
        "max_busy_fraction": s.max_busy_fraction,
        "fits": {
            "type": s.fits.type,
            "count": s.fits.count,
            "memory_gib_per_gpu": gpu_memory_gib(s.fits.type),
        },
        "expected_recommendations": ["right_size"],
    }


def precision_downsize(s: pl.PrecisionDownsize, dep, plan, book: TruthBook) -> dict:
    p = s.proposed
    proposed_gib = weights_gib(dep.spec.llm, p.precision.weights)
    return {
        "current": _config(dep),
        "proposed": {
            "precision": {"weights": p.precision.weights, "kv_cache": p.precision.kv_cache},
            "tensor_parallel": p.tensor_parallel,
            "gpu": {"type": dep.gpu_type, "count": p.gpu_count},
            "weights_gib": proposed_gib,
            "weights_gib_per_gpu": round(proposed_gib / p.tensor_parallel, 3),
        },
        "memory_gib_per_gpu": gpu_memory_gib(dep.gpu_type),
        "mean_busy_fraction": book.mean_busy_fraction(dep),
        "expected_recommendations": ["lower_precision"],
    }


def distill(s: pl.Distill, dep, plan, book: TruthBook) -> dict:
    teacher = gpu_cost_per_day(plan, dep)
    student = (teacher / dep.gpu_count * s.student_gpu_count).quantize(MICRO_USD)
    saving_month = per_month(teacher - student).quantize(CENT)
    one_off = Decimal(s.distillation_cost_usd)
    payback = float(one_off / saving_month) if saving_month > 0 else None
    tokens = book.per_day(dep, "input_tokens")
    out_tokens = book.per_day(dep, "output_tokens")
    return {
        "teacher": _config(dep),
        "tokens_per_day": None if tokens is None else round(tokens + out_tokens),
        "output_tokens_per_day": None if out_tokens is None else round(out_tokens),
        "requests_per_day": None if tokens is None else round(book.per_day(dep, "requests")),
        "mean_busy_fraction": book.mean_busy_fraction(dep),
        "teacher_gpu_cost_usd_per_day": str(teacher),
        "student_llm": s.student_llm,
        "student_weights_gib": weights_gib(s.student_llm, dep.spec.precision.weights),
        "student_gpu": {"type": dep.gpu_type, "count": s.student_gpu_count},
        "student_gpu_cost_usd_per_day": str(student),
        "saving_usd_per_month": str(saving_month),
        "distillation_cost_usd": s.distillation_cost_usd,
        "payback_months": None if payback is None else round(payback, 3),
        "max_payback_months": s.max_payback_months,
        "expected_recommendations": ["distill"],
    }


def unused_instance(s: pl.UnusedInstance, plan: FleetPlan, book: TruthBook) -> dict:
    inst = book.instance_json()[s.instance]
    return {
        "instance": s.instance,
        "type": inst["type"],
        "host": inst["host"],
        "gpu": {"type": inst["gpu_type"], "count": inst["gpu_count"]},
        "billed_hours": inst["billed_hours"],
        "billed_gpu_hours": inst["gpu_hours"],
        "cost_usd": inst["cost_usd"],
        "deployments": inst["deployments"],
        "expected_recommendations": ["terminate_instance"],
    }


def moe(s: pl.Moe, dep, plan, book: TruthBook) -> dict:
    arch = llm_catalog()[dep.spec.llm]
    out_tokens = book.per_day(dep, "output_tokens")
    return {
        "current": _config(dep),
        "num_experts": arch.num_experts,
        "experts_per_token": arch.experts_per_token,
        "params_billion": round(param_count(arch.llm_id) / 1e9, 3),
        "active_params_billion": round(param_count(arch.llm_id, active=True) / 1e9, 3),
        "output_tokens_per_day": None if out_tokens is None else round(out_tokens),
        "mean_busy_fraction": book.mean_busy_fraction(dep),
    }


def healthy(s: pl.Healthy, dep, plan, book: TruthBook) -> dict:
    days = book.days.get(dep.id, {})
    batch = sum(d.mean_batch for d in days.values()) / len(days) if days else None
    return {
        "current": _config(dep),
        "mean_busy_fraction": book.mean_busy_fraction(dep),
        "min_busy_fraction": s.min_busy_fraction,
        "mean_decode_batch": None if batch is None else round(batch, 4),
        "max_batch": dep.spec.service.max_batch,
        "expected_recommendations": [],
    }


_BY_KIND = {
    "idle_oversized": idle_oversized,
    "precision_downsize": precision_downsize,
    "distill": distill,
    "moe": moe,
    "healthy": healthy,
}


def planted_facts(plan: FleetPlan, book: TruthBook, planted: dict) -> dict:
    """Facts per planted label, about copy 0 (the spec's own ids)."""
    deps = {d.id: d for d in plan.deployments}
    out = {}
    for label, scenario in sorted(planted.items()):
        if isinstance(scenario, pl.UnusedInstance):
            facts = unused_instance(scenario, plan, book)
        else:
            facts = {
                "deployment": scenario.deployment,
                **_BY_KIND[scenario.kind](scenario, deps[scenario.deployment], plan, book),
            }
        out[label] = {"kind": scenario.kind, **facts}
    return out
