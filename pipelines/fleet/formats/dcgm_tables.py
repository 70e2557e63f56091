"""Arrow tables for one host-day of simulated DCGM samples, in the two export layouts.

* long: one row per (scrape, GPU, field) — ``timestamp, metric, value`` plus a column per
  label, as a Prometheus export flattened to Parquet; the default.
* wide: one row per (scrape, GPU) with a column per DCGM field, as ``dcgmi dmon`` writes it;
  ~19× fewer rows, used by ``unitcost bench-telemetry`` for the 1,000-GPU day at 10 s.

Labels are dictionary-encoded (few distinct values per file). Hosts with an L4 run an older
dcgm-exporter whose Kubernetes labels are spelt ``pod_name``/``container_name``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipelines.fleet.tables import UTC_US

DRIVER = "580.105.08"


def _dict(values: list, indices: np.ndarray) -> pa.DictionaryArray:
    """``values[indices]`` dictionary-encoded; None entries become nulls. The dictionary holds
    each distinct value once (duplicates made the Parquet bytes differ between runs)."""
    distinct = sorted({v for v in values if v is not None})
    codes = np.array([distinct.index(v) if v is not None else -1 for v in values], np.int32)
    picked = codes[indices] if len(codes) else np.zeros(len(indices), np.int32)
    mask = picked < 0
    return pa.DictionaryArray.from_arrays(
        pa.array(np.where(mask, 0, picked), mask=mask if mask.any() else None),
        pa.array(distinct or [""]),
    )


def _labels(inst, pods: list[tuple], model, gpu_idx: np.ndarray) -> dict:
    one = np.zeros(len(gpu_idx), dtype=np.int32)
    old = inst.gpu_type == "l4"
    return {
        "Hostname": _dict([inst.host], one),
        "gpu": _dict([str(i) for i in range(len(inst.gpu_uuids))], gpu_idx),
        "UUID": _dict(list(inst.gpu_uuids), gpu_idx),
        "modelName": _dict([model.telemetry_name], one),
        "DCGM_FI_DRIVER_VERSION": _dict([DRIVER], one),
        "namespace": _dict([p[0] for p in pods], gpu_idx),
        "pod_name" if old else "pod": _dict([p[1] for p in pods], gpu_idx),
        "container_name" if old else "container": _dict([p[2] for p in pods], gpu_idx),
    }


def long_table(inst, ts, fields: dict, present, pods: list[tuple], model) -> pa.Table:
    g, n, names = len(inst.gpu_uuids), int(present.sum()), list(fields)
    gpu_idx = np.tile(np.repeat(np.arange(g), n), len(names))
    columns = {
        "timestamp": pa.array(np.tile(ts[present], g * len(names)), type=UTC_US),
        "metric": _dict(names, np.repeat(np.arange(len(names)), g * n)),
        "value": pa.array(np.concatenate([fields[m][:, present].ravel() for m in names])),
    }
    return pa.table(columns | _labels(inst, pods, model, gpu_idx))


def wide_table(inst, ts, fields: dict, present, pods: list[tuple], model) -> pa.Table:
    g, n = len(inst.gpu_uuids), int(present.sum())
    gpu_idx = np.repeat(np.arange(g), n)
    columns = {"timestamp": pa.array(np.tile(ts[present], g), type=UTC_US)}
    columns |= _labels(inst, pods, model, gpu_idx)
    columns |= {name: pa.array(values[:, present].ravel()) for name, values in fields.items()}
    return pa.table(columns)
