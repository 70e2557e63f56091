"""Simulated DCGM exporter telemetry: the fleet's GPUs as dcgm-exporter would report them.

Writes under ``telemetry/`` (the ``telemetry`` source, format ``dcgm``)::

    dcgm/date=D/<host>.parquet        every GPU every ``interval_s`` (30 s), both field sets
                                      (default counters and PROF_* profiling); wide (a column
                                      per field, as ``dcgmi dmon``) by default: the long
                                      layout (timestamp, metric, value, labels) is 19× the
                                      rows and ~3 s/day more ingest (``layout="long"``)
    scrapes/<host>/<host>_<UTC>.prom  5 minutes of one host as a scraper's files (text
                                      exposition, no sample timestamps: time in the name)
    exports/date=D/<host>.prom        the next 5 as a Prometheus export with timestamps
    vllm/…                            vLLM engine metrics, long layout (``vllm_metrics.py``)

The two text slices repeat samples already in the Parquet export (an HA pair's overlap), so
ingest must deduplicate them. Planted faults, listed in ground truth: an energy-counter reset
(driver reload) and a 10-minute exporter gap. The L4 hosts run an older exporter that spells
the Kubernetes labels ``pod_name``/``container_name``. Per GPU-hour truth (busy and energy as
the samples show them) goes to ``truth/telemetry_hourly/date=D/part-0.parquet``.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.fleet.formats import SimulationContext, WriterOutput
from pipelines.fleet.formats import dcgm_signals as sig
from pipelines.fleet.formats.dcgm_tables import long_table, wide_table
from pipelines.fleet.formats.dcgm_text import write_slices
from pipelines.fleet.formats.vllm_metrics import pod_name, write_engine_metrics
from pipelines.fleet.tables import PARQUET_OPTIONS, UTC_US, day_start_us, write_table

INTERVAL_S = 30
GAP_MINUTES = (6 * 60, 6 * 60 + 10)  # exporter down 06:00-06:10 UTC on the first day
RESET_HOUR = 12  # driver reload at 12:00 UTC on the second day
TRUTH_SCHEMA = pa.schema(
    [
        ("hour_start", UTC_US),
        ("host", pa.string()),
        ("gpu_index", pa.int32()),
        ("gpu_uuid", pa.string()),
        ("busy_fraction", pa.float64()),  # the timeline's truth for the hour
        ("samples", pa.int32()),
        ("busy_seconds_observed", pa.float64()),  # Σ GR_ENGINE_ACTIVE × interval, present
        ("energy_kwh_observed", pa.float64()),  # Σ counter deltas a reader may count
        ("energy_samples", pa.int32()),  # samples with such a delta (present, and so was the last)
    ]
)


def _digest(*parts) -> int:
    return int(hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:12], 16)


def _pods(ctx: SimulationContext, host: str, owners: list) -> list[tuple]:
    """(namespace, pod, container) per GPU index, from the deployment holding it today."""
    deployments = {d.id: d for d in ctx.plan.deployments}
    out = []
    for gpu, owner in enumerate(owners):
        dep = deployments.get(owner) if owner else None
        if dep is None or dep.spec.kubernetes is None:
            out.append((None, None, None))
            continue
        r = next(
            i for i, rep in enumerate(dep.replicas) if rep.host == host and gpu in rep.gpu_indexes
        )
        out.append((dep.spec.kubernetes.namespace, pod_name(dep, r), "vllm"))
    return out


class _Planted:
    def __init__(self, ctx: SimulationContext):
        hosts = [i.host for i in ctx.plan.instances]
        self.reset = (hosts[1 % len(hosts)], ctx.plan.dates[min(1, ctx.plan.days - 1)])
        self.gap = (hosts[4 % len(hosts)], ctx.plan.dates[0])
        self.slice = (hosts[1 % len(hosts)], ctx.plan.dates[0])

    def truth(self) -> dict:
        return {
            "counter_reset": {
                "host": self.reset[0],
                "at": f"{self.reset[1]}T{RESET_HOUR:02d}:00:00Z",
            },
            "gap": {
                "host": self.gap[0],
                "start": f"{self.gap[1]}T06:00:00Z",
                "end": f"{self.gap[1]}T06:10:00Z",
            },
            "overlap": {
                "host": self.slice[0],
                "start": f"{self.slice[1]}T10:00:00Z",
                "minutes": 10,
            },
        }


def host_day(ctx, inst, day, busy, owners, energy, planted, interval_s, layout):
    """One host-day: (long table, truth rows, present mask, field arrays, counters)."""
    per_hour = 3600 // interval_s
    n = 24 * per_hour
    offset = _digest(inst.host) % interval_s
    ts = day_start_us(day) + (offset + np.arange(n) * interval_s) * 1_000_000
    model = sig.gpu_model(inst.gpu_type)
    loaded = np.array([o is not None for o in owners])
    gr = sig.activity(busy, per_hour)
    fields = sig.fields(gr, loaded, model, interval_s, inst.power_w)
    inc = fields.pop("_ENERGY_INCREMENT")
    first = energy.get(inst.host)
    start = first if first is not None else np.array([_digest(u) % 10**10 for u in inst.gpu_uuids])
    counter = start[:, None] + np.cumsum(inc, axis=1)
    if (inst.host, day) == planted.reset:
        r = RESET_HOUR * per_hour
        counter[:, r:] = np.cumsum(inc[:, r:], axis=1)
    energy[inst.host] = counter[:, -1]
    fields["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"] = counter.astype(np.float64)
    present = np.ones(n, dtype=bool)
    if (inst.host, day) == planted.gap:
        minute = (offset + np.arange(n) * interval_s) // 60
        present &= ~((minute >= GAP_MINUTES[0]) & (minute < GAP_MINUTES[1]))
    counted = present & np.concatenate([[first is not None], present[:-1]])
    truth = _truth_rows(inst, day, busy, gr, inc, present, counted, per_hour, interval_s)
    build = wide_table if layout == "wide" else long_table
    table = build(inst, ts, fields, present, _pods(ctx, inst.host, owners), model)
    return table, truth, (ts, fields, present)


def _truth_rows(inst, day, busy, gr, inc, present, counted, per_hour, interval_s) -> dict:
    g = len(inst.gpu_uuids)
    hourly = lambda a: a.reshape(g, 24, per_hour).sum(axis=2)  # noqa: E731
    return {
        "hour_start": np.tile(day_start_us(day) + np.arange(24) * 3_600_000_000, g),
        "host": [inst.host] * 24 * g,
        "gpu_index": np.repeat(np.arange(g), 24),
        "gpu_uuid": np.repeat(np.array(inst.gpu_uuids), 24),
        "busy_fraction": busy.ravel(),
        "samples": np.tile(present.reshape(24, per_hour).sum(axis=1), g),
        "busy_seconds_observed": (hourly(gr * present) * interval_s).ravel(),
        "energy_kwh_observed": (hourly(inc * counted) / 3.6e9).ravel(),
        "energy_samples": np.tile(counted.reshape(24, per_hour).sum(axis=1), g),
    }


def write_dcgm(
    ctx: SimulationContext, interval_s: int = INTERVAL_S, text: bool = True, layout: str = "wide"
) -> dict:
    """Render the DCGM export for every simulated day; returns the ground-truth summary."""
    root = ctx.out / "telemetry"
    planted, energy, onprem = _Planted(ctx), {}, {}
    totals = {"gpu_samples": 0, "busy_seconds_observed": 0.0, "energy_kwh_observed": 0.0}
    for day in ctx.plan.dates:
        timeline = pq.read_table(ctx.truth_day("timeline", day)).to_pylist()
        by_host = {r["host"]: [] for r in timeline}
        for row in timeline:
            by_host[row["host"]].append(row)
        truth_parts = []
        for inst in ctx.plan.instances:
            rows = sorted(by_host[inst.host], key=lambda r: r["hour_start"])
            busy = np.array([r["gpu_busy_fraction"] for r in rows]).T  # (gpus, 24)
            owners = rows[0]["gpu_deployment_ids"]
            if inst.onprem:
                onprem.setdefault(inst.host, {})[day.isoformat()] = spec_kwh(inst, busy)
            table, truth, arrays = host_day(
                ctx, inst, day, busy, owners, energy, planted, interval_s, layout
            )
            path = root / "dcgm" / f"date={day}" / f"{inst.host}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, path, **PARQUET_OPTIONS)
            truth_parts.append(pa.table(truth, schema=TRUTH_SCHEMA))
            totals["gpu_samples"] += int(arrays[2].sum()) * len(inst.gpu_uuids)
            if text and (inst.host, day) == planted.slice:
                write_slices(root, inst, arrays, _pods(ctx, inst.host, owners), interval_s)
        hourly = pa.concat_tables(truth_parts)
        write_table(
            ctx.out / "truth" / "telemetry_hourly" / f"date={day}" / "part-0.parquet", hourly
        )
        totals["busy_seconds_observed"] += float(np.sum(hourly["busy_seconds_observed"]))
        totals["energy_kwh_observed"] += float(np.sum(hourly["energy_kwh_observed"]))
    return {
        "interval_s": interval_s,
        "layout": layout,
        **{k: round(v, 6) if isinstance(v, float) else v for k, v in totals.items()},
        "hourly_truth": "truth/telemetry_hourly",
        "planted": planted.truth(),
        "onprem_expected_kwh": onprem,
    }


def spec_kwh(inst, busy: np.ndarray) -> float:
    """kWh a host's GPUs draw in a day by its spec: each GPU-hour at
    idle_w + (busy_w - idle_w) × the timeline's busy fraction (the samples' activity ripple
    averages out over the hour), before PUE."""
    idle, peak = inst.power_w
    return round(float(np.sum(idle + (peak - idle) * busy)) / 1000.0, 9)


def write(ctx: SimulationContext) -> WriterOutput:
    """The registered writer: DCGM telemetry and vLLM engine metrics, one source."""
    dcgm = write_dcgm(ctx, interval_s=ctx.dcgm_interval_s)
    engine = write_engine_metrics(ctx, ctx.out / "telemetry" / "vllm")
    truth: dict = {"telemetry": {"dcgm": dcgm, "engine_metrics": engine}}
    expected = dcgm.pop("onprem_expected_kwh")
    if expected:
        truth["onprem"] = {
            "expected_kwh": expected,
            "note": "per on-prem host and UTC day, kWh its GPUs draw by the spec's power "
            "(before PUE); the DCGM energy counter carries the same draw",
        }
    return WriterOutput(
        sources={"telemetry": {"location": "telemetry", "format": "dcgm"}}, truth=truth
    )
