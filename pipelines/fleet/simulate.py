"""Simulate a GPU fleet serving LLMs: the embedded default data of unitcost.

``simulate(...)`` writes into ``out_dir``::

    registry.yaml          the deployment registry (loads with pipelines.registry.load_registry)
    unitcost.yaml          run config: duckdb_path, registry, sources.requests
    ground_truth.json      what is really true: run parameters, per-deployment per-day totals,
                           per-instance billed hours and cost, planted scenarios with facts
    truth/timeline/date=YYYY-MM-DD/part-0.parquet
                           one row per instance per hour (tables.TIMELINE_SCHEMA)
    truth/requests/date=YYYY-MM-DD/part-0.parquet
                           one row per request, by arrival day (tables.REQUEST_SCHEMA);
                           no prompt text exists anywhere in the simulator
    billing/ telemetry/ logs/
                           the same fleet in real source formats, one folder per format
                           writer (pipelines/fleet/formats); unitcost.yaml points at them

``truth/`` is what really happened, for tests and ground truth; unitcost never ingests it.
All timestamps are UTC and every day has 24 hours. Existing output folders in ``out_dir``
are replaced, so a shorter run leaves no stale days behind.

Determinism: each (deployment, day) draws from its own ``PCG64`` stream seeded by
(seed, deployment id, date), so the same spec, seed, start, days and scale give byte-identical
files, and one day's output never depends on another's. Memory: requests are generated and
written one (deployment, day) at a time, so peak memory is one deployment-day, not the fleet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from pipelines.fleet.arrivals import day_requests
from pipelines.fleet.facts import planted_facts
from pipelines.fleet.formats import SimulationContext, format_writers
from pipelines.fleet.formats.billing import BILLING_FORMATS
from pipelines.fleet.outputs import (
    HEADER,
    registry_document,
    run_config_document,
    write_json,
    write_yaml,
)
from pipelines.fleet.plan import FleetPlan, PlannedDeployment, build_plan
from pipelines.fleet.prefix_cache import limit_prefix_cache
from pipelines.fleet.service import serve
from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec
from pipelines.fleet.tables import (
    request_table,
    request_writer,
    tenant_column,
    timeline_table,
    write_table,
)
from pipelines.fleet.traces import load_trace
from pipelines.fleet.truth import TruthBook, hourly_busy

DEFAULT_START = dt.date(2026, 11, 1)
# Folders the format writers own; cleared before a run so a shorter run leaves nothing stale.
SOURCE_FOLDERS = ("billing", "telemetry", "logs")


@dataclass(frozen=True)
class Summary:
    gpus: int
    instances: int
    deployments: int
    requests: int
    tokens: int
    files: int


def _rng(seed: int, dep_id: str, day: dt.date) -> np.random.Generator:
    dep_key = int.from_bytes(hashlib.sha256(dep_id.encode()).digest()[:8], "little")
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, dep_key, day.toordinal()]))
    )


class _DayUsage:
    """Which deployment holds each GPU today, and how busy each GPU is per hour."""

    def __init__(self) -> None:
        self.owners: dict[str, list[str | None]] = {}
        self.busy: dict[str, np.ndarray] = {}

    def add(self, plan: FleetPlan, dep: PlannedDeployment, hourly: np.ndarray) -> None:
        """``hourly`` is (replicas, 24): every GPU of a replica is as busy as the replica."""
        counts = {i.host: i.gpu_count for i in plan.instances}
        for r, replica in enumerate(dep.replicas):
            owner = self.owners.setdefault(replica.host, [None] * counts[replica.host])
            busy = self.busy.setdefault(replica.host, np.zeros((counts[replica.host], 24)))
            for gpu in replica.gpu_indexes:
                owner[gpu] = dep.id
                busy[gpu] = hourly[r]


def _simulate_day(plan: FleetPlan, day: dt.date, out: Path, book: TruthBook) -> None:
    usage = _DayUsage()
    writer = request_writer(out / "truth" / "requests" / f"date={day}" / "part-0.parquet")
    try:
        for dep in plan.deployments:
            if not dep.active_on(day):
                continue
            rng = _rng(plan.seed, dep.id, day)
            traffic = dep.spec.traffic
            reqs = day_requests(load_trace(traffic.trace), dep.requests_per_day, traffic, rng)
            reqs = limit_prefix_cache(reqs, dep.spec.service.prefix_cache_tokens, len(dep.replicas))
            served = serve(reqs, dep.spec.service, len(dep.replicas), rng)
            if len(reqs):
                # its own stream, so naming tenants changes no other draw of the fleet
                tenants = tenant_column(
                    traffic.tenants, len(reqs), _rng(plan.seed, f"{dep.id}:tenants", day)
                )
                writer.write_table(request_table(dep, day, reqs, served, tenants))
            usage.add(plan, dep, hourly_busy(served))
            book.record(dep, day, reqs, served)
    finally:
        writer.close()
    table = timeline_table(day, plan.instances, usage.owners, usage.busy)
    write_table(out / "truth" / "timeline" / f"date={day}" / "part-0.parquet", table)


def simulate(
    out_dir: str | Path,
    *,
    spec_path: str | Path = DEFAULT_SPEC_PATH,
    start: dt.date = DEFAULT_START,
    days: int = 7,
    scale: float = 1.0,
    seed: int = 42,
    duckdb_path: str | Path | None = None,
    billing_month: bool = False,
    dcgm_interval_s: int = 30,
    progress: bool = False,
    billing_format: str = "cur2",
) -> Summary:
    """Simulate the fleet in ``spec_path`` and write every output into ``out_dir``.

    ``billing_month`` bills every day of the simulated days' months (telemetry and logs stay
    the simulated days): a month-end export beside one day of data, as ``make bench`` runs.
    ``dcgm_interval_s`` is DCGM's sampling interval (30 s, dcgm-exporter's default).
    ``billing_format`` is the export unitcost.yaml's billing source reads
    (``formats.billing.BILLING_FORMATS``: cur2, focus-1.2, focus-1.3).
    ``progress`` shows a bar on stderr: each day's requests, then each source's files.
    """
    if 3600 % dcgm_interval_s:
        raise ValueError(f"dcgm_interval_s must divide an hour: {dcgm_interval_s}")
    if billing_format not in BILLING_FORMATS:
        raise ValueError(f"billing format {billing_format!r}: one of {', '.join(BILLING_FORMATS)}")
    spec = load_spec(spec_path)
    plan = build_plan(spec, start, days, scale, seed, billing_whole_months=billing_month)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for folder in ("truth", *SOURCE_FOLDERS):
        shutil.rmtree(out / folder, ignore_errors=True)
    book = TruthBook(plan)
    writers = format_writers()
    with tqdm(
        total=len(plan.dates) + len(writers), desc="simulate", disable=not progress, leave=False
    ) as bar:
        for day in plan.dates:
            bar.set_postfix_str(f"requests {day}")
            _simulate_day(plan, day, out, book)
            bar.update()
        context = SimulationContext(
            out=out, plan=plan, dcgm_interval_s=dcgm_interval_s, billing_format=billing_format
        )
        outputs = []
        for write in writers:
            bar.set_postfix_str(write.__module__.rsplit(".", 1)[-1])  # request_logs, ...
            outputs.append(write(context))
            bar.update()
    sources = {name: entry for o in outputs for name, entry in o.sources.items()}
    header = HEADER.format(spec=Path(spec_path).name, seed=seed)
    write_yaml(out / "registry.yaml", registry_document(plan), header)
    duckdb = Path(duckdb_path) if duckdb_path is not None else out / "unitcost.duckdb"
    config = run_config_document(out, duckdb, sources, spec.onprem)
    write_yaml(out / "unitcost.yaml", config, header)
    truth = _ground_truth(plan, book, spec, spec_path)
    for o in outputs:
        truth.update(o.truth)
    write_json(out / "ground_truth.json", truth)
    totals = [d for per_dep in book.days.values() for d in per_dep.values()]
    return Summary(
        gpus=plan.gpu_count,
        instances=len(plan.instances),
        deployments=len(plan.deployments),
        requests=sum(d.requests for d in totals),
        tokens=sum(d.input_tokens + d.output_tokens for d in totals),
        files=3 + 2 * days,
    )


def _ground_truth(plan: FleetPlan, book: TruthBook, spec, spec_path) -> dict:
    spec_bytes = Path(spec_path).read_bytes()
    instances = book.instance_json()
    return {
        "run": {
            "spec_file": Path(spec_path).name,
            "spec_sha256": hashlib.sha256(spec_bytes).hexdigest(),
            "seed": plan.seed,
            "start": plan.start.isoformat(),
            "days": plan.days,
            "billing_days": len(plan.billing_dates),
            "scale": plan.scale,
            "copies": plan.copies,
            "gpus": plan.gpu_count,
            "account": spec.account.model_dump(),
        },
        "deployments": {d.id: book.deployment_json(d) for d in plan.deployments},
        "instances": instances,
        "planted": planted_facts(plan, book, spec.planted),
        "totals": {
            "cost_usd": str(
                sum(plan_i.hourly_price_usd for plan_i in plan.instances)
                * 24
                * len(plan.billing_dates)
            ),
            "gpu_hours": sum(v["gpu_hours"] for v in instances.values()),
            **{
                k: sum(getattr(d, k) for per in book.days.values() for d in per.values())
                for k in ("requests", "errors", "input_tokens", "output_tokens", "cached_tokens")
            },
        },
    }
