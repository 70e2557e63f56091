"""The public benchmark tables as cost-model measurements, and the fixed fit / held-out split.

Two tables (``data/benchmarks/``, verbatim copies, provenance in its README):

* MLPerf Inference v5.1: Offline (saturated) results of single-node, closed-division systems
  with a stated weight precision; the system picks its own replica size, so the cost model
  does too (``tensor_parallel=None``: the throughput-best valid degree).
* NVIDIA TensorRT-LLM perf-overview: ``trtllm-bench`` maximum throughput at the stated
  TP, precision and ISL/OSL; pipeline-parallel rows are not modelled.

Every other row is excluded with a reason (``excluded_counts``), never silently dropped.

**Split rule, fixed before fitting.** A measurement belongs to its *publisher* (the MLPerf
submitter, or the publisher of a documentation table). It is held out iff the first byte of
sha256(publisher) is odd (``is_held_out``). Systems are therefore never split row by row: all
results of one submitter sit on one side.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from functools import cache

from pipelines.costmodel.catalog import DATA_DIR
from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.validation import Measurement

BENCHMARK_DIR = DATA_DIR / "benchmarks"
MLPERF_PATH = BENCHMARK_DIR / "mlperf_inference_v5.1_llm_tokens_per_s.csv"
TRTLLM_PATH = BENCHMARK_DIR / "tensorrt_llm_perf_overview_throughput.csv"
MLPERF_SOURCE = "MLPerf Inference v5.1"
TRTLLM_SOURCE = "TensorRT-LLM perf-overview"
TRTLLM_PUBLISHER = "NVIDIA TensorRT-LLM perf-overview"
MLPERF_PRECISIONS = {"fp8": "fp8", "fp4": "nvfp4", "mxfp4": "mxfp4"}
TRTLLM_PRECISIONS = {"FP8": "fp8", "FP4": "nvfp4"}
KV_CACHE_PRECISION = "fp8"  # both tables' FP8/FP4 runs keep the KV cache in FP8


def is_held_out(publisher: str) -> bool:
    """The split rule: held out iff sha256(publisher)'s first byte is odd.

    Examples
    --------
    >>> is_held_out("AMD"), is_held_out("NVIDIA")
    (True, False)
    """
    return hashlib.sha256(publisher.encode()).digest()[0] % 2 == 1


@cache
def _names() -> dict[tuple[str, str], str]:
    with (BENCHMARK_DIR / "benchmark_gpu_names.csv").open(newline="") as fh:
        return {(row["source"], row["name"]): row["gpu_id"] for row in csv.DictReader(fh)}


@cache
def _workloads() -> dict[tuple[str, str], dict[str, str]]:
    with (BENCHMARK_DIR / "benchmark_workloads.csv").open(newline="") as fh:
        return {(row["source"], row["benchmark"]): row for row in csv.DictReader(fh)}


def _usable_workload(source: str, benchmark: str) -> bool:
    workload = _workloads().get((source, benchmark))
    return workload is not None and not workload["excluded_because"]


def _engine(software: str) -> str | None:
    """The engine profile an MLPerf result's software line names (LLMBoost is vLLM-based)."""
    lowered = software.lower()
    if "tensorrt" in lowered:
        return "trtllm"
    if "sglang" in lowered:
        return "sglang"
    if "vllm" in lowered:
        return "vllm"
    return None


def _mlperf_problem(row: dict[str, str]) -> str | None:
    """Why an MLPerf row cannot be a saturated-throughput measurement of a modelled setup."""
    workload = _workloads().get(("mlperf", row["model"]))
    checks = (
        (row["scenario"] != "Offline", "Server/Interactive: latency-bound, not saturated"),
        (row["suite"] != "datacenter", "edge suite"),
        (row["nodes"] != "1", "multi-node system"),
        (bool(row["mixed_accelerators"]), "mixed accelerators"),
        (row["division"] != "closed", "open division (model or accuracy rules relaxed)"),
        (("mlperf", row["accelerator"]) not in _names(), "accelerator unknown (no catalog match)"),
        (row["weight_data_types"] not in MLPERF_PRECISIONS, "weight precision unstated/other"),
        (workload is None, "benchmark not in benchmark_workloads.csv"),
        (bool(workload and workload["excluded_because"]), (workload or {}).get("excluded_because")),
        (_engine(row["software"]) is None, "engine not modelled"),
    )
    return next((reason for failed, reason in checks if failed), None)


def _mlperf_measurement(row: dict[str, str]) -> Measurement:
    workload = _workloads()[("mlperf", row["model"])]
    output_tokens = float(re.search(r"TOKENS_PER_SAMPLE: ([0-9.]+)", row["accuracy"]).group(1))
    deployment = Deployment(
        llm_id=workload["llm_id"],
        gpu_id=_names()[("mlperf", row["accelerator"])],
        num_gpus=int(row["total_accelerators"]),
        weight_precision=MLPERF_PRECISIONS[row["weight_data_types"]],
        kv_cache_precision=KV_CACHE_PRECISION,
        engine=_engine(row["software"]),
    )
    return Measurement(
        case_id=f"mlperf-{row['result_id']}-{row['model']}",
        row=0,
        source=MLPERF_SOURCE,
        source_url=row["source_url"],
        deployment=deployment,
        concurrency=None,
        input_tokens=int(workload["input_tokens"]),
        output_tokens=round(output_tokens),
        metric="output_tokens_per_s",
        measured=float(row["tokens_per_s"]),
        note=f"{row['system']}; {row['software']}",
        publisher=row["submitter"],
    )


def _mlperf_key(row: dict[str, str]) -> tuple[str, ...]:
    """Rows equal but for the 99 / 99.9 accuracy target are one result, counted once."""
    fields = ("submitter", "system", "accelerator", "software", "scenario", "tokens_per_s")
    return (*(row[f] for f in fields), row["model"].removesuffix(".9"))


def _trtllm_problem(row: dict[str, str]) -> str | None:
    checks = (
        (row["pp"] != "1", "pipeline parallelism not modelled"),
        (("trtllm", row["gpu"]) not in _names(), "accelerator unknown (no catalog match)"),
        (row["precision"] not in TRTLLM_PRECISIONS, "weight precision unstated/other"),
        (not _usable_workload("trtllm", row["model"]), "LLM not in the catalog"),
    )
    return next((reason for failed, reason in checks if failed), None)


def _trtllm_measurement(row: dict[str, str]) -> Measurement:
    tp = int(row["tp"])
    deployment = Deployment(
        llm_id=_workloads()[("trtllm", row["model"])]["llm_id"],
        gpu_id=_names()[("trtllm", row["gpu"])],
        num_gpus=tp,
        weight_precision=TRTLLM_PRECISIONS[row["precision"]],
        kv_cache_precision=KV_CACHE_PRECISION,
        engine="trtllm-bench",
        tensor_parallel=tp,
    )
    return Measurement(
        case_id=f"trtllm-{row['model']}-{row['gpu']}-tp{tp}-{row['isl']}/{row['osl']}",
        row=0,
        source=TRTLLM_SOURCE,
        source_url=row["source_url"],
        deployment=deployment,
        concurrency=None,
        input_tokens=int(row["isl"]),
        output_tokens=int(row["osl"]),
        metric="output_tokens_per_s",
        measured=float(row["output_tokens_per_s_total"]),
        note=row["gpu_description"],
        publisher=TRTLLM_PUBLISHER,
    )


@cache
def _load() -> tuple[tuple[Measurement, ...], tuple[tuple[tuple[str, str], int], ...]]:
    kept: list[Measurement] = []
    excluded: Counter[tuple[str, str]] = Counter()
    seen: set[tuple[str, ...]] = set()
    with MLPERF_PATH.open(newline="") as fh:
        for row in csv.DictReader(fh):
            problem = _mlperf_problem(row)
            if problem is None and _mlperf_key(row) in seen:
                problem = "duplicate of the same result at the other accuracy target"
            if problem:
                excluded[(MLPERF_SOURCE, problem)] += 1
                continue
            seen.add(_mlperf_key(row))
            kept.append(_mlperf_measurement(row))
    with TRTLLM_PATH.open(newline="") as fh:
        for row in csv.DictReader(fh):
            problem = _trtllm_problem(row)
            if problem:
                excluded[(TRTLLM_SOURCE, problem)] += 1
                continue
            kept.append(_trtllm_measurement(row))
    return tuple(kept), tuple(sorted(excluded.items()))


def benchmark_measurements() -> tuple[Measurement, ...]:
    """Every usable row of both public tables, as ``Measurement``s (saturated output tok/s)."""
    return _load()[0]


def excluded_counts() -> dict[tuple[str, str], int]:
    """Rows left out, counted by (source, reason)."""
    return dict(_load()[1])
