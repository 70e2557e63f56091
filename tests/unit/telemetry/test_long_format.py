"""Long and wide CSV/Parquet exports, and vLLM engine metrics from them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from pipelines.ingest.errors import SourceError
from pipelines.ingest.storage import list_files
from pipelines.ingest.telemetry.load import read_day
from pipelines.ingest.telemetry.long_format import layout, read_long, read_wide, scan

DAY = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
NEXT = DAY + dt.timedelta(days=1)
MS = 1793527200000  # 2026-11-01T10:00:00Z


# A Prometheus API export flattened to CSV: labels as one JSON object per row.
def _labels(**labels: str) -> str:
    body = ",".join(f'""{k}"":""{v}""' for k, v in labels.items())
    return '"{' + body + '}"'


A = {"gpu": "0", "UUID": "GPU-a", "Hostname": "n1"}
LONG_CSV = "\n".join(
    [
        "timestamp,metric,labels,value",
        f"{MS},DCGM_FI_DEV_GPU_UTIL,{_labels(**A, pod='')},37",
        f"{MS},DCGM_FI_PROF_GR_ENGINE_ACTIVE,{_labels(**A)},0.37",
        f"{MS - 86_400_000},DCGM_FI_DEV_GPU_UTIL,{_labels(**A)},1",
    ]
)


def test_long_csv_with_a_json_labels_column(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_text(LONG_CSV)
    assert layout(scan(path).collect_schema()) == "long"
    frame = read_long(path, "export.csv", DAY, NEXT)
    assert frame.select("source_line", "metric", "value", "host", "gpu_uuid", "pod").rows() == [
        (2, "DCGM_FI_DEV_GPU_UTIL", 37.0, "n1", "GPU-a", None),
        (3, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", 0.37, "n1", "GPU-a", None),
    ]  # line 4 is the day before: outside the window
    assert frame["ts"].unique().to_list() == [DAY + dt.timedelta(hours=10)]


def test_epoch_seconds_where_milliseconds_are_expected_fail_the_file(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_text(
        LONG_CSV.replace(str(MS - 86_400_000), str(MS)).replace(str(MS), str(MS // 1000))
    )
    frame = pl.read_csv(path, infer_schema_length=None)
    frame.write_parquet(tmp_path / "export.parquet")
    with pytest.raises(SourceError) as err:
        read_long(tmp_path / "export.parquet", "export.parquet", DAY, NEXT)
    assert str(err.value) == (
        "export.parquet: timestamp: Int64 epochs are read as epoch ms, "
        "but values span 1793527200..1793527200"
    )


def test_wide_parquet_with_dcgm_field_columns(tmp_path: Path):
    path = tmp_path / "dmon.parquet"
    pl.DataFrame(
        {
            "timestamp": [DAY + dt.timedelta(seconds=30)],
            "Hostname": ["n1"],
            "gpu": [3],
            "UUID": ["GPU-d"],
            "DCGM_FI_DEV_GPU_UTIL": [12],
            "DCGM_FI_DEV_FB_USED": [1024],
        }
    ).write_parquet(path)
    assert layout(scan(path).collect_schema()) == "wide"
    row = read_wide(path, "dmon.parquet", DAY, NEXT).row(0, named=True)
    assert (row["source_line"], row["gpu_index"], row["gpu_util_pct"], row["fb_used_mib"]) == (
        1,
        "3",
        12.0,
        1024.0,
    )


def test_engine_metrics_rename_old_names_skip_buckets_and_quarantine_negatives(tmp_path):
    labels = {"instance": "10.0.0.5:8000", "model_name": "m", "engine": "0"}
    path = tmp_path / "vllm.parquet"
    pl.DataFrame(
        {
            "timestamp": [DAY + dt.timedelta(minutes=1)] * 5,
            "metric": [
                "vllm:gpu_cache_usage_perc",
                "vllm:prompt_tokens_total",
                "vllm:time_to_first_token_seconds_bucket",
                "vllm:time_to_first_token_seconds_bucket",
                "vllm:num_requests_running",
            ],
            "le": [None, None, "0.5", "+Inf", None],
            "value": [0.42, 1200.0, 3.0, 4.0, -1.0],
            **{k: [v] * 5 for k, v in labels.items()},
        }
    ).write_parquet(path)
    day = read_day(list_files(tmp_path), DAY.date())
    # Bucket series are no longer stored: no dbt model reads them (they are not_used).
    assert day.engine.select("host", "metric", "le", "value").rows() == [
        ("10.0.0.5", "kv_cache_usage_perc", None, 0.42),
        ("10.0.0.5", "prompt_tokens_total", None, 1200.0),
    ]
    assert day.quarantine.rows() == [
        (str(path), 5, "vllm:num_requests_running", "value -1.0 is below 0")
    ]
    assert day.counts.not_used[str(path)] == 2
