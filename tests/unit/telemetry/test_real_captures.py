"""The MIG excerpt and the two H100 captures (tests/fixtures/dcgm, verbatim copies of
shared/data/dcgm/captured) through the telemetry ingest. Every expected value is read off the
files by hand (line numbers given); the label checks also re-read the raw text."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from pipelines.ingest.storage import list_files
from pipelines.ingest.telemetry.exposition import parse_exposition
from pipelines.ingest.telemetry.load import read_day

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dcgm"
MIG = "dcgm_a100_mig_1g.5gb_excerpt__nvidia-cloud-native-docs.prom"
H100_PROM = "dcgm_h100x8_eks_sampled__nvidia-aicr.prom"
H100_CSV = "dcgm_h100_prometheus_query_results__nvidia-aicr.csv"
DAY = dt.date(2026, 11, 1)
STAMP = "20261101T100000Z"  # the capture time a scraper puts in the name: the files have none
SCRAPE_TS = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
MIG_UUID = "GPU-34319582-d595-d1c7-d1d2-179bcfa61660"
VLLM_POD = ("dynamo-workload", "vllm-agg-0-vllmdecodeworker-s65j5", "main")


def _stamped(tmp_path: Path, name: str):
    (tmp_path / f"{Path(name).stem}_{STAMP}.prom").write_text((FIXTURES / name).read_text())
    return read_day(list_files(tmp_path), DAY)


def test_mig_excerpt_keeps_the_whole_gpu_and_its_1g5gb_instance(tmp_path):
    text = (FIXTURES / MIG).read_text()
    # the old exporter's quirks, checked on the raw text: no HELP/TYPE lines, no modelName
    assert not [line for line in text.splitlines() if line.startswith("#")]
    assert "modelName" not in text
    day = _stamped(tmp_path, MIG)
    assert day.quarantine.height == 0
    # 21 sample lines; DCGM_FI_DEV_VGPU_LICENSE_STATUS (line 11) is no field unitcost reads
    assert day.input_samples == 21
    assert sum(day.counts.not_used.values()) == 1
    assert sum(day.counts.stored.values()) == 20
    rows = day.dcgm.sort("gpu_instance_id", nulls_last=True)
    assert rows.height == 2  # the whole GPU (lines 1-17) and MIG instance 13 (lines 18-21)
    mig, whole = rows.row(0, named=True), rows.row(1, named=True)
    for row in (mig, whole):
        assert (row["host"], row["gpu_index"], row["gpu_uuid"]) == ("ub20-a100-k8s", 0, MIG_UUID)
        assert row["gpu_model_name"] is None and row["gpu_type"] == "unknown"
        assert row["ts"] == SCRAPE_TS
    # lines 18-21: GPU_I_PROFILE="1g.5gb", GPU_I_ID="13"
    assert (mig["gpu_instance_id"], mig["gpu_instance_profile"], mig["source_line"]) == (
        13,
        "1g.5gb",
        18,
    )
    assert (mig["gr_engine_active"], mig["tensor_active"], mig["dram_active"]) == (
        0.995687,
        0.930433,
        0.800339,
    )
    assert mig["xid_errors"] == 0
    assert mig["power_w"] is None and mig["fb_used_mib"] is None  # per-GPU fields only
    # lines 1-17: the parent GPU
    assert (whole["gpu_instance_id"], whole["gpu_instance_profile"]) == (None, None)
    assert (whole["sm_clock_mhz"], whole["mem_clock_mhz"]) == (1215.0, 1215.0)
    assert (whole["memory_temp_c"], whole["gpu_temp_c"]) == (69.0, 61.0)
    assert (whole["power_w"], whole["energy_mj"]) == (409.692, 319159391)
    assert (whole["fb_free_mib"], whole["fb_used_mib"]) == (35690, 4845)
    assert (whole["gr_engine_active"], whole["tensor_active"], whole["dram_active"]) == (
        0.99563,
        0.92926,
        0.690789,
    )
    assert (whole["pcie_tx_bytes_per_s"], whole["pcie_rx_bytes_per_s"]) == (33011804, 97863601)
    assert whole["gpu_util_pct"] is None  # the excerpt has no GPU_UTIL line


def test_h100_eks_lines_give_eight_gpus_and_only_gpu0_a_workload(tmp_path):
    day = _stamped(tmp_path, H100_PROM)
    assert (day.input_samples, day.quarantine.height) == (30, 0)
    rows = day.dcgm.sort("gpu_index")
    assert rows["gpu_index"].to_list() == list(range(8))
    assert rows["gpu_type"].unique().to_list() == ["h100-sxm"]  # NVIDIA H100 80GB HBM3
    workload = rows.select("namespace", "pod", "container").rows()
    assert workload == [VLLM_POD] + [(None, None, None)] * 7  # lines 1, 9, 17, 25
    # GPU_TEMP lines 1-8, POWER_USAGE 9-16, GPU_UTIL 17-24, MEM_COPY_UTIL 25-30 (GPUs 0-5)
    assert rows["gpu_temp_c"].to_list() == [30.0, 29.0, 26.0, 29.0, 28.0, 26.0, 28.0, 26.0]
    assert rows["power_w"].to_list() == [
        113.611, 68.347, 65.709, 67.316, 68.717, 65.742, 67.328, 66.997,
    ]  # fmt: skip
    assert rows["gpu_util_pct"].to_list() == [0.0] * 8  # idle zeros stay 0
    assert rows["mem_copy_util_pct"].to_list() == [0.0] * 6 + [None] * 2


def _query_results(tmp_path: Path) -> Path:
    """The CSV with its time column renamed to `timestamp`, the only change: the flattening
    named it prom_eval_unix_ts (float epoch seconds, Prometheus' eval time)."""
    text = (FIXTURES / H100_CSV).read_text()
    header, rest = text.split("\n", 1)
    assert header.split(",")[12] == "prom_eval_unix_ts"
    (tmp_path / "h100_query_results.csv").write_text(
        header.replace("prom_eval_unix_ts", "timestamp") + "\n" + rest
    )
    return tmp_path


def test_h100_query_results_do_not_attribute_idle_gpus_to_the_exporter_pod(tmp_path):
    with (FIXTURES / H100_CSV).open() as f:
        raw = list(csv.DictReader(f))
    # the trap, counted on the raw file: 60 of 64 rows carry the exporter's own pod labels
    exporter = [r for r in raw if r["pod"].startswith("nvidia-dcgm-exporter-")]
    assert (len(raw), len(exporter)) == (64, 60)
    assert {(r["namespace"], r["container"]) for r in exporter} == {
        ("gpu-operator", "nvidia-dcgm-exporter")
    }
    day = read_day(list_files(_query_results(tmp_path)), dt.date(2026, 3, 10))
    assert day.quarantine.height == 0
    # four instant queries, each its own eval time (…089.184/.444/.702/.943): 16 GPUs × 4
    rows = day.dcgm
    assert rows.height == 64
    assert rows.select("host", "gpu_index").unique().height == 16
    assert sorted(rows["host"].unique().to_list()) == ["gpu-node-1", "gpu-node-2"]
    attributed = rows.filter(pl.col("pod").is_not_null())
    # only gpu-node-1 GPU 0 (CSV lines 17, 33, 49, 65) runs a workload: the vLLM decode worker
    assert attributed.select("host", "gpu_index").unique().rows() == [("gpu-node-1", 0)]
    assert attributed.select("namespace", "pod", "container").unique().rows() == [VLLM_POD]
    assert sorted(attributed["source_line"].to_list()) == [17, 33, 49, 65]
    idle = rows.filter(pl.col("pod").is_null())
    assert idle.height == 60
    assert idle["namespace"].null_count() == idle["container"].null_count() == 60
    # values read off the file: FB_USED 74166 MiB on the worker's GPU (line 33), 0 elsewhere
    fb = rows.filter(pl.col("fb_used_mib").is_not_null())
    assert sorted(fb["fb_used_mib"].to_list()) == [0] * 15 + [74166]
    power = rows.filter((pl.col("host") == "gpu-node-2") & (pl.col("gpu_index") == 7))
    assert power["power_w"].drop_nulls().to_list() == [69.523]  # line 64
    first = rows.filter(pl.col("source_line") == 2).row(0, named=True)
    assert first["ts"] == dt.datetime(2026, 3, 10, 3, 41, 29, 184000, tzinfo=dt.UTC)


def test_a_workload_pod_named_like_no_exporter_is_kept(tmp_path):
    # The exporter is recognised by its own pod/container names, not by namespace: a
    # workload in the operator's namespace keeps its labels.
    line = (
        'DCGM_FI_DEV_GPU_UTIL{gpu="3",UUID="GPU-x",Hostname="n1",namespace="gpu-operator",'
        'pod="dcgm-exporter-tuner-7d9f",container="tuner"} 55\n'
        'DCGM_FI_DEV_GPU_UTIL{gpu="4",UUID="GPU-y",Hostname="n1",namespace="monitoring",'
        'pod="prom-dcgm-exporter-4xk2p",container="exporter"} 0\n'
    )
    (tmp_path / f"n1_{STAMP}.prom").write_text(line)
    rows = read_day(list_files(tmp_path), DAY).dcgm.sort("gpu_index")
    assert rows.select("namespace", "pod", "container").rows() == [
        ("gpu-operator", "dcgm-exporter-tuner-7d9f", "tuner"),
        (None, None, None),  # the Helm chart's `<release>-dcgm-exporter-<suffix>` pod
    ]


def test_the_fixtures_are_the_shared_files_verbatim():
    shared = Path(__file__).parents[3].parent / "shared" / "data" / "dcgm" / "captured"
    if not shared.is_dir():
        pytest.skip("../shared/data is not on this machine")
    for name in (MIG, H100_PROM, H100_CSV):
        assert (FIXTURES / name).read_bytes() == (shared / name).read_bytes(), name


CAPTURED = [
    "ericsson-ccd_dcgm_metrics.prom",
    "kops_dcgm_metrics.prom",
    "linode-lke_dcgm_metrics.prom",
    "rafay_dcgm_metrics.prom",
    "upcloud_dcgm_metrics.prom",
    "vks_dcgm_metrics.prom",
]


def test_the_six_scrapes_parse_to_the_derived_long_csv_sample_for_sample():
    # shared/data/dcgm/dcgm_captured_samples_long.csv is a second reading of the same six
    # scrapes (one row per sample line, values as written, kops' duplicates kept), made
    # without this parser: the parser must give the same samples.
    long_csv = Path(__file__).parents[3].parent / "shared/data/dcgm/dcgm_captured_samples_long.csv"
    if not long_csv.is_file():
        pytest.skip("../shared/data is not on this machine")
    with long_csv.open(newline="") as f:
        derived = list(csv.DictReader(f))
    assert len(derived) == 142  # SOURCES.md

    def key(metric, value, gpu, uuid, model, host, pod):
        return (metric, float(value), gpu, uuid, model, host or None, pod or None)

    for name in CAPTURED:
        want = sorted(
            key(
                r["metric"],
                r["value"],
                r["gpu"],
                r["UUID"],
                r["modelName"],
                r["Hostname"],
                r["pod"],
            )
            for r in derived
            if r["source_file"] == name
        )
        frame = parse_exposition((FIXTURES / name).read_text(), name, SCRAPE_TS)
        # prometheus-client appends _total to a `# TYPE … counter` family's samples; DCGM
        # names never end in it (fields.METRIC_COLUMNS)
        got = sorted(
            key(r["metric"].removesuffix("_total"), r["value"], r["gpu_index"], r["gpu_uuid"],
                r["gpu_model_name"], r["host"], r["pod"])
            for r in frame.iter_rows(named=True)
        )  # fmt: skip
        assert got == want, name
