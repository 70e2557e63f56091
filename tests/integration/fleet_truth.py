"""What a simulated fleet's recommendations must say, read independently of unitcost.

A plain helper module (no tests) shared by the fleet integration tests, so the same checks
run on the default fleet and on ``pipelines/fleet/specs/second_fleet.yaml``. Everything here
comes from the simulator's own files, read with duckdb / yaml / csv: never from the
warehouse, the dbt models, the recommendation engine or the cost model's predictions.

* **The price paid** is the bill unitcost ingests (``sources.billing`` of the simulated
  ``unitcost.yaml``): each instance's GPU usage lines per UTC day at effective (amortized)
  cost, as AWS defines it for CUR 2.0 (on-demand usage at its unblended cost, Savings Plan
  covered usage at ``savings_plan_savings_plan_effective_cost``, reserved usage at
  ``reservation_effective_cost``) or FOCUS (``EffectiveCost``). A deployment's share of an
  instance is the GPUs its registry host selectors hold over the instance's GPUs.
* **A GPU type the fleet does not run** is priced at the cheapest on-demand GPU-hour of the
  price list unitcost ships (``pipelines/costmodel/data/instance_prices.csv``).
* **A month** is 365/12 days.

Planted scenarios (``ground_truth.json``: ``planted``) map to the recommendation they must
produce (``expected``): its kind, the target it names and the monthly saving the bill
implies. ``healthy`` and ``moe`` scenarios expect none (``moe`` is a fact, not an
opportunity).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import yaml

from pipelines.costmodel.architecture import expert_touch_fraction, forward_flops, parameter_counts
from pipelines.costmodel.catalog import llm_architecture
from pipelines.costmodel.gpus import gpu_spec
from pipelines.costmodel.memory import kv_cache_bytes_per_token, weight_bytes
from pipelines.costmodel.precision import get_precision
from pipelines.fleet.spec import load_spec
from pipelines.fleet.traces import load_trace

DAYS_PER_MONTH = Decimal(365) / Decimal(12)
PRICE_LIST = Path(__file__).parents[2] / "pipelines" / "costmodel" / "data" / "instance_prices.csv"
# Planted kinds that are opportunities, and the fct_recommendations kind each must produce.
RECOMMENDATION_KIND = {
    "idle_oversized": "right_size",
    "precision_downsize": "quantize",
    "distill": "distill",
    "unused_instance": "right_size",
}
NO_RECOMMENDATION = ("healthy",)


@dataclass(frozen=True)
class Expected:
    """The recommendation one planted scenario must produce.

    ``target`` holds the key=value pairs its ``target`` text must contain (as text);
    ``monthly_savings_usd`` is what the bill says the change saves, USD per 365/12 days.
    """

    label: str
    kind: str
    deployment_id: str | None
    instance_id: str | None
    target: dict[str, str]
    monthly_savings_usd: Decimal

    def matches(self, rec: dict) -> bool:
        """True if ``rec`` (a fct_recommendations row as a dict) is about the same thing."""
        if self.instance_id is not None:
            return rec["instance_id"] == self.instance_id
        return rec["deployment_id"] == self.deployment_id and rec["kind"] == self.kind


@dataclass(frozen=True)
class FleetTruth:
    """A simulated fleet folder's truth: ground truth, registry and the bill, read as is."""

    folder: Path
    truth: dict
    registry: dict
    instance_day_usd: dict[tuple[str, dt.date], Decimal]  # effective GPU usage cost

    # -- the bill -----------------------------------------------------------------------
    def deployment_day_usd(self, deployment_id: str) -> dict[dt.date, Decimal]:
        """Effective cost of the deployment's GPUs on each day it was active, USD."""
        days = [dt.date.fromisoformat(d) for d in self.truth["deployments"][deployment_id]["days"]]
        gpus = {i: v["gpu_count"] for i, v in self.truth["instances"].items()}
        held = [
            (
                sel["cloud_resource_id"],
                Decimal(len(sel["gpu_indexes"])) / gpus[sel["cloud_resource_id"]],
            )
            for sel in self._deployment(deployment_id)["match"]["hosts"]
        ]
        return {
            day: sum(
                (self.instance_day_usd[(inst, day)] * share for inst, share in held), Decimal(0)
            )
            for day in days
        }

    def deployment_usd_per_day(self, deployment_id: str) -> Decimal:
        days = self.deployment_day_usd(deployment_id)
        return sum(days.values(), Decimal(0)) / len(days)

    def usd_per_gpu_day(self, deployment_id: str) -> Decimal:
        gpus = self.truth["deployments"][deployment_id]["gpu"]["count"]
        return self.deployment_usd_per_day(deployment_id) / gpus

    def instance_usd_per_day(self, instance_id: str) -> Decimal:
        days = [v for (i, _), v in self.instance_day_usd.items() if i == instance_id]
        return sum(days, Decimal(0)) / len(days)

    def busy_usage_usd(self, deployment_id: str, day: dt.date) -> Decimal:
        """The day's busy GPU-seconds (simulator truth) × the effective $/GPU-second paid."""
        dep = self.truth["deployments"][deployment_id]
        busy = Decimal(str(dep["days"][day.isoformat()]["busy_gpu_seconds"]))
        per_gpu_second = self.deployment_day_usd(deployment_id)[day] / (
            dep["gpu"]["count"] * 86_400
        )
        return busy * per_gpu_second

    def _deployment(self, deployment_id: str) -> dict:
        (dep,) = [d for d in self.registry["deployments"] if d["id"] == deployment_id]
        return dep

    # -- planted scenarios --------------------------------------------------------------
    def opportunities(self) -> list[str]:
        """Labels of the planted scenarios that must produce a recommendation."""
        return sorted(
            k for k, v in self.truth["planted"].items() if v["kind"] in RECOMMENDATION_KIND
        )

    def healthy(self) -> list[str]:
        """Deployments planted as healthy: they must get no recommendation."""
        planted = self.truth["planted"].values()
        return sorted(v["deployment"] for v in planted if v["kind"] in NO_RECOMMENDATION)

    def expected(self, label: str) -> Expected:
        facts = self.truth["planted"][label]
        kind = facts["kind"]
        month = DAYS_PER_MONTH
        if kind == "unused_instance":
            inst = facts["instance"]
            saving = self.instance_usd_per_day(inst) * month
            target = {"action": "terminate", "instance_id": inst}
            return Expected(label, "right_size", None, inst, target, saving)
        dep = facts["deployment"]
        if kind == "idle_oversized":
            fits, current = facts["fits"], facts["current"]["gpu"]
            if fits["type"] == current["type"]:
                proposed = self.usd_per_gpu_day(dep) * fits["count"]
            else:
                proposed = cheapest_usd_per_gpu_hour(fits["type"]) * 24 * fits["count"]
            saving = (self.deployment_usd_per_day(dep) - proposed) * month
            target = {"gpu_id": fits["type"], "num_gpus": str(fits["count"])}
        elif kind == "precision_downsize":
            current, new = facts["current"], facts["proposed"]
            freed = current["gpu"]["count"] - new["gpu"]["count"]
            saving = self.usd_per_gpu_day(dep) * freed * month
            target = {
                "weight_precision": new["precision"]["weights"],
                "kv_cache_precision": new["precision"]["kv_cache"],
                "gpu_id": new["gpu"]["type"],
                "num_gpus": str(new["gpu"]["count"]),
                "tensor_parallel": str(new["tensor_parallel"]),
            }
        elif kind == "distill":
            student = facts["student_gpu"]
            assert student["type"] == facts["teacher"]["gpu"]["type"], facts  # same price
            freed = facts["teacher"]["gpu"]["count"] - student["count"]
            saving = self.usd_per_gpu_day(dep) * freed * month
            target = {
                "llm_id": facts["student_llm"],
                "gpu_id": student["type"],
                "num_gpus": str(student["count"]),
            }
        else:
            raise ValueError(f"planted {label!r} ({kind}) expects no recommendation")
        return Expected(label, RECOMMENDATION_KIND[kind], dep, None, target, saving)


def load_fleet_truth(folder: str | Path) -> FleetTruth:
    """Read ``folder`` as ``unitcost simulate`` wrote it."""
    folder = Path(folder)
    truth = json.loads((folder / "ground_truth.json").read_text())
    registry = yaml.safe_load((folder / "registry.yaml").read_text())
    return FleetTruth(folder, truth, registry, read_bill(folder))


def read_bill(folder: Path) -> dict[tuple[str, dt.date], Decimal]:
    """Effective cost of each instance's GPU usage lines per UTC day, from the bill files the
    simulated ``unitcost.yaml`` points unitcost at (CUR 2.0 Parquet or FOCUS CSV)."""
    config = yaml.safe_load((folder / "unitcost.yaml").read_text())
    source = config["sources"]["billing"]
    root = (folder / source["location"]).as_posix()
    if source.get("format", "cur2") == "cur2":
        sql = f"""
            select
                line_item_resource_id as instance_id,
                cast(line_item_usage_start_date as date) as usage_date,
                sum(cast(case line_item_line_item_type
                    when 'Usage' then line_item_unblended_cost
                    when 'SavingsPlanCoveredUsage' then savings_plan_savings_plan_effective_cost
                    when 'DiscountedUsage' then reservation_effective_cost
                    else 0 end as decimal(38, 12))) as effective_usd
            from read_parquet('{root}/**/*.parquet', union_by_name = true)
            where product_instance_type is not null
                and line_item_line_item_type
                    in ('Usage', 'SavingsPlanCoveredUsage', 'DiscountedUsage')
            group by all
        """
    else:
        sql = f"""
            select
                ResourceId as instance_id,
                cast(left(ChargePeriodStart, 10) as date) as usage_date,
                sum(cast(EffectiveCost as decimal(38, 12))) as effective_usd
            from read_csv('{root}/**/*.csv*', union_by_name = true, all_varchar = true)
            where SkuPriceDetails is not null and ChargeCategory = 'Usage'
            group by all
        """
    with duckdb.connect() as con:
        rows = con.execute(sql).fetchall()
    return {(inst, day): Decimal(usd) for inst, day, usd in rows}


@cache
def cheapest_usd_per_gpu_hour(gpu_id: str, provider: str = "aws") -> Decimal:
    """The cheapest on-demand USD per GPU-hour of ``gpu_id`` in the shipped price list."""
    with PRICE_LIST.open(newline="") as fh:
        offers = [
            Decimal(r["usd_per_hour"]) / int(r["gpus_per_instance"])
            for r in csv.DictReader(fh)
            if r["gpu_id"] == gpu_id and r["provider"] == provider
        ]
    if not offers:
        raise ValueError(f"no {provider} offer for {gpu_id} in {PRICE_LIST.name}")
    return min(offers)


def parse_target(text: str) -> dict[str, str]:
    """``fct_recommendations.target`` (``k=v, k=v``) as a dict of strings."""
    return dict(part.split("=", 1) for part in text.split(", ")) if text else {}


# -- the spec's physics ---------------------------------------------------------------------


@dataclass(frozen=True)
class ImpliedEfficiency:
    """What a deployment's service parameters imply against its GPU's catalog peaks.

    ``mbu``: the highest, over batch sizes 0..max_batch, of the bytes one decode step must
    read (weights per GPU, MoE experts touched at that batch, and every sequence's KV at the
    trace's mean context) / (the spec's TPOT at that batch × HBM bandwidth). ``mfu``: the
    trace's prefill FLOPs (2·N_active per token + causal attention, at its uncached prompt
    lengths) / (the time the spec's prefill rate takes × the dense peak at the precision).
    Above 1 the simulated hardware would be faster than the real one can be.
    """

    deployment_id: str
    gpu_id: str
    mbu: float
    mfu: float


def implied_efficiencies(spec_path: str | Path) -> list[ImpliedEfficiency]:
    spec = load_spec(spec_path)
    gpu_of = {i.host: i.gpu.type for i in spec.instances}
    out = []
    for dep in spec.deployments:
        gpu = gpu_spec(gpu_of[dep.placement[0].host])
        arch, tp, svc = llm_architecture(dep.llm), dep.tensor_parallel, dep.service
        precision = get_precision(dep.precision.weights)
        trace = load_trace(dep.traffic.trace)
        isl, osl = trace.input_tokens.astype(float), trace.output_tokens.astype(float)
        uncached = np.maximum(isl - trace.cached_tokens, 1.0)
        context = float(np.mean(isl + osl / 2))
        weights = weight_bytes(arch, precision)
        experts = parameter_counts(arch).expert_params * precision.bytes_per_weight
        kv = kv_cache_bytes_per_token(arch, dep.precision.kv_cache, tp)
        mbu = 0.0
        for batch in np.linspace(0.0, svc.max_batch, 257):
            untouched = experts * (1.0 - expert_touch_fraction(arch, batch))
            read = (weights - untouched) / tp + batch * context * kv
            step_s = (svc.tpot_base_ms + svc.tpot_per_seq_ms * batch) / 1e3
            mbu = max(mbu, read / gpu.memory_bandwidth_bytes_per_s / step_s)
        flops_per_token = float(forward_flops(arch, uncached, uncached / 2).sum() / uncached.sum())
        peak = tp * gpu.peak_flops_per_s(precision.compute_dtype)
        mfu = flops_per_token * svc.prefill_tokens_per_s / peak
        out.append(ImpliedEfficiency(dep.id, gpu.gpu_id, float(mbu), float(mfu)))
    return out


def median_abs_error(ratios: list[float]) -> float:
    """Median of |ratio − 1| (NaN for no ratios)."""
    return float(np.median([abs(r - 1.0) for r in ratios])) if ratios else math.nan
