"""DCGM sample rules: duplicates (case 23), impossible values (case 24), missing keys."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.ingest.telemetry import samples, scrapes
from pipelines.ingest.telemetry.exposition import parse_exposition
from pipelines.ingest.telemetry.fields import LONG_SCHEMA

TS_MS = 1793527200000  # 2026-11-01T10:00:00Z
LABELS = 'gpu="0",UUID="GPU-a",Hostname="node-a",modelName="NVIDIA L4"'


def _text(*lines: tuple[str, float]) -> str:
    return "".join(f"{metric}{{{LABELS}}} {value} {TS_MS}\n" for metric, value in lines)


def _run(*files: tuple[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    long = pl.concat([parse_exposition(text, name) for name, text in files])
    checked, bad = samples.prepare_long(long)
    wide, conflicts = scrapes.combine(checked, [])
    return wide, pl.concat([bad, conflicts]).select(samples.STORED_QUARANTINE_COLUMNS)


def test_an_ha_pair_scraping_identical_values_keeps_one_row():
    text = _text(("DCGM_FI_DEV_GPU_UTIL", 40), ("DCGM_FI_DEV_POWER_USAGE", 55.5))
    wide, quarantine = _run(("prom-a.prom", text), ("prom-b.prom", text))
    assert quarantine.height == 0
    assert wide.select("gpu_util_pct", "power_w", "source_file").rows() == [
        (40.0, 55.5, "prom-a.prom")
    ]


def test_conflicting_duplicates_are_quarantined_field_by_field():
    a = _text(("DCGM_FI_DEV_GPU_UTIL", 40), ("DCGM_FI_DEV_POWER_USAGE", 55.5))
    b = _text(("DCGM_FI_DEV_GPU_UTIL", 41), ("DCGM_FI_DEV_POWER_USAGE", 55.5))
    wide, quarantine = _run(("prom-a.prom", a), ("prom-b.prom", b))
    assert wide.select("gpu_util_pct", "power_w").rows() == [(None, 55.5)]
    assert quarantine.sort("source_file").rows() == [
        ("prom-a.prom", 1, "DCGM_FI_DEV_GPU_UTIL",
         "conflicting duplicate scrape: 2 values for this GPU, field and time"),
        ("prom-b.prom", 1, "DCGM_FI_DEV_GPU_UTIL",
         "conflicting duplicate scrape: 2 values for this GPU, field and time"),
    ]  # fmt: skip


def test_impossible_values_are_quarantined_never_clipped():
    text = _text(
        ("DCGM_FI_DEV_GPU_UTIL", 101),
        ("DCGM_FI_PROF_SM_ACTIVE", -0.5),
        ("DCGM_FI_DEV_POWER_USAGE", float("nan")),
        ("DCGM_FI_DEV_FB_USED", float("inf")),
        ("DCGM_FI_PROF_DRAM_ACTIVE", 0.5),
    )
    wide, quarantine = _run(("x.prom", text))
    assert quarantine.select("line", "column_name", "reason").rows() == [
        (1, "DCGM_FI_DEV_GPU_UTIL", "value 101.0 is above 100.0"),
        (2, "DCGM_FI_PROF_SM_ACTIVE", "value -0.5 is below 0.0"),
        (3, "DCGM_FI_DEV_POWER_USAGE", "value is NaN"),
        (4, "DCGM_FI_DEV_FB_USED", "value is inf"),
    ]
    row = wide.row(0, named=True)
    assert (row["gpu_util_pct"], row["sm_active"], row["dram_active"]) == (None, None, 0.5)


def test_samples_without_uuid_or_with_a_bad_gpu_index_are_quarantined():
    text = (
        f'DCGM_FI_DEV_GPU_UTIL{{gpu="0",Hostname="node-a"}} 5 {TS_MS}\n'
        f'DCGM_FI_DEV_GPU_UTIL{{gpu="x",UUID="GPU-b",Hostname="node-a"}} 5 {TS_MS}\n'
        f'DCGM_FI_DEV_GPU_UTIL{{gpu="1",UUID="GPU-c",instance="10.0.0.9:9400"}} 5 {TS_MS}\n'
    )
    wide, quarantine = _run(("k.prom", text))
    assert quarantine.select("line", "column_name", "reason").rows() == [
        (1, "UUID", "missing GPU UUID label"),
        (2, "gpu", "GPU index is not an integer"),
    ]
    # No Hostname: the instance label, without its port, names the host.
    assert wide.select("host", "gpu_index").rows() == [("10.0.0.9", 1)]


def test_wide_rows_are_checked_like_long_ones():
    wide = pl.DataFrame(
        {
            "source_file": ["w.parquet"] * 2,
            "source_line": [1, 2],
            "ts": [dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)] * 2,
            "host": ["n", "n"],
            "instance": [None, None],
            "gpu_index": ["0", "1"],
            "gpu_uuid": ["GPU-0", "GPU-1"],
            "gpu_instance_id": [None, None],
            "gpu_model_name": ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"],
            "gpu_util_pct": [50.0, 250.0],
        },
        schema_overrides={"gpu_instance_id": pl.String, "instance": pl.String},
    )
    rows, quarantine = samples.prepare_wide(wide)
    empty_long, _ = samples.prepare_long(pl.DataFrame(schema=LONG_SCHEMA))
    final, _ = scrapes.combine(empty_long, [rows])
    assert quarantine.select(samples.STORED_QUARANTINE_COLUMNS).rows() == [
        ("w.parquet", 2, "gpu_util_pct", "value 250.0 is above 100.0")
    ]
    assert final.select("gpu_index", "gpu_util_pct", "gpu_type").rows() == [
        (0, 50.0, "h100-sxm"),
        (1, None, "h100-sxm"),
    ]
