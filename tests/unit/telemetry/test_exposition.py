"""The exposition parser on the six real dcgm-exporter scrapes and on hand-made quirks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from pipelines.ingest.errors import SourceError
from pipelines.ingest.storage import list_files
from pipelines.ingest.telemetry.exposition import parse_exposition, time_from_name
from pipelines.ingest.telemetry.load import read_day

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dcgm"
SCRAPE_TS = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)

# (sample lines, distinct fields, modelName) per captured file, counted by hand from the files.
CAPTURED = {
    "ericsson-ccd_dcgm_metrics.prom": (20, 20, "Tesla T4"),
    "kops_dcgm_metrics.prom": (46, 23, "NVIDIA L4"),
    "linode-lke_dcgm_metrics.prom": (25, 25, "NVIDIA RTX 4000 Ada Generation"),
    "rafay_dcgm_metrics.prom": (17, 17, "Tesla T4"),
    "upcloud_dcgm_metrics.prom": (23, 23, "NVIDIA L40S"),
    "vks_dcgm_metrics.prom": (11, 11, "GRID A100-10C"),
}


def _parse(name: str, ts: dt.datetime | None = SCRAPE_TS) -> pl.DataFrame:
    return parse_exposition((FIXTURES / name).read_text(), name, ts)


def _load(folder: Path, name: str, stamped: bool = True):
    """The fixture's day through the ingest: (DCGM rows, quarantine, conflicts). A stamped
    copy's name carries the capture time (SCRAPE_TS) its samples lack."""
    target = f"{Path(name).stem}_20261101T100000Z.prom" if stamped else name
    folder.mkdir(exist_ok=True)
    (folder / target).write_text((FIXTURES / name).read_text())
    day = read_day(list_files(folder), SCRAPE_TS.date())
    conflicts = day.quarantine.filter(pl.col("reason").str.starts_with("conflicting"))
    return day.dcgm, day.quarantine, conflicts


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_every_captured_scrape_parses_with_its_labels(name):
    lines, fields, model = CAPTURED[name]
    frame = _parse(name)
    assert frame.height == lines
    assert frame["metric"].n_unique() == fields
    assert frame["gpu_model_name"].unique().to_list() == [model]
    assert frame["gpu_index"].unique().to_list() == ["0"]
    assert frame["ts"].unique().to_list() == [SCRAPE_TS]


def test_source_lines_point_at_the_sample_lines():
    text = (FIXTURES / "kops_dcgm_metrics.prom").read_text().splitlines()
    frame = _parse("kops_dcgm_metrics.prom")
    for row in frame.head(5).iter_rows(named=True):
        assert text[row["source_line"] - 1].startswith(row["metric"] + "{")


def test_kops_repeated_series_collapse_to_one_gpu_scrape(tmp_path):
    wide, quarantine, conflicts = _load(tmp_path, "kops_dcgm_metrics.prom")
    assert (quarantine.height, conflicts.height, wide.height) == (0, 0, 1)
    row = wide.row(0, named=True)
    assert (row["gpu_type"], row["fb_free_mib"], row["energy_mj"]) == ("l4", 22563, 4742776)


def test_linode_keeps_kubernetes_labels_and_empty_pod_uid_is_absent(tmp_path):
    wide, _, _ = _load(tmp_path, "linode-lke_dcgm_metrics.prom")
    row = wide.row(0, named=True)
    assert (row["namespace"], row["pod"], row["container"]) == (
        "default",
        "cuda-75454ffb9f-8ljq7",
        "cuda",
    )
    assert row["gpu_type"] == "unknown"  # RTX 4000 Ada is not in the alias table (case 19)


def test_absent_fields_are_null_and_unsupported_temperature_is_null(tmp_path):
    wide, _, _ = _load(tmp_path, "vks_dcgm_metrics.prom")
    row = wide.row(0, named=True)
    assert row["power_w"] is None and row["energy_mj"] is None  # vks has no power metrics
    assert row["memory_temp_c"] is None  # DCGM reports 0 when unsupported
    assert row["gpu_util_pct"] == 0.0  # a real 0 stays 0
    assert row["gpu_type"] == "a100-40gb"  # the vGPU alias


def test_a_scrape_without_any_capture_time_fails_naming_file_and_line():
    with pytest.raises(SourceError) as err:
        _parse("rafay_dcgm_metrics.prom", ts=None)
    assert str(err.value) == (
        "rafay_dcgm_metrics.prom:3: no capture time: the sample has no timestamp and the "
        "file name none (expected e.g. 20261101T100000Z)"
    )


def test_capture_time_from_a_scraper_file_name():
    assert time_from_name("s3://b/scrapes/node-a_20261101T100030Z.prom") == dt.datetime(
        2026, 11, 1, 10, 0, 30, tzinfo=dt.UTC
    )
    assert time_from_name("kops_dcgm_metrics.prom") is None


def test_sample_timestamps_escaped_labels_and_old_pod_label_spelling():
    text = (
        'DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-x",Hostname="n\\"1",pod_name="p-0",'
        'container_name="c"} 42 1793527230500\n'
    )
    row = parse_exposition(text, "x.prom").row(0, named=True)
    assert row["host"] == 'n"1'
    assert (row["pod"], row["container"]) == ("p-0", "c")
    assert row["ts"] == dt.datetime(2026, 11, 1, 10, 0, 30, 500_000, tzinfo=dt.UTC)


def test_a_malformed_line_fails_with_its_line_number():
    text = (
        'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-x"} 1 1793527230000\nDCGM_FI_DEV_FB_USED{gpu=0} 5\n'
    )
    with pytest.raises(SourceError) as err:
        parse_exposition(text, "bad.prom")
    assert str(err.value).startswith("bad.prom:2: not Prometheus text exposition: ")


def test_mig_slices_are_separate_rows_keyed_by_gpu_instance_id(tmp_path):
    wide, _, _ = _load(tmp_path, "mig_h100.prom", stamped=False)
    rows = wide.select("gpu_instance_id", "gpu_instance_profile", "gr_engine_active", "pod")
    assert rows.rows() == [
        (1, "3g.40gb", 0.25, "a-0"),
        (2, "3g.40gb", 0.75, "b-0"),
        (None, None, None, None),  # the parent GPU's own power sample
    ]
    assert wide["gpu_util_pct"].null_count() == 3  # GPU_UTIL is not reported under MIG
