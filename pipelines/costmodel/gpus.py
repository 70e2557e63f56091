"""Typed GPU specs built on ``data/gpus.csv``, their sources, and the telemetry alias table.

Bandwidths are the vendor's figures: HBM bytes/s, and interconnect bytes/s *bidirectional*
per GPU as datasheets quote them (a ring all-reduce moves data one way: half of it).
Peaks are dense tensor-core FLOP/s (sparse datasheet figures halved).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache

from pipelines.costmodel.catalog import DATA_DIR, gpu_catalog_rows

GIB_BYTES = 2**30
GPU_SOURCES_PATH = DATA_DIR / "gpu_sources.csv"
GPU_ALIASES_PATH = DATA_DIR / "gpu_aliases.csv"
UNKNOWN_GPU_ID = "unknown"
VALUE_GROUPS = ("memory", "compute", "interconnect", "power")


@dataclass(frozen=True)
class GpuSpec:
    """One GPU model: memory, bandwidth, dense peaks per compute dtype, links, power."""

    gpu_id: str
    display_name: str
    vendor: str
    architecture: str
    memory_gib: float
    memory_bandwidth_bytes_per_s: float
    fp16_dense_flops_per_s: float
    fp8_dense_flops_per_s: float | None
    int8_dense_ops_per_s: float | None
    int4_dense_ops_per_s: float | None
    fp4_dense_flops_per_s: float | None
    nvlink_bytes_per_s: float | None
    nvlink_domain_gpus: int
    pcie_bytes_per_s: float
    tdp_w: float

    @property
    def memory_bytes(self) -> float:
        return self.memory_gib * GIB_BYTES

    def peak_flops_per_s(self, compute_dtype: str) -> float:
        """Dense peak for ``compute_dtype`` (``fp16``, ``fp8``, ``int8``, ``fp4``).

        A part without an FP8 / INT8 / FP4 path (A100, T4; Hopper for FP4) runs such weights
        through 16-bit kernels (weight-only, e.g. Marlin), so it falls back to its FP16 peak.
        """
        peak = {
            "fp16": self.fp16_dense_flops_per_s,
            "fp8": self.fp8_dense_flops_per_s,
            "int8": self.int8_dense_ops_per_s,
            "fp4": self.fp4_dense_flops_per_s,
        }[compute_dtype]
        return peak if peak is not None else self.fp16_dense_flops_per_s

    def interconnect(self, tensor_parallel: int) -> str:
        """The link a ``tensor_parallel``-wide all-reduce crosses: ``nvlink`` (NVIDIA's
        NVLink / NVSwitch or bridge), ``infinity-fabric`` (AMD), else ``pcie``."""
        if self.nvlink_bytes_per_s and tensor_parallel <= self.nvlink_domain_gpus:
            return "infinity-fabric" if self.vendor == "amd" else "nvlink"
        return "pcie"

    def link_bytes_per_s_one_way(self, tensor_parallel: int) -> float:
        """One-direction bandwidth a ring all-reduce over ``tensor_parallel`` GPUs gets.

        NVLink only while the group fits in the NVLink domain (8 on SXM boards, 2 for bridged
        PCIe cards); beyond that traffic crosses PCIe.
        """
        if self.nvlink_bytes_per_s and tensor_parallel <= self.nvlink_domain_gpus:
            return self.nvlink_bytes_per_s / 2
        return self.pcie_bytes_per_s / 2


def _opt(value: str, scale: float) -> float | None:
    return float(value) * scale if value.strip() else None


def _spec(row: dict[str, str]) -> GpuSpec:
    return GpuSpec(
        gpu_id=row["gpu_id"],
        display_name=row["display_name"],
        vendor=row["vendor"],
        architecture=row["architecture"],
        memory_gib=float(row["memory_gib"]),
        memory_bandwidth_bytes_per_s=float(row["memory_bandwidth_gb_per_s"]) * 1e9,
        fp16_dense_flops_per_s=float(row["fp16_dense_tflops"]) * 1e12,
        fp8_dense_flops_per_s=_opt(row["fp8_dense_tflops"], 1e12),
        int8_dense_ops_per_s=_opt(row["int8_dense_tops"], 1e12),
        int4_dense_ops_per_s=_opt(row["int4_dense_tops"], 1e12),
        fp4_dense_flops_per_s=_opt(row["fp4_dense_tflops"], 1e12),
        nvlink_bytes_per_s=_opt(row["nvlink_gb_per_s"], 1e9),
        nvlink_domain_gpus=int(row["nvlink_domain_gpus"]),
        pcie_bytes_per_s=float(row["pcie_gb_per_s"]) * 1e9,
        tdp_w=float(row["tdp_w"]),
    )


@cache
def gpu_catalog() -> dict[str, GpuSpec]:
    """All GPU specs keyed by ``gpu_id``."""
    return {gpu_id: _spec(row) for gpu_id, row in gpu_catalog_rows().items()}


def gpu_spec(gpu_id: str) -> GpuSpec:
    """The spec of catalog GPU ``gpu_id``.

    Examples
    --------
    >>> gpu_spec("h100-sxm").memory_bandwidth_bytes_per_s
    3350000000000.0
    """
    try:
        return gpu_catalog()[gpu_id]
    except KeyError:
        raise KeyError(
            f"unknown GPU {gpu_id!r}; known: {', '.join(sorted(gpu_catalog()))}"
        ) from None


@cache
def gpu_sources() -> tuple[dict[str, str], ...]:
    """One row per (gpu_id, value_group): source_url, document, as_of date and a note."""
    with GPU_SOURCES_PATH.open(newline="") as fh:
        return tuple(csv.DictReader(fh))


@dataclass(frozen=True)
class GpuNameMatch:
    """What a telemetry GPU name resolves to; ``gpu_id`` is ``"unknown"`` when unmatched.

    ``vgpu_memory_gib`` is the framebuffer of a vGPU slice (``GRID A100-10C``: 10 GiB); the
    slice shares the physical GPU's bandwidth and compute with its neighbours.
    """

    telemetry_name: str
    gpu_id: str
    vgpu_memory_gib: float | None = None

    @property
    def is_known(self) -> bool:
        return self.gpu_id != UNKNOWN_GPU_ID


def _normalise(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


@cache
def _aliases() -> dict[str, tuple[str, float | None]]:
    """``data/gpu_aliases.csv``: the one table from telemetry names to catalog ids. A name
    listed twice (after case and whitespace) or an id not in the catalog is an error, not a
    silent last-one-wins."""
    catalog = gpu_catalog_rows()
    aliases: dict[str, tuple[str, float | None]] = {}
    with GPU_ALIASES_PATH.open(newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            name, gpu_id = _normalise(row["telemetry_name"]), row["gpu_id"]
            if name in aliases or gpu_id not in catalog:
                problem = "listed twice" if name in aliases else f"unknown gpu_id {gpu_id!r}"
                raise ValueError(f"{GPU_ALIASES_PATH.name}:{line}: {name!r} {problem}")
            aliases[name] = (gpu_id, _opt(row["vgpu_memory_gib"], 1.0))
    return aliases


def resolve_gpu_name(telemetry_name: str) -> GpuNameMatch:
    """Map a name GPUs report in telemetry (DCGM ``modelName``, nvidia-smi) to a catalog id.

    Matching is exact up to case and whitespace; anything else is ``"unknown"``, never a fuzzy
    guess (an ``A100-PCIE-40GB`` must not silently become an SXM part).

    Examples
    --------
    >>> resolve_gpu_name("NVIDIA H100 80GB HBM3").gpu_id
    'h100-sxm'
    >>> resolve_gpu_name("NVIDIA RTX 4000 Ada Generation").is_known
    False
    """
    gpu_id, vgpu_memory_gib = _aliases().get(_normalise(telemetry_name), (UNKNOWN_GPU_ID, None))
    return GpuNameMatch(telemetry_name, gpu_id, vgpu_memory_gib)
