"""Simulated vLLM ``/metrics`` scrapes, consistent with the request stream, every 60 s.

Per replica (one vLLM server: ``instance`` host:port, ``model_name``, ``engine="0"``, plus
``namespace``/``pod`` under Kubernetes) a long Parquet export
``vllm/date=D/<host>-<port>.parquet``: token and prefix-cache counters, running/waiting/KV
gauges, the TTFT and TPOT histograms with vLLM's bucket bounds, and only _sum/_count of the
queue, prefill, decode and end-to-end ones (their buckets would triple the volume and nothing
downstream reads them yet). A request's prompt counts when its first token is out (a failed
one's when it fails), everything else when it finishes; a scrape shows every event up to its
own time. Counters run on across days; one replica restarts at 14:00 UTC on the first day
(its counters drop to 0), a reset ingest must survive. Servers on the L4 hosts run an older
vLLM that still calls the KV gauge ``gpu_cache_usage_perc``.

A deployment whose spec states ``service.kv_capacity_tokens`` gets its KV gauge, preemptions
and the preempted requests (waiting, not running) from ``kv_pressure.py``; the
``num_preemptions_total`` counter is written for every replica (0 without a capacity).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.fleet.kv_pressure import KvPressure, replica_pressure
from pipelines.fleet.tables import PARQUET_OPTIONS, UTC_US, day_start_us

SCRAPE_S = 60
SCRAPES = 86_400 // SCRAPE_S
RESTART_SCRAPE = 14 * 60  # the restart happens just after the 14:00:00 scrape
TTFT = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0]
TTFT += [7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]
TPOT = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5]
TPOT += [10.0, 20.0, 40.0, 80.0]


def _scrape_index(ts_us: pl.Expr, day_us: int) -> pl.Expr:
    # The first scrape at or after the event: it is the first to show it.
    return ((ts_us - day_us) / (SCRAPE_S * 1e6)).ceil().cast(pl.Int64)


def _events(reqs: pl.DataFrame, day_us: int) -> pl.DataFrame:
    """Per request: scrape index of its prompt and finish events, and what they add."""
    us = lambda c: pl.col(c).dt.epoch("us")  # noqa: E731
    ok = pl.col("status") == "ok"
    prompt_at = pl.when(ok).then(us("first_token_ts")).otherwise(us("finish_ts"))
    return reqs.select(
        s_prompt=_scrape_index(prompt_at, day_us),
        s_finish=_scrape_index(us("finish_ts"), day_us),
        ok=ok,
        input_tokens=pl.col("input_tokens"),
        output_tokens=pl.col("output_tokens"),
        cached_tokens=pl.col("cached_tokens"),
        ttft=(us("first_token_ts") - us("arrival_ts")) / 1e6,
        queue=(us("scheduled_ts") - us("arrival_ts")) / 1e6,
        prefill=(us("first_token_ts") - us("scheduled_ts")) / 1e6,
        decode=(us("finish_ts") - us("first_token_ts")) / 1e6,
        e2e=(us("finish_ts") - us("arrival_ts")) / 1e6,
        arrival=_scrape_index(us("arrival_ts"), day_us),
    ).with_columns(tpot=pl.col("decode") / (pl.col("output_tokens") - 1).clip(1))


def _cum(index: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    keep = (index >= 0) & (index < SCRAPES)
    w = None if weights is None else weights[keep]
    return np.cumsum(np.bincount(index[keep], weights=w, minlength=SCRAPES))


def _histogram(name, bounds, s, values) -> list[tuple]:
    """_bucket (cumulative, by ``le``), _sum and _count series; no buckets if ``bounds`` is
    None (as a recording rule that keeps only means would leave them)."""
    series = []
    if bounds is not None:
        edges = np.searchsorted(np.array(bounds), values, side="left")
        series = [(f"{name}_bucket", str(b), _cum(s[edges <= i])) for i, b in enumerate(bounds)]
        series.append((f"{name}_bucket", "+Inf", _cum(s)))
    series.append((f"{name}_sum", None, _cum(s, values)))
    series.append((f"{name}_count", None, _cum(s)))
    return series


def replica_series(
    ev: pl.DataFrame, max_batch: int, old_names: bool, pressure: KvPressure | None = None
) -> list[tuple]:
    """(metric, le, values per scrape) for one replica-day, counters from 0 at midnight.
    ``pressure``: the replica's KV usage and preemptions when its spec states a capacity."""
    sp, sf = ev["s_prompt"].to_numpy(), ev["s_finish"].to_numpy()
    ok = ev.filter("ok")
    so = ok["s_finish"].to_numpy()
    running = np.maximum(_cum(ev["arrival"].to_numpy()) - _cum(sf), 0)
    kv = "vllm:gpu_cache_usage_perc" if old_names else "vllm:kv_cache_usage_perc"
    kv_usage = np.round(np.minimum(running / max_batch, 1.0) * 0.9, 4)
    preempted = np.zeros(SCRAPES)
    if pressure is not None:
        kv_usage, preempted = np.round(pressure.usage_frac, 4), pressure.preempted
    on_gpu = np.maximum(np.minimum(running, max_batch) - preempted, 0)
    series = [
        ("vllm:prompt_tokens_total", None, _cum(sp, ev["input_tokens"].to_numpy())),
        ("vllm:generation_tokens_total", None, _cum(sf, ev["output_tokens"].to_numpy())),
        ("vllm:prefix_cache_queries_total", None, _cum(sp, ev["input_tokens"].to_numpy())),
        ("vllm:prefix_cache_hits_total", None, _cum(sp, ev["cached_tokens"].to_numpy())),
        ("vllm:num_requests_running", None, on_gpu),
        ("vllm:num_requests_waiting", None, np.maximum(running - max_batch, 0) + preempted),
        (kv, None, kv_usage),
        ("vllm:num_preemptions_total", None, np.cumsum(preempted)),
    ]
    for name, bounds, col in (
        ("time_to_first_token_seconds", TTFT, "ttft"),
        ("time_per_output_token_seconds", TPOT, "tpot"),
        ("request_queue_time_seconds", None, "queue"),
        ("request_prefill_time_seconds", None, "prefill"),  # TTFT less the time queued
        ("request_decode_time_seconds", None, "decode"),
        ("e2e_request_latency_seconds", None, "e2e"),
    ):
        series += _histogram(f"vllm:{name}", bounds, so, ok[col].to_numpy())
    return series


COUNTER_SUFFIXES = ("_total", "_bucket", "_sum", "_count")


def apply_counters(series, base: dict, restart_at: int | None) -> list[tuple]:
    """Add the counters' values carried from earlier days; reset after ``restart_at``."""
    out = []
    for metric, le, values in series:
        values = values.astype(np.float64)
        if metric.endswith(COUNTER_SUFFIXES):
            values = values + base.get((metric, le), 0.0)
            if restart_at is not None:
                values[restart_at + 1 :] -= values[restart_at]
            base[(metric, le)] = values[-1]
        out.append((metric, le, values))
    return out


def series_table(series, day, labels: dict) -> pa.Table:
    n = len(series)
    ts = day_start_us(day) + np.arange(SCRAPES) * SCRAPE_S * 1_000_000
    metrics = sorted({m for m, _, _ in series})
    les = sorted({le for _, le, _ in series if le is not None})
    zeros = pa.array(np.zeros(n * SCRAPES, dtype=np.int32))
    columns = {
        "timestamp": pa.array(np.tile(ts, n), type=UTC_US),
        "metric": pa.DictionaryArray.from_arrays(
            pa.array(np.repeat([metrics.index(m) for m, _, _ in series], SCRAPES).astype(np.int32)),
            pa.array(metrics),
        ),
        "value": pa.array(np.concatenate([v for _, _, v in series])),
        "le": pa.DictionaryArray.from_arrays(
            pa.array(
                np.repeat([les.index(le) if le else 0 for _, le, _ in series], SCRAPES).astype(
                    np.int32
                ),
                mask=np.repeat([le is None for _, le, _ in series], SCRAPES),
            ),
            pa.array(les or [""]),
        ),
    }
    for name, value in labels.items():
        if value is not None:
            columns[name] = pa.DictionaryArray.from_arrays(zeros, pa.array([value]))
    return pa.table(columns)


def write_table(path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **PARQUET_OPTIONS)


def pod_name(dep, replica: int) -> str | None:
    """The Kubernetes pod serving ``replica`` (DCGM's pod label names the same pod)."""
    k8s = dep.spec.kubernetes
    if k8s is None:
        return None
    digest = hashlib.sha256(dep.id.encode()).hexdigest()[:6]
    return f"{k8s.pod_labels.get('app', dep.id)}-{digest}-{replica}"


def engine_ports(plan) -> dict[tuple[str, int], int]:
    """(deployment id, replica) -> its vLLM server's port (8000, 8001, ... per host)."""
    taken: dict[str, int] = {}
    ports = {}
    for dep in plan.deployments:
        for r, replica in enumerate(dep.replicas):
            ports[(dep.id, r)] = 8000 + taken.get(replica.host, 0)
            taken[replica.host] = taken.get(replica.host, 0) + 1
    return ports


def _truth_add(truth: dict, dep_id: str, day, ev: pl.DataFrame, first: int) -> None:
    sp, sf = pl.col("s_prompt"), pl.col("s_finish")
    row = ev.select(
        prompt_tokens=pl.col("input_tokens").filter(sp.is_between(first, SCRAPES - 1)).sum(),
        generation_tokens=pl.col("output_tokens").filter(sf.is_between(first, SCRAPES - 1)).sum(),
        requests_finished_ok=(pl.col("ok") & sf.is_between(first, SCRAPES - 1)).sum(),
    ).row(0, named=True)
    per_day = truth.setdefault(dep_id, {}).setdefault(day.isoformat(), dict.fromkeys(row, 0))
    for k, v in row.items():
        per_day[k] += int(v)


def _truth_add_preemptions(truth: dict, dep_id: str, day, pressure, first: int) -> None:
    """Preemptions the counter shows from scrape ``first`` on (0 without a KV capacity)."""
    n = 0 if pressure is None else int(pressure.preempted[first:].sum())
    per_day = truth[dep_id][day.isoformat()]
    per_day["preemptions"] = per_day.get("preemptions", 0) + n


def write_engine_metrics(ctx, root: Path) -> dict:
    """Write every replica-day's scrapes under ``root``; returns the ground-truth totals."""
    plan = ctx.plan
    gpu_type = {i.host: i.gpu_type for i in plan.instances}
    ports, base, carry, truth = engine_ports(plan), {}, {}, {}
    restart = (plan.deployments[-1].id, 0, plan.dates[0])
    for day in plan.dates:
        day_us = day_start_us(day)
        reqs = pl.read_parquet(ctx.truth_day("requests", day))
        first = 1 if day == plan.dates[0] else 0  # the first scrape has no predecessor
        for dep in plan.deployments:
            if not dep.active_on(day):
                continue
            mine = reqs.filter(pl.col("deployment_id") == dep.id)
            for r, replica in enumerate(dep.replicas):
                key = (dep.id, r)
                rows = pl.concat([*carry.pop(key, []), mine.filter(pl.col("replica") == r)])
                ev = _events(rows, day_us)
                late = (ev["s_prompt"] >= SCRAPES) | (ev["s_finish"] >= SCRAPES)
                carry[key] = [rows.filter(late)]
                old = gpu_type[replica.host] == "l4"
                capacity = dep.spec.service.kv_capacity_tokens
                pressure = None
                if capacity is not None:
                    at_s = np.arange(SCRAPES, dtype=np.float64) * SCRAPE_S
                    pressure = replica_pressure(rows, day_us, at_s, capacity)
                series = replica_series(ev, dep.spec.service.max_batch, old, pressure)
                at = RESTART_SCRAPE if (dep.id, r, day) == restart else None
                series = apply_counters(series, base.setdefault(key, {}), at)
                labels = {
                    "instance": f"{replica.host}:{ports[key]}",
                    "model_name": dep.request_model_name,
                    "engine": "0",
                    "namespace": dep.spec.kubernetes.namespace if dep.spec.kubernetes else None,
                    "pod": pod_name(dep, r),
                }
                path = root / f"date={day}" / f"{replica.host}-{ports[key]}.parquet"
                write_table(path, series_table(series, day, labels))
                _truth_add(truth, dep.id, day, ev, first)
                _truth_add_preemptions(truth, dep.id, day, pressure, first)
    return {
        "scrape_interval_s": SCRAPE_S,
        "restart": {"deployment_id": restart[0], "replica": 0, "after": f"{restart[2]}T14:00:00Z"},
        "deployments": truth,
    }
