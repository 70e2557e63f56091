"""Ten minutes (10:00-10:10 UTC) of one host's simulated DCGM data as Prometheus text
exposition, two ways (kept short: prometheus-client parses ~20k lines/s)::

* ``scrapes/<host>/<host>_<YYYYmmddTHHMMSSZ>.prom`` — the first five minutes, one file per
  scrape as a cron'd ``curl :9400/metrics`` writes it: HELP/TYPE lines, no sample timestamps
  (the capture time is in the name);
* ``exports/date=D/<host>.prom`` — the next five as a Prometheus / VictoriaMetrics export:
  bare samples with millisecond timestamps.

Values are Python float reprs of the very numbers in the Parquet export, so a reader sees
identical duplicates (an HA pair's overlap), never conflicting ones.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from pipelines.fleet.formats.dcgm_signals import gpu_model

SLICE_HOUR = 10
SLICE_MINUTES = 10
DRIVER = "580.105.08"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(inst, gpu: int, pod: tuple) -> str:
    pairs = [
        ("gpu", str(gpu)),
        ("UUID", inst.gpu_uuids[gpu]),
        ("pci_bus_id", f"00000000:{0x10 + gpu:02X}:00.0"),
        ("device", f"nvidia{gpu}"),
        ("modelName", gpu_model(inst.gpu_type).telemetry_name),
        ("Hostname", inst.host),
        ("DCGM_FI_DRIVER_VERSION", DRIVER),
    ]
    if pod[1] is not None:
        pairs += [("container", pod[2]), ("namespace", pod[0]), ("pod", pod[1])]
    return ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)


def _lines(inst, fields: dict, k: int, pods: list, ts_ms: int | None, help_type: bool):
    stamp = "" if ts_ms is None else f" {ts_ms}"
    for metric, values in fields.items():
        if help_type:
            kind = "counter" if metric.endswith("ENERGY_CONSUMPTION") else "gauge"
            yield f"# HELP {metric} {metric} (simulated)."
            yield f"# TYPE {metric} {kind}"
        for gpu in range(values.shape[0]):
            yield f"{metric}{{{_labels(inst, gpu, pods[gpu])}}} {float(values[gpu, k])!r}{stamp}"


def write_slices(root: Path, inst, arrays: tuple, pods: list, interval_s: int) -> int:
    """Write the text slices at ``SLICE_HOUR``; returns the number of sample lines."""
    ts, fields, present = arrays
    first = SLICE_HOUR * 3600 // interval_s
    hour = np.arange(first, first + SLICE_MINUTES * 60 // interval_s)
    hour = hour[present[hour]]
    half = len(hour) // 2
    scrapes = root / "scrapes" / inst.host
    scrapes.mkdir(parents=True, exist_ok=True)
    written = 0
    for k in hour[:half]:
        when = dt.datetime.fromtimestamp(ts[k] / 1e6, dt.UTC)
        lines = list(_lines(inst, fields, k, pods, None, help_type=True))
        (scrapes / f"{inst.host}_{when:%Y%m%dT%H%M%SZ}.prom").write_text("\n".join(lines) + "\n")
        written += sum(not line.startswith("#") for line in lines)
    day = dt.datetime.fromtimestamp(ts[0] / 1e6, dt.UTC).date()
    export = root / "exports" / f"date={day}" / f"{inst.host}.prom"
    export.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        line
        for k in hour[half:]
        for line in _lines(inst, fields, k, pods, int(ts[k] // 1000), help_type=False)
    ]
    export.write_text("\n".join(lines) + "\n")
    return written + len(lines)
