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


BENCHMARK_ACCELERATORS = ["h200-nvl", "gb200", "gb300", "rtx-pro-6000", "mi325x", "mi355x"]


def test_catalog_covers_the_accelerators_of_the_public_benchmark_tables():
    assert set(BENCHMARK_ACCELERATORS) <= set(gpu_ids())


def test_mi325x_matches_its_product_page():
    # AMD: 256 GB HBM3E at 6 TB/s, CDNA 3 compute of the MI300X, 1000 W
    mi325x = gpu_spec("mi325x")
    assert (mi325x.memory_gib, mi325x.memory_bandwidth_bytes_per_s, mi325x.tdp_w) == (
        256,
        6.0e12,
        1000,
    )
    assert mi325x.fp8_dense_flops_per_s == gpu_spec("mi300x").fp8_dense_flops_per_s


def test_fp4_peaks_are_twice_fp8_where_both_exist():
    # NVIDIA and AMD quote FP4 at 2x FP8 (dense) on Blackwell and CDNA 4; GB300 raises it to 3x.
    # AMD rounds its figures to 0.1 TFLOPS (10066.3 / 5033.2), hence rel=1e-4.
    for gpu_id in ("b200", "gb200", "rtx-pro-6000", "mi355x"):
        gpu = gpu_spec(gpu_id)
        ratio = gpu.fp4_dense_flops_per_s / gpu.fp8_dense_flops_per_s
        assert ratio == pytest.approx(2.0, rel=1e-4)
    assert gpu_spec("gb300").peak_flops_per_s("fp4") == 15e15


def test_hopper_has_no_fp4_path_and_falls_back_to_fp16():
    assert gpu_spec("h100-sxm").peak_flops_per_s("fp4") == 989e12


@pytest.mark.parametrize(
    ("gpu_id", "tensor_parallel", "link"),
    [
        ("h100-sxm", 8, "nvlink"),
        ("h100-pcie", 2, "nvlink"),  # NVLink bridge pairs
        ("h100-pcie", 4, "pcie"),
        ("l40s", 2, "pcie"),
        ("mi300x", 8, "infinity-fabric"),
    ],
)
def test_the_link_an_all_reduce_crosses(gpu_id, tensor_parallel, link):
    assert gpu_spec(gpu_id).interconnect(tensor_parallel) == link
