"""The public benchmark tables as measurements, and the fixed fit / held-out split."""

import csv

import pytest

from pipelines.costmodel.accuracy import evaluation_cases, p90, split_cases
from pipelines.costmodel.benchmarks import (
    MLPERF_PATH,
    MLPERF_SOURCE,
    TRTLLM_PATH,
    TRTLLM_SOURCE,
    benchmark_measurements,
    excluded_counts,
    is_held_out,
)


def _rows(path):
    with path.open(newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))


def test_every_row_of_both_tables_is_used_or_excluded_with_a_reason():
    # 406 MLPerf + 328 TensorRT-LLM rows (SOURCES.md)
    assert (_rows(MLPERF_PATH), _rows(TRTLLM_PATH)) == (406, 328)
    used = benchmark_measurements()
    excluded = excluded_counts()
    for source, total in ((MLPERF_SOURCE, 406), (TRTLLM_SOURCE, 328)):
        kept = sum(1 for case in used if case.source == source)
        dropped = sum(n for (s, _), n in excluded.items() if s == source)
        assert kept + dropped == total


def test_the_trtllm_rows_kept_are_the_llama_rows_without_pipeline_parallelism():
    # perf-overview: Llama 3.1 8B (H100, H200), 3.3 70B (5 GPUs) and 3.1 405B (4 GPUs at PP1),
    # 10 ISL/OSL pairs each; the RTX PRO 6000's 70B PP1 row set is the only PP1 one it has
    kept = [case for case in benchmark_measurements() if case.source == TRTLLM_SOURCE]
    assert len(kept) == 110
    assert {case.deployment.llm_id for case in kept} == {
        "llama-3.1-8b",
        "llama-3.3-70b",
        "llama-3.1-405b",
    }


def test_mlperf_rows_are_saturated_single_node_closed_results_counted_once():
    kept = [case for case in benchmark_measurements() if case.source == MLPERF_SOURCE]
    assert len(kept) == 78
    excluded = excluded_counts()
    assert excluded[(MLPERF_SOURCE, "Server/Interactive: latency-bound, not saturated")] == 225
    assert excluded[(MLPERF_SOURCE, "duplicate of the same result at the other accuracy target")]
    assert all(c.concurrency is None and c.deployment.tensor_parallel is None for c in kept)


def test_an_mlperf_row_reads_its_system_throughput_and_its_own_output_length():
    # result 5.1-0001 (AMD, 8x MI300X, llama2-70b-99 Offline): 27,803.9 tokens/s,
    # TOKENS_PER_SAMPLE 301.1
    (case,) = [c for c in benchmark_measurements() if c.case_id == "mlperf-5.1-0001-llama2-70b-99"]
    assert (case.measured, case.output_tokens) == (27803.9, 301)
    assert (case.deployment.gpu_id, case.deployment.num_gpus) == ("mi300x", 8)
    assert case.deployment.weight_precision == "fp8"


@pytest.mark.parametrize(
    ("publisher", "held_out"),
    [
        # sha256 first bytes, computed by hand with hashlib: odd = held out
        ("AMD", True),
        ("Dell", True),
        ("NVIDIA", False),
        ("Supermicro", False),
        ("NVIDIA TensorRT-LLM perf-overview", False),
        ("NVIDIA NIM", True),
    ],
)
def test_the_split_rule_is_a_fixed_function_of_the_publisher(publisher, held_out):
    assert is_held_out(publisher) is held_out


def test_no_publisher_is_on_both_sides_of_the_split():
    fit, held_out = split_cases()
    assert not {c.publisher for c in fit} & {c.publisher for c in held_out}
    assert len(fit) + len(held_out) == len(evaluation_cases())


def test_costmodel_rows_that_copy_the_trtllm_table_are_counted_once():
    ids = {case.case_id for case in evaluation_cases()}
    assert not ids & {str(row) for row in range(1, 12)}
    assert {"12", "15-decode", "17a"} <= ids


def test_p90_is_the_nearest_rank_percentile():
    assert p90([5.0, 1.0, 3.0]) == 5.0
    assert p90(range(1, 21)) == 18
