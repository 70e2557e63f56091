"""What the simulated DCGM exporter reads off each GPU, derived from the truth timeline.

A GPU's graphics-engine activity in a sample is the hour's truth busy fraction ``b`` plus a
ripple ``a·sin(2π·3·j/N)`` over the hour's N samples, with ``a = 0.25·min(b, 1−b)``: it
never leaves [0, 1] and sums to zero over the hour, so each hour's mean GR_ENGINE_ACTIVE is
``b`` (to the 1e-6 DCGM rounding) and GPU_UTIL (an integer %) is within 0.5 points of 100·b.
The other fields follow from it (power, energy, temperature, SM/tensor/DRAM activity).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from pipelines.costmodel.catalog import gpu_catalog_rows
from pipelines.costmodel.gpus import GPU_ALIASES_PATH

# Shares of GR_ENGINE_ACTIVE seen by the finer profiling counters while serving an LLM
# (decode is memory bound: DRAM busier than the tensor pipes). Plausible, not measured.
SM_ACTIVE, SM_OCCUPANCY, TENSOR, DRAM = 0.92, 0.38, 0.41, 0.55
IDLE_POWER, LOADED_POWER, BUSY_POWER = 0.12, 0.05, 0.75  # fractions of TDP
HBM_TYPES = ("h100", "h200", "a100", "b200")  # report memory temperature; GDDR parts show 0


@dataclass(frozen=True)
class GpuModel:
    telemetry_name: str
    memory_mib: int
    tdp_w: float
    reports_memory_temp: bool


@cache
def gpu_model(gpu_type: str) -> GpuModel:
    import csv

    with GPU_ALIASES_PATH.open(newline="") as fh:
        names = [r["telemetry_name"] for r in csv.DictReader(fh) if r["gpu_id"] == gpu_type]
    row = gpu_catalog_rows()[gpu_type]
    # The last alias is the current spelling (aliases list the legacy "Tesla T4" first).
    return GpuModel(
        telemetry_name=names[-1] if names else row["display_name"],
        memory_mib=int(float(row["memory_gib"]) * 1024),
        tdp_w=float(row["tdp_w"]),
        reports_memory_temp=gpu_type.startswith(HBM_TYPES),
    )


def activity(busy: np.ndarray, per_hour: int) -> np.ndarray:
    """(gpus, 24) hourly busy fractions -> (gpus, 24·per_hour) GR_ENGINE_ACTIVE, 6 decimals."""
    j = np.arange(per_hour)
    ripple = np.sin(2 * np.pi * 3 * j / per_hour)
    amp = 0.25 * np.minimum(busy, 1 - busy)
    values = busy[:, :, None] + amp[:, :, None] * ripple[None, None, :]
    return np.round(np.clip(values, 0.0, 1.0), 6).reshape(busy.shape[0], -1)


def power_w(gr: np.ndarray, loaded: np.ndarray, model: GpuModel, draw=None) -> np.ndarray:
    """Watts per GPU and sample: the spec's ``draw`` (idle_w, busy_w) linear in activity,
    else fractions of the GPU's TDP."""
    if draw is not None:
        idle, busy = draw
        return np.round(idle + (busy - idle) * gr, 3)
    load = loaded[:, None].astype(np.float64)
    return np.round(model.tdp_w * (IDLE_POWER + LOADED_POWER * load + BUSY_POWER * gr), 3)


def fields(gr: np.ndarray, loaded: np.ndarray, model: GpuModel, interval_s: int, draw=None) -> dict:
    """DCGM field values (exporter names) for activity ``gr`` (gpus, n); energy increments in
    mJ under ``_ENERGY_INCREMENT`` (the counter itself is accumulated by the caller)."""
    power = power_w(gr, loaded, model, draw)
    used = np.where(loaded, int(model.memory_mib * 0.9), 0)[:, None] * np.ones_like(gr)
    reserved = np.full_like(gr, int(model.memory_mib * 0.01))
    temp = np.round(32 + 45 * gr)
    busy_clock = gr > 0.01
    return {
        "DCGM_FI_DEV_GPU_UTIL": np.round(gr * 100),
        "DCGM_FI_DEV_MEM_COPY_UTIL": np.round(gr * DRAM * 100),
        "DCGM_FI_DEV_FB_USED": used,
        "DCGM_FI_DEV_FB_FREE": model.memory_mib - used - reserved,
        "DCGM_FI_DEV_FB_RESERVED": reserved,
        "DCGM_FI_DEV_POWER_USAGE": power,
        "DCGM_FI_DEV_GPU_TEMP": temp,
        "DCGM_FI_DEV_MEMORY_TEMP": temp + 4 if model.reports_memory_temp else np.zeros_like(gr),
        "DCGM_FI_DEV_SM_CLOCK": np.where(busy_clock, 1755.0, 345.0),
        "DCGM_FI_DEV_MEM_CLOCK": np.full_like(gr, 1593.0),
        "DCGM_FI_DEV_XID_ERRORS": np.zeros_like(gr),
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE": gr,
        "DCGM_FI_PROF_SM_ACTIVE": np.round(gr * SM_ACTIVE, 6),
        "DCGM_FI_PROF_SM_OCCUPANCY": np.round(gr * SM_OCCUPANCY, 6),
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": np.round(gr * TENSOR, 6),
        "DCGM_FI_PROF_DRAM_ACTIVE": np.round(gr * DRAM, 6),
        "DCGM_FI_PROF_PCIE_TX_BYTES": np.round(2e5 + 4e7 * gr),
        "DCGM_FI_PROF_PCIE_RX_BYTES": np.round(3e5 + 6e7 * gr),
        "_ENERGY_INCREMENT": np.round(power * interval_s * 1000),
    }
