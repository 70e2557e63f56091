"""DCGM sample rules: duplicates (case 23), impossible values (case 24), missing keys.

The rules run in DuckDB over the day's files (``load.read_day``), so each case is a folder.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from pipelines.ingest.file_ids import file_id
from pipelines.ingest.storage import list_files
from pipelines.ingest.telemetry.load import read_day

DAY = dt.date(2026, 11, 1)
TS_MS = 1793527200000  # 2026-11-01T10:00:00Z
LABELS = 'gpu="0",UUID="GPU-a",Hostname="node-a",modelName="NVIDIA L4"'


def _text(*lines: tuple[str, float]) -> str:
    return "".join(f"{metric}{{{LABELS}}} {value} {TS_MS}\n" for metric, value in lines)


@pytest.fixture
def run(tmp_path: Path):
    """Write ``(name, text)`` files into a folder and load its day: (DCGM rows, quarantine
    with file names instead of paths)."""

    def _run(*files: tuple[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
        for name, text in files:
            (tmp_path / name).write_text(text)
        day = read_day(list_files(tmp_path), DAY)
        name = pl.col("source_file").str.split("/").list.last()
        return day.dcgm, day.quarantine.with_columns(source_file=name)

    return _run


def test_an_ha_pair_scraping_identical_values_keeps_one_row(run, tmp_path):
    text = _text(("DCGM_FI_DEV_GPU_UTIL", 40), ("DCGM_FI_DEV_POWER_USAGE", 55.5))
    wide, quarantine = run(("prom-a.prom", text), ("prom-b.prom", text))
    assert quarantine.height == 0
    # The row names its file by id (ingest.file_ids), no longer by path.
    assert wide.select("gpu_util_pct", "power_w", "source_file_id").rows() == [
        (40.0, 55.5, file_id(str(tmp_path / "prom-a.prom")))
    ]


def test_conflicting_duplicates_are_quarantined_field_by_field(run):
    a = _text(("DCGM_FI_DEV_GPU_UTIL", 40), ("DCGM_FI_DEV_POWER_USAGE", 55.5))
    b = _text(("DCGM_FI_DEV_GPU_UTIL", 41), ("DCGM_FI_DEV_POWER_USAGE", 55.5))
    wide, quarantine = run(("prom-a.prom", a), ("prom-b.prom", b))
    assert wide.select("gpu_util_pct", "power_w").rows() == [(None, 55.5)]
    assert quarantine.sort("source_file").rows() == [
        ("prom-a.prom", 1, "DCGM_FI_DEV_GPU_UTIL",
         "conflicting duplicate scrape: 2 values for this GPU, field and time"),
        ("prom-b.prom", 1, "DCGM_FI_DEV_GPU_UTIL",
         "conflicting duplicate scrape: 2 values for this GPU, field and time"),
    ]  # fmt: skip


def test_impossible_values_are_quarantined_never_clipped(run):
    text = _text(
        ("DCGM_FI_DEV_GPU_UTIL", 101),
        ("DCGM_FI_PROF_SM_ACTIVE", -0.5),
        ("DCGM_FI_DEV_POWER_USAGE", float("nan")),
        ("DCGM_FI_DEV_FB_USED", float("inf")),
        ("DCGM_FI_PROF_DRAM_ACTIVE", 0.5),
    )
    wide, quarantine = run(("x.prom", text))
    assert quarantine.select("line", "column_name", "reason").rows() == [
        (1, "DCGM_FI_DEV_GPU_UTIL", "value 101.0 is above 100.0"),
        (2, "DCGM_FI_PROF_SM_ACTIVE", "value -0.5 is below 0.0"),
        (3, "DCGM_FI_DEV_POWER_USAGE", "value is NaN"),
        (4, "DCGM_FI_DEV_FB_USED", "value is inf"),
    ]
    row = wide.row(0, named=True)
    assert (row["gpu_util_pct"], row["sm_active"], row["dram_active"]) == (None, None, 0.5)


def test_samples_without_uuid_or_with_a_bad_gpu_index_are_quarantined(run):
    text = (
        f'DCGM_FI_DEV_GPU_UTIL{{gpu="0",Hostname="node-a"}} 5 {TS_MS}\n'
        f'DCGM_FI_DEV_GPU_UTIL{{gpu="x",UUID="GPU-b",Hostname="node-a"}} 5 {TS_MS}\n'
        f'DCGM_FI_DEV_GPU_UTIL{{gpu="1",UUID="GPU-c",instance="10.0.0.9:9400"}} 5 {TS_MS}\n'
    )
    wide, quarantine = run(("k.prom", text))
    assert quarantine.select("line", "column_name", "reason").rows() == [
        (1, "UUID", "missing GPU UUID label"),
        (2, "gpu", "GPU index is not an integer"),
    ]
    # No Hostname: the instance label, without its port, names the host.
    assert wide.select("host", "gpu_index").rows() == [("10.0.0.9", 1)]


def test_wide_rows_are_checked_like_long_ones(run, tmp_path):
    pl.DataFrame(
        {
            "ts": [dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)] * 2,
            "Hostname": ["n", "n"],
            "gpu": ["0", "1"],
            "UUID": ["GPU-0", "GPU-1"],
            "modelName": ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"],
            "DCGM_FI_DEV_GPU_UTIL": [50.0, 250.0],
        },
    ).write_parquet(tmp_path / "w.parquet")
    final, quarantine = run()
    assert quarantine.rows() == [("w.parquet", 2, "gpu_util_pct", "value 250.0 is above 100.0")]
    assert final.select("gpu_index", "gpu_util_pct", "gpu_type").rows() == [
        (0, 50.0, "h100-sxm"),
        (1, None, "h100-sxm"),
    ]
