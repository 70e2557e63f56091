"""The DCGM field map: exporter metric name -> warehouse column, unit and valid range.

Names come from dcgm-exporter's ``etc/default-counters.csv`` / ``dcp-metrics-included.csv``
(both field sets) and the legacy ``1.x-compatibility-metrics.csv`` names. Units are the
exporter's own: FB_* MiB, POWER_USAGE W, TOTAL_ENERGY_CONSUMPTION a counter in mJ, PROF_*
ratios 0-1, PROF_PCIE_* bytes per second. A field a scrape does not carry stays NULL.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Field:
    column: str
    dtype: type[pl.DataType] | pl.DataType
    low: float | None = 0.0  # smallest valid value (None: unbounded)
    high: float | None = None
    zero_is_null: bool = False  # DCGM reports 0 for an unsupported temperature


PCT = {"low": 0.0, "high": 100.0}
RATIO = {"low": 0.0, "high": 1.0}

FIELDS: dict[str, Field] = {
    "DCGM_FI_DEV_GPU_UTIL": Field("gpu_util_pct", pl.Float64, **PCT),
    "DCGM_FI_DEV_MEM_COPY_UTIL": Field("mem_copy_util_pct", pl.Float64, **PCT),
    "DCGM_FI_DEV_ENC_UTIL": Field("enc_util_pct", pl.Float64, **PCT),
    "DCGM_FI_DEV_DEC_UTIL": Field("dec_util_pct", pl.Float64, **PCT),
    "DCGM_FI_DEV_FB_USED": Field("fb_used_mib", pl.Int64),
    "DCGM_FI_DEV_FB_FREE": Field("fb_free_mib", pl.Int64),
    "DCGM_FI_DEV_FB_RESERVED": Field("fb_reserved_mib", pl.Int64),
    "DCGM_FI_DEV_POWER_USAGE": Field("power_w", pl.Float64),
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": Field("energy_mj", pl.Int64),
    "DCGM_FI_DEV_GPU_TEMP": Field("gpu_temp_c", pl.Float64, zero_is_null=True),
    "DCGM_FI_DEV_MEMORY_TEMP": Field("memory_temp_c", pl.Float64, zero_is_null=True),
    "DCGM_FI_DEV_SM_CLOCK": Field("sm_clock_mhz", pl.Float64),
    "DCGM_FI_DEV_MEM_CLOCK": Field("mem_clock_mhz", pl.Float64),
    "DCGM_FI_DEV_XID_ERRORS": Field("xid_errors", pl.Int64),
    "DCGM_FI_DEV_PCIE_REPLAY_COUNTER": Field("pcie_replay_count", pl.Int64),
    "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL": Field("nvlink_bandwidth_total", pl.Int64),
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": Field("gr_engine_active", pl.Float64, **RATIO),
    "DCGM_FI_PROF_SM_ACTIVE": Field("sm_active", pl.Float64, **RATIO),
    "DCGM_FI_PROF_SM_OCCUPANCY": Field("sm_occupancy", pl.Float64, **RATIO),
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": Field("tensor_active", pl.Float64, **RATIO),
    "DCGM_FI_PROF_DRAM_ACTIVE": Field("dram_active", pl.Float64, **RATIO),
    "DCGM_FI_PROF_PCIE_TX_BYTES": Field("pcie_tx_bytes_per_s", pl.Float64),
    "DCGM_FI_PROF_PCIE_RX_BYTES": Field("pcie_rx_bytes_per_s", pl.Float64),
    "DCGM_FI_PROF_NVLINK_TX_BYTES": Field("nvlink_tx_bytes_per_s", pl.Float64),
    "DCGM_FI_PROF_NVLINK_RX_BYTES": Field("nvlink_rx_bytes_per_s", pl.Float64),
}

# dcgm-exporter 1.x names. Its PCIe byte *counters* are left out on purpose: the same column
# holds the DCP field's bytes-per-second rate, and mixing the two units would be silent.
LEGACY_NAMES = {
    "dcgm_sm_clock": "DCGM_FI_DEV_SM_CLOCK",
    "dcgm_memory_clock": "DCGM_FI_DEV_MEM_CLOCK",
    "dcgm_memory_temp": "DCGM_FI_DEV_MEMORY_TEMP",
    "dcgm_gpu_temp": "DCGM_FI_DEV_GPU_TEMP",
    "dcgm_power_usage": "DCGM_FI_DEV_POWER_USAGE",
    "dcgm_total_energy_consumption": "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
    "dcgm_pcie_replay_counter": "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
    "dcgm_gpu_utilization": "DCGM_FI_DEV_GPU_UTIL",
    "dcgm_mem_copy_utilization": "DCGM_FI_DEV_MEM_COPY_UTIL",
    "dcgm_enc_utilization": "DCGM_FI_DEV_ENC_UTIL",
    "dcgm_dec_utilization": "DCGM_FI_DEV_DEC_UTIL",
    "dcgm_xid_errors": "DCGM_FI_DEV_XID_ERRORS",
    "dcgm_fb_free": "DCGM_FI_DEV_FB_FREE",
    "dcgm_fb_used": "DCGM_FI_DEV_FB_USED",
    "dcgm_nvlink_bandwidth_total": "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
    "dcgm_fi_prof_gr_engine_active": "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    "dcgm_fi_prof_pipe_tensor_active": "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
    "dcgm_fi_prof_dram_active": "DCGM_FI_PROF_DRAM_ACTIVE",
}

# Exporter metric name -> column, for every accepted spelling. prometheus-client's parser
# appends `_total` to the samples of a `# TYPE … counter` family (the captured kops scrape's
# TOTAL_ENERGY_CONSUMPTION comes out as …_CONSUMPTION_total); DCGM names never end in it.
METRIC_COLUMNS = {name: f.column for name, f in FIELDS.items()} | {
    old: FIELDS[new].column for old, new in LEGACY_NAMES.items()
}
METRIC_COLUMNS |= {f"{name}_total": column for name, column in METRIC_COLUMNS.items()}
FIELD_BY_COLUMN = {f.column: f for f in FIELDS.values()}
FIELD_COLUMNS = list(FIELD_BY_COLUMN)

# Label -> key column; the first label present wins. Old exporters spell the Kubernetes
# labels pod_name / container_name (RELIABILITY.md case 25); Hostname is the exporter's node,
# `node` and `instance` are what Prometheus relabelling usually adds.
LABELS: dict[str, tuple[str, ...]] = {
    "host": ("Hostname", "node", "host"),
    "instance": ("instance",),  # Prometheus' scrape target, host:port
    "gpu_index": ("gpu",),
    "gpu_uuid": ("UUID", "uuid"),
    "gpu_model_name": ("modelName",),
    "gpu_instance_id": ("GPU_I_ID",),
    "gpu_instance_profile": ("GPU_I_PROFILE",),
    "namespace": ("namespace", "pod_namespace"),
    "pod": ("pod", "pod_name"),
    "container": ("container", "container_name"),
    "model_name": ("model_name",),  # vLLM
    "engine": ("engine",),  # vLLM V1 engine index
    "le": ("le",),  # histogram bucket bound
}
LABEL_NAMES = {label for names in LABELS.values() for label in names}

# The exporter's own pod. Scraped through Kubernetes service discovery (with honor_labels), a
# GPU that dcgm-exporter maps to no pod keeps the scrape target's pod/namespace/container:
# dcgm-exporter's own (NVIDIA/aicr's 16-H100 query results: idle GPUs in `gpu-operator`,
# pod `nvidia-dcgm-exporter-wqqqn`). That names no workload, so the GPU is stored without one.
# The GPU operator's DaemonSet and container are `nvidia-dcgm-exporter`; the Helm chart's
# pods are `<release>-dcgm-exporter-<suffix>` (or `dcgm-exporter-<suffix>`).
EXPORTER_POD = r"(^|-)dcgm-exporter-[a-z0-9]+$"
EXPORTER_CONTAINER = r"^(nvidia-)?dcgm-exporter$"

KEY_SCHEMA = {
    "ts": pl.Datetime("us", "UTC"),
    "host": pl.String,
    "gpu_index": pl.Int32,
    "gpu_uuid": pl.String,
    "gpu_instance_id": pl.Int32,  # NULL: the whole GPU (no MIG)
}
LABEL_SCHEMA = {
    "gpu_model_name": pl.String,
    "gpu_type": pl.String,
    "gpu_instance_profile": pl.String,
    "namespace": pl.String,
    "pod": pl.String,
    "container": pl.String,
}
# A GPU's (or MIG slice's) labels as one series, stored once in ``raw.dcgm_series``: a day of
# 1,024 GPUs has ~3 M scrapes of ~1 k label sets, and writing nine label strings per scrape
# was half of what storing a scrape cost. A scrape row keeps its key (UUID, GPU_I_ID, time).
DCGM_SERIES_SCHEMA = {
    "series_id": pl.Int64,  # scrapes.SERIES_ID: a hash of the labels below
    **{c: t for c, t in KEY_SCHEMA.items() if c != "ts"},
    **LABEL_SCHEMA,
}
DCGM_SCHEMA = {
    "ts": pl.Datetime("us", "UTC"),
    "series_id": pl.Int64,  # raw.dcgm_series
    "gpu_uuid": pl.String,
    "gpu_instance_id": pl.Int32,  # NULL: the whole GPU (no MIG)
    **{f.column: f.dtype for f in FIELDS.values()},
    "source_file_id": pl.Int64,  # ingest.file_ids: the path is in raw.source_files
    "source_line": pl.Int64,
}
# A scrape with its series' labels, as raw.dcgm_samples held it before the series table (and
# as the staging model and ``load.read_day`` still present it).
DCGM_SAMPLE_COLUMNS = [*KEY_SCHEMA, *LABEL_SCHEMA, *[f.column for f in FIELDS.values()]]
DCGM_SAMPLE_COLUMNS += ["source_file_id", "source_line"]

# The long frame every reader returns: one row per sample, labels already mapped to columns.
LONG_SCHEMA = {
    "source_file": pl.String,
    "source_line": pl.Int64,
    "ts": pl.Datetime("us", "UTC"),
    "metric": pl.String,
    "value": pl.Float64,
    **{name: pl.String for name in LABELS},
}


def host_expr() -> pl.Expr:
    """The host label, else the ``instance`` label without its ``:port``."""
    return pl.coalesce("host", pl.col("instance").str.replace(r":\d+$", "")).alias("host")


# vLLM metric renames: older releases' names -> the current one, so series stay continuous.
ENGINE_RENAMES = {
    "gpu_cache_usage_perc": "kv_cache_usage_perc",
    "gpu_prefix_cache_queries_total": "prefix_cache_queries_total",
    "gpu_prefix_cache_hits_total": "prefix_cache_hits_total",
}
# A vLLM series: its labels and metric, stored once in ``raw.engine_series`` (a day of 1,024
# GPUs holds ~10 k series but ~14 M samples); a sample carries the series' id.
ENGINE_SERIES_SCHEMA = {
    "series_id": pl.Int64,  # engine_metrics.SERIES_ID: a hash of the labels below
    "host": pl.String,
    "namespace": pl.String,
    "pod": pl.String,
    "instance": pl.String,  # host:port of the vLLM server; tells replicas on one host apart
    "model_name": pl.String,
    "engine": pl.String,
    "metric": pl.String,  # without the "vllm:" prefix; histograms keep _sum and _count only
    "le": pl.Float64,  # a bucket bound; NULL on every stored series (buckets are not stored)
}
ENGINE_SCHEMA = {
    "ts": pl.Datetime("us", "UTC"),
    "series_id": pl.Int64,  # raw.engine_series
    "value": pl.Float64,
    "source_file_id": pl.Int64,
    "source_line": pl.Int64,
}
# A sample with its series' labels, as raw.engine_metric_samples held it before the series
# table (and as the staging model and ``load.read_day`` still present it).
ENGINE_SAMPLE_COLUMNS = ["ts", *[c for c in ENGINE_SERIES_SCHEMA if c != "series_id"]]
ENGINE_SAMPLE_COLUMNS += ["value", "source_file_id", "source_line"]
ENGINE_PREFIX = "vllm:"
# vLLM labels that tell apart series of one family on one server (vLLM V1:
# request_success_total{finished_reason}, prompt_tokens_by_source_total{source},
# engine_sleep_state{sleep_state}; spec-decode per-position counters). The engine table keys
# series by the LABELS columns only, so the exposition reader writes these into the metric
# name, Prometheus-style (`request_success_total{finished_reason="stop"}`); without it the
# series of a family collide as conflicting duplicates and are quarantined (a busy V1 server
# loses ~5 of its ~400 samples a scrape that way, past the day's 1 % threshold).
ENGINE_SERIES_LABELS = ("finished_reason", "source", "sleep_state", "position")
# A histogram's per-bucket series: no dbt model reads them (int_engine__hourly takes the
# _sum/_count deltas) and they are ~70 % of vLLM's samples, so they count as not_used.
BUCKET_SUFFIX = "_bucket"

_SQL_TYPES = {
    pl.String: "VARCHAR",
    pl.Int64: "BIGINT",
    pl.Int32: "INTEGER",
    pl.Float64: "DOUBLE",
    pl.Date: "DATE",
}


def sql_type(dtype: pl.DataType) -> str:
    """The DuckDB type of a raw-table column (the types ``quality.expectations`` checks)."""
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ"
    return _SQL_TYPES[dtype.base_type()]
