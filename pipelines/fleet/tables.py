"""Arrow schemas and builders for the simulator's Parquet outputs (layout: ``simulate.py``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.fleet.arrivals import DayRequests
from pipelines.fleet.plan import PlannedDeployment, PlannedInstance
from pipelines.fleet.service import Served

UTC_US = pa.timestamp("us", tz="UTC")
PRICE = pa.decimal128(18, 6)
# Fixed writer settings: same input -> same bytes (pyarrow writes no wall-clock metadata).
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3, "version": "2.6"}
# Timestamps are near-sorted and request ids share prefixes: delta encodings take the request
# files from ~10 to ~6.6 MB per default fleet-day. Dictionaries only where values repeat.
REQUEST_ENCODINGS = {
    "use_dictionary": [
        "deployment_id",
        "request_model_name",
        "host",
        "status",
        "replica",
        "input_tokens",
        "output_tokens",
        "cached_tokens",
        "tenant",
    ],
    "column_encoding": {
        "request_id": "DELTA_BYTE_ARRAY",
        "arrival_ts": "DELTA_BINARY_PACKED",
        "scheduled_ts": "DELTA_BINARY_PACKED",
        "first_token_ts": "DELTA_BINARY_PACKED",
        "finish_ts": "DELTA_BINARY_PACKED",
    },
}

REQUEST_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("deployment_id", pa.string()),
        ("request_model_name", pa.string()),
        ("host", pa.string()),
        ("replica", pa.int16()),
        ("arrival_ts", UTC_US),
        ("scheduled_ts", UTC_US),  # its prefill starts: arrival + time queued for a batch slot
        ("first_token_ts", UTC_US),  # null when the request failed
        ("finish_ts", UTC_US),
        ("input_tokens", pa.int32()),
        ("output_tokens", pa.int32()),
        ("cached_tokens", pa.int32()),
        ("status", pa.string()),  # "ok" or "error"
        ("tenant", pa.string()),  # who sent it (spec traffic.tenants); null = logged without one
    ]
)

TIMELINE_SCHEMA = pa.schema(
    [
        ("hour_start", UTC_US),
        ("instance_id", pa.string()),
        ("instance_type", pa.string()),
        ("host", pa.string()),
        ("gpu_type", pa.string()),
        ("gpu_count", pa.int16()),
        ("hourly_price_usd", PRICE),
        ("gpus_allocated", pa.int16()),
        ("deployment_ids", pa.list_(pa.string())),  # sorted, distinct
        ("gpu_deployment_ids", pa.list_(pa.string())),  # by GPU index; null = no deployment
        ("gpu_busy_fraction", pa.list_(pa.float64())),  # by GPU index, 0-1 of the hour
        ("busy_gpu_seconds", pa.float64()),
    ]
)


def day_start_us(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * 86_400_000_000


def _repeat(value: str, n: int) -> pa.Array:
    return pc.take(pa.array([value]), pa.array(np.zeros(n, dtype=np.int32)))


def request_table(
    dep: PlannedDeployment, day: dt.date, reqs: DayRequests, served: Served, tenants: pa.Array
) -> pa.Table:
    n = len(reqs)
    base = day_start_us(day)
    seq = pc.utf8_lpad(pc.cast(pa.array(np.arange(n)), pa.string()), 7, "0")
    hosts = pa.array([r.host for r in dep.replicas])
    columns = [
        pc.binary_join_element_wise(f"{dep.id}-{day:%Y%m%d}-", seq, ""),
        _repeat(dep.id, n),
        _repeat(dep.request_model_name, n),
        pc.take(hosts, pa.array(served.replica)),
        pa.array(served.replica.astype(np.int16)),
        pa.array(base + reqs.arrival_us, type=UTC_US),
        pa.array(base + served.scheduled_us, type=UTC_US),
        pa.array(base + served.first_token_us, type=UTC_US, mask=served.error),
        pa.array(base + served.finish_us, type=UTC_US),
        pa.array(reqs.input_tokens.astype(np.int32)),
        pa.array(served.output_tokens.astype(np.int32)),
        pa.array(reqs.cached_tokens.astype(np.int32)),
        pc.take(pa.array(["ok", "error"]), pa.array(served.error.astype(np.int8))),
        tenants,
    ]
    return pa.Table.from_arrays(columns, schema=REQUEST_SCHEMA)


def tenant_column(shares: dict[str, float], n: int, rng: np.random.Generator) -> pa.Array:
    """Each request's tenant, drawn independently with the spec's shares (in name order);
    the rest of the unit interval is no tenant (null)."""
    names = sorted(shares)
    if not names:
        return pa.nulls(n, pa.string())
    bounds = np.cumsum([shares[name] for name in names])
    picks = np.searchsorted(bounds, rng.random(n), side="right")
    return pc.take(pa.array([*names, None], pa.string()), pa.array(picks))


def timeline_table(
    day: dt.date,
    instances: tuple[PlannedInstance, ...],
    owners: dict[str, list[str | None]],
    busy: dict[str, np.ndarray],
) -> pa.Table:
    """One row per instance per hour; ``busy[host]`` is (gpus, 24) busy fractions."""
    rows: dict[str, list] = {name: [] for name in TIMELINE_SCHEMA.names}
    base = day_start_us(day)
    for inst in instances:
        owner = owners.get(inst.host, [None] * inst.gpu_count)
        hourly = busy.get(inst.host, np.zeros((inst.gpu_count, 24)))
        deployments = sorted({o for o in owner if o is not None})
        for hour in range(24):
            fractions = [round(float(f), 6) for f in hourly[:, hour]]
            rows["hour_start"].append(base + hour * 3_600_000_000)
            rows["instance_id"].append(inst.id)
            rows["instance_type"].append(inst.type)
            rows["host"].append(inst.host)
            rows["gpu_type"].append(inst.gpu_type)
            rows["gpu_count"].append(inst.gpu_count)
            rows["hourly_price_usd"].append(inst.hourly_price_usd)
            rows["gpus_allocated"].append(sum(o is not None for o in owner))
            rows["deployment_ids"].append(deployments)
            rows["gpu_deployment_ids"].append(list(owner))
            rows["gpu_busy_fraction"].append(fractions)
            rows["busy_gpu_seconds"].append(round(sum(fractions) * 3600, 3))
    return pa.Table.from_pydict(rows, schema=TIMELINE_SCHEMA)


def write_table(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **PARQUET_OPTIONS)


def request_writer(path: Path) -> pq.ParquetWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    return pq.ParquetWriter(path, REQUEST_SCHEMA, **PARQUET_OPTIONS, **REQUEST_ENCODINGS)
