"""GPU names in telemetry (RELIABILITY.md case 19): one explicit alias table, exact match up to
case and whitespace; an unknown name is gpu_type 'unknown' with its raw string kept, and the
WARN check lists it with its GPU count. Never a fuzzy match."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.telemetry import telemetry_tables
from pipelines.costmodel.gpus import resolve_gpu_name
from pipelines.resources import UnitcostConfigResource, WarehouseResource
from pipelines.warehouse import connect

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dcgm"
DAY = dt.date(2026, 11, 1)
STAMP = "20261101T100000Z"  # the capture time the fixtures (no sample timestamps) get


@pytest.mark.parametrize(
    ("name", "gpu_id"),
    [
        ("NVIDIA H100 80GB HBM3", "h100-sxm"),  # what nvidia-smi / DCGM print for the SXM5 part
        ("H100-SXM5-80GB", "h100-sxm"),
        ("NVIDIA H100 NVL", "h100-nvl"),
        ("GRID A100-10C", "a100-40gb"),  # vGPU profile: a 10 GiB slice of an A100 40GB
        ("Tesla T4", "t4"),
        ("  h100-sxm5-80gb ", "h100-sxm"),  # case and whitespace only
        ("tesla\tT4", "t4"),
    ],
)
def test_each_alias_maps_to_its_catalog_id(name, gpu_id):
    assert resolve_gpu_name(name).gpu_id == gpu_id


@pytest.mark.parametrize(
    "name",
    ["H100-SXM5-80GBX", "H100 SXM5 80GB", "H100-SXM5", "NVIDIA H100 80GB HBM3e", "Tesla-T4"],
)
def test_a_near_miss_is_unknown_never_a_fuzzy_match(name):
    assert resolve_gpu_name(name).gpu_id == "unknown"


def _scrape(uuid: str, model: str) -> str:
    labels = f'gpu="0",UUID="{uuid}",Hostname="node-{uuid}",modelName="{model}"'
    return f"DCGM_FI_DEV_GPU_UTIL{{{labels}}} 40\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three captured scrapes (provenance: tests/fixtures/dcgm/README.md) and hand-made ones
    for the names the fixtures lack: one alias, and a near miss on two GPUs."""
    root = tmp_path / "telemetry"
    root.mkdir()
    for name in ("vks", "ericsson-ccd", "linode-lke"):
        shutil.copy(FIXTURES / f"{name}_dcgm_metrics.prom", root / f"{name}_{STAMP}.prom")
    (root / f"sxm5_{STAMP}.prom").write_text(_scrape("GPU-s1", "H100-SXM5-80GB"))
    near = _scrape("GPU-x1", "H100-SXM5-80GBX") + _scrape("GPU-x2", "H100-SXM5-80GBX")
    (root / f"near_{STAMP}.prom").write_text(near)
    return root


def test_unknown_names_keep_their_raw_string_and_the_warn_check_lists_them(folder, tmp_path):
    (tmp_path / "registry.yaml").write_text("deployments: []\n")
    config = tmp_path / "unitcost.yaml"
    config.write_text(
        f"duckdb_path: w.duckdb\nregistry: registry.yaml\n"
        f"sources:\n  telemetry: {{location: {folder}}}\n"
    )
    result = dg.materialize(
        [telemetry_tables],
        partition_key=DAY.isoformat(),
        resources={
            "unitcost": UnitcostConfigResource(config_path=str(config)),
            "duckdb": WarehouseResource(database=str(tmp_path / "w.duckdb")),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success  # unknown names are OK: they never block
    with connect(tmp_path / "w.duckdb", read_only=True) as con:
        types = con.execute(
            "select distinct gpu_model_name, gpu_type from raw.dcgm_samples "
            "join raw.dcgm_series using (series_id) order by 1"
        ).fetchall()
    assert types == [
        ("GRID A100-10C", "a100-40gb"),
        ("H100-SXM5-80GB", "h100-sxm"),
        ("H100-SXM5-80GBX", "unknown"),
        ("NVIDIA RTX 4000 Ada Generation", "unknown"),
        ("Tesla T4", "t4"),
    ]
    (check,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "gpu_models_known"
    ]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["unknown_model_names"].value == [
        {"model_name": "H100-SXM5-80GBX", "gpus": 2},
        {"model_name": "NVIDIA RTX 4000 Ada Generation", "gpus": 1},
    ]
    assert check.metadata["unknown_gpus"].value == 3
