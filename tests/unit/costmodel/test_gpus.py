"""The GPU catalog, its sources, and the telemetry alias table."""

import pytest

from pipelines.costmodel.catalog import gpu_ids
from pipelines.costmodel.gpus import (
    VALUE_GROUPS,
    gpu_catalog,
    gpu_sources,
    gpu_spec,
    resolve_gpu_name,
)

REQUIRED_IDS = [
    "t4",
    "a10g",
    "l4",
    "l40s",
    "a100-40gb",
    "a100-80gb",
    "h100-sxm",
    "h100-pcie",
    "h100-nvl",
    "h200",
    "b200",
    "mi300x",
]


def test_catalog_keeps_the_registry_ids():
    assert set(REQUIRED_IDS) <= set(gpu_ids())
    assert set(gpu_ids()) == set(gpu_catalog())


@pytest.mark.parametrize("gpu_id", sorted(gpu_catalog()))
def test_every_value_group_of_every_gpu_has_a_source_and_date(gpu_id):
    groups = {
        row["value_group"]
        for row in gpu_sources()
        if row["gpu_id"] == gpu_id and row["source_url"] and row["as_of"]
    }
    assert groups == set(VALUE_GROUPS)


@pytest.mark.parametrize(
    "gpu", sorted(gpu_catalog().values(), key=lambda g: g.gpu_id), ids=lambda g: g.gpu_id
)
def test_low_precision_peaks_are_dense_multiples_of_fp16(gpu):
    # dense FP8 / INT8 are 2x FP16 on every listed part (a sparse figure would be 4x)
    for peak in (gpu.fp8_dense_flops_per_s, gpu.int8_dense_ops_per_s):
        if peak is not None:
            assert peak / gpu.fp16_dense_flops_per_s == pytest.approx(2.0, rel=0.03)


def test_h100_sxm_matches_its_datasheet():
    h100 = gpu_spec("h100-sxm")
    assert (h100.memory_gib, h100.memory_bandwidth_bytes_per_s, h100.fp16_dense_flops_per_s) == (
        80,
        3.35e12,
        989e12,
    )
    assert h100.tdp_w == 700


def test_parts_without_fp8_fall_back_to_their_fp16_peak():
    assert gpu_spec("a100-80gb").peak_flops_per_s("fp8") == 312e12


@pytest.mark.parametrize(
    ("telemetry_name", "gpu_id"),
    [
        ("NVIDIA H100 80GB HBM3", "h100-sxm"),
        ("Tesla T4", "t4"),
        ("NVIDIA L40S", "l40s"),
        ("NVIDIA L4", "l4"),
        ("NVIDIA A100-SXM4-80GB", "a100-80gb"),
        ("  nvidia  h100 80gb hbm3 ", "h100-sxm"),
    ],
)
def test_telemetry_names_resolve_to_catalog_ids(telemetry_name, gpu_id):
    assert resolve_gpu_name(telemetry_name).gpu_id == gpu_id


def test_vgpu_profile_resolves_with_its_slice_memory():
    match = resolve_gpu_name("GRID A100-10C")
    assert (match.gpu_id, match.vgpu_memory_gib) == ("a100-40gb", 10)


@pytest.mark.parametrize(
    "name", ["NVIDIA RTX 4000 Ada Generation", "NVIDIA H100", "NVIDIA A100-PCIE-40GB", ""]
)
def test_unmatched_names_are_explicitly_unknown_not_guessed(name):
    match = resolve_gpu_name(name)
    assert match.gpu_id == "unknown" and not match.is_known
