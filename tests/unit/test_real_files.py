"""Every real data file in ../shared/data (SOURCES.md) is either read by a reader and proved
by named tests, or listed as not read, with the reason. A new file there fails this test
until it is placed in one of the two lists; a named test that no longer exists fails it too.
The same inventory is the table in docs/real-data.md, checked here against it.

Copies kept in the repository (test fixtures, the cost model's packaged benchmark tables)
must equal the shared file byte for byte (the FOCUS sample once gunzipped).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not here")


@dataclass(frozen=True)
class Covered:
    reader: str
    tests: tuple[str, ...]  # "path::test_name"
    copy: str | None = None  # a copy in the repository, relative to ROOT


T_CAPT = "tests/unit/telemetry/test_real_captures.py"
T_EXPO = "tests/unit/telemetry/test_exposition.py"
T_CATS = "tests/unit/telemetry/test_dcgm_catalogues.py"
T_VLLM = "tests/unit/telemetry/test_vllm_saturation_families.py"
T_DICT = "tests/unit/billing/test_column_dictionaries.py"
T_READ = "tests/unit/billing/test_readers.py"
T_CUR1 = "tests/unit/billing/test_cur1.py"
T_SCHEMA = "tests/unit/billing/test_simulated_export_schemas.py"
T_API = "tests/unit/requests/test_real_api_logs.py"
T_TRACE = "tests/unit/requests/test_real_traces.py"
T_FORM = "tests/unit/requests/test_formats.py"
T_BENCH = "tests/unit/costmodel/test_benchmarks.py"
EXPO = "telemetry ingest, Prometheus text (ingest/telemetry/exposition.py via load.read_day)"
FIELD_MAP = "the DCGM field map (ingest/telemetry/fields.py)"
OPENAI = "requests, OpenAI-compatible JSON lines (format vllm_jsonl)"
LITELLM = "requests, LiteLLM (format litellm)"
CASSETTE = (
    f"{OPENAI}: the cassette's response bodies, as tests/fixtures/requests/"
    "openai_api_responses.jsonl"
)
CASSETTE_TESTS = (
    f"{T_API}::test_chat_and_responses_usage_with_cached_tokens",
    f"{T_API}::test_output_tokens_include_the_reasoning_tokens_as_the_apis_count_them",
    f"{T_API}::test_openrouter_billed_cost_is_in_the_file_but_not_in_the_request_table",
    f"{T_API}::test_the_fixtures_are_the_shared_files",
)
FOCUS_EXPORT = (
    "FOCUS reader's version detection and extra columns (ingest/billing/columns.py)",
    (
        f"{T_DICT}::test_real_focus_export_schemas_read_as_focus_with_providers_columns_kept_as_extra",
    ),
)

COVERED: dict[str, Covered] = {
    "benchmarks/mlperf_inference_v5.1_llm_tokens_per_s.csv": Covered(
        "cost model benchmarks (costmodel/benchmarks.py)",
        (
            f"{T_BENCH}::test_every_row_of_both_tables_is_used_or_excluded_with_a_reason",
            f"{T_BENCH}::test_mlperf_rows_are_saturated_single_node_closed_results_counted_once",
        ),
        "pipelines/costmodel/data/benchmarks/mlperf_inference_v5.1_llm_tokens_per_s.csv",
    ),
    "benchmarks/tensorrt_llm_perf_overview_throughput.csv": Covered(
        "cost model benchmarks (costmodel/benchmarks.py)",
        (
            f"{T_BENCH}::test_every_row_of_both_tables_is_used_or_excluded_with_a_reason",
            f"{T_BENCH}::test_the_trtllm_rows_kept_are_the_llama_rows_without_pipeline_parallelism",
        ),
        "pipelines/costmodel/data/benchmarks/tensorrt_llm_perf_overview_throughput.csv",
    ),
    "billing_schemas/aws_cur2_columns__cid_data_exports.csv": Covered(
        "CUR 2.0 reader's column dictionary and inputs (ingest/billing/columns.py, cur2.py)",
        (
            f"{T_DICT}::test_cur2_dictionary_is_within_aws_table_and_the_rest_is_kept_as_extra",
            f"{T_DICT}::test_every_cur2_column_the_reader_reads_has_aws_type_for_its_kind",
            f"{T_SCHEMA}::test_cur2_columns_and_types_are_aws_cur2_ones",
            f"{T_SCHEMA}::test_cur2_reader_reads_aws_cur2_columns_of_the_kinds_aws_types_them",
        ),
        "tests/fixtures/billing/schemas/aws_cur2_columns__cid_data_exports.csv",
    ),
    "billing_schemas/aws_focus_1.2_columns__cid_data_exports.csv": Covered(
        FOCUS_EXPORT[0] + "; the simulator's FOCUS writer",
        (
            *FOCUS_EXPORT[1],
            f"{T_SCHEMA}::test_focus_12_export_has_aws_focus_12_columns_in_aws_order",
        ),
        "tests/fixtures/billing/schemas/aws_focus_1.2_columns__cid_data_exports.csv",
    ),
    "billing_schemas/azure_focuscost_1.0_export_schema__finops-toolkit.json": Covered(
        FOCUS_EXPORT[0] + "; the simulator's FOCUS writer",
        (
            *FOCUS_EXPORT[1],
            f"{T_SCHEMA}::test_focus_export_holds_every_focus_column_azure_exports_with_the_same_kind",
        ),
        "tests/fixtures/billing/schemas/azure_focuscost_1.0_export_schema__finops-toolkit.json",
    ),
    "billing_schemas/azure_focuscost_1.2-preview_export_schema__finops-toolkit.json": Covered(
        *FOCUS_EXPORT
    ),
    "billing_schemas/azure_focuscost_1.2_export_schema__finops-toolkit.json": Covered(
        FOCUS_EXPORT[0] + "; the simulator's FOCUS writer",
        (
            *FOCUS_EXPORT[1],
            f"{T_SCHEMA}::test_focus_export_holds_every_focus_column_azure_exports_with_the_same_kind",
        ),
        "tests/fixtures/billing/schemas/azure_focuscost_1.2_export_schema__finops-toolkit.json",
    ),
    "cur/aws_legacy_cur1_anonymized_2023-11__focus_converters.csv": Covered(
        "billing, legacy CUR 1 (format cur1: ingest/billing/cur1.py)",
        (
            f"{T_CUR1}::test_real_cur1_export_reads_every_row_with_exact_costs_tax_and_daily_periods",
            f"{T_CUR1}::test_real_cur1_export_as_parquet_gives_the_same_line_items",
            f"{T_CUR1}::test_mapping_agrees_with_the_foundations_rules_it_implements",
        ),
        "tests/fixtures/billing/aws_legacy_cur1_2023-11.csv.gz",
    ),
    "cur/aws_legacy_cur1_to_focus_rules__focus_converters.csv": Covered(
        "the legacy CUR 1 reader's mapping, each implemented rule evaluated against it",
        (f"{T_CUR1}::test_mapping_agrees_with_the_foundations_rules_it_implements",),
        "tests/fixtures/billing/aws_legacy_cur1_to_focus_rules.csv",
    ),
    "dcgm/captured/dcgm_a100_mig_1g.5gb_excerpt__nvidia-cloud-native-docs.prom": Covered(
        EXPO,
        (f"{T_CAPT}::test_mig_excerpt_keeps_the_whole_gpu_and_its_1g5gb_instance",),
        "tests/fixtures/dcgm/dcgm_a100_mig_1g.5gb_excerpt__nvidia-cloud-native-docs.prom",
    ),
    "dcgm/captured/dcgm_h100_prometheus_query_results__nvidia-aicr.csv": Covered(
        "telemetry ingest, long CSV (ingest/telemetry/long_format.py via load.read_day)",
        (f"{T_CAPT}::test_h100_query_results_do_not_attribute_idle_gpus_to_the_exporter_pod",),
        "tests/fixtures/dcgm/dcgm_h100_prometheus_query_results__nvidia-aicr.csv",
    ),
    "dcgm/captured/dcgm_h100x8_eks_sampled__nvidia-aicr.prom": Covered(
        EXPO,
        (f"{T_CAPT}::test_h100_eks_lines_give_eight_gpus_and_only_gpu0_a_workload",),
        "tests/fixtures/dcgm/dcgm_h100x8_eks_sampled__nvidia-aicr.prom",
    ),
    **{
        f"dcgm/captured/{name}_dcgm_metrics.prom": Covered(
            EXPO,
            (
                f"{T_EXPO}::test_every_captured_scrape_parses_with_its_labels",
                f"{T_CAPT}::test_the_six_scrapes_parse_to_the_derived_long_csv_sample_for_sample",
                *extra,
            ),
            f"tests/fixtures/dcgm/{name}_dcgm_metrics.prom",
        )
        for name, extra in {
            "ericsson-ccd": (),
            "kops": (f"{T_EXPO}::test_kops_repeated_series_collapse_to_one_gpu_scrape",),
            "linode-lke": (
                f"{T_EXPO}::test_linode_keeps_kubernetes_labels_and_empty_pod_uid_is_absent",
            ),
            "rafay": (
                f"{T_EXPO}::test_a_scrape_without_any_capture_time_fails_naming_file_and_line",
            ),
            "upcloud": (),
            "vks": (f"{T_EXPO}::test_absent_fields_are_null_and_unsupported_temperature_is_null",),
        }.items()
    },
    **{
        f"dcgm/dcgm-exporter_{name}.csv": Covered(
            FIELD_MAP,
            (
                f"{T_CATS}::test_every_enabled_field_is_read_or_left_out_for_a_reason",
                f"{T_CATS}::test_the_help_texts_unit_is_the_columns_unit",
            ),
            f"tests/fixtures/dcgm/exporter_etc/dcgm-exporter_{name}.csv",
        )
        for name in ("default-counters", "dcp-metrics-included", "1.x-compatibility-metrics")
    },
    "dcgm/dcgm_captured_samples_long.csv": Covered(
        "a second reading of the six scrapes, compared with the exposition parser's",
        (f"{T_CAPT}::test_the_six_scrapes_parse_to_the_derived_long_csv_sample_for_sample",),
    ),
    "focus/focus_1.0_sample_1000.csv": Covered(
        "FOCUS reader (ingest/billing/focus.py)",
        (
            f"{T_READ}::test_real_focus_sample_loads_with_its_cost_sums_unchanged",
            f"{T_READ}::test_real_focus_sample_keeps_negative_costs_and_recognises_gpu_instances",
            f"{T_READ}::test_focus_sample_as_parquet_gives_the_same_sums",
        ),
        "tests/fixtures/billing/focus_1.0_sample_1000.csv.gz",
    ),
    "focus/focus_spec_columns.csv": Covered(
        "FOCUS reader's column dictionary (ingest/billing/data/focus_columns.csv)",
        (f"{T_DICT}::test_focus_dictionary_is_the_specs_columns_for_every_version_read",),
        "tests/fixtures/billing/focus_spec_columns.csv",
    ),
    "llm_traces/AzureLLMInferenceTrace_code_2023.csv": Covered(
        "requests, Azure trace (format azure_trace)",
        (
            f"{T_TRACE}::test_whole_azure_trace",
            f"{T_FORM}::test_azure_trace_rows_are_utc_truncated_to_microseconds",
        ),
    ),
    "llm_traces/AzureLLMInferenceTrace_conv_2023.csv": Covered(
        "requests, Azure trace (format azure_trace)", (f"{T_TRACE}::test_whole_azure_trace",)
    ),
    "llm_traces/mooncake_conversation_trace.jsonl": Covered(
        "requests, Mooncake trace (format mooncake)",
        (
            f"{T_TRACE}::test_whole_mooncake_trace",
            f"{T_FORM}::test_mooncake_offsets_count_from_the_configured_start",
        ),
    ),
    "llm_traces/mooncake_synthetic_trace.jsonl": Covered(
        "requests, Mooncake trace (format mooncake)", (f"{T_TRACE}::test_whole_mooncake_trace",)
    ),
    "models/model_architectures.csv": Covered(
        "the cost model's LLM catalog (costmodel/catalog.py, architecture.py)",
        (
            "tests/unit/costmodel/test_architecture_real_file.py::"
            "test_every_model_of_the_file_is_in_the_catalog_with_its_config_and_parameter_count",
        ),
    ),
    "request_logs/litellm_spend_logs_payload__litellm-tests.json": Covered(
        LITELLM,
        (
            f"{T_API}::test_litellm_spend_log_payload_verbatim",
            "tests/unit/requests/test_tenants.py::test_litellm_team_from_the_real_spend_log_shape",
        ),
        "tests/fixtures/requests/litellm_spend_logs_payload__litellm-tests.json",
    ),
    "request_logs/litellm_standard_logging_payload__litellm-tests.json": Covered(
        LITELLM,
        (f"{T_API}::test_litellm_standard_logging_payload",),
        "tests/fixtures/requests/litellm_standard_logging_payload__litellm-tests.json",
    ),
    "request_logs/pydantic-ai_cassette_test_openai_chat_prompt_cache_e2e.yaml": Covered(
        CASSETTE, CASSETTE_TESTS
    ),
    "request_logs/pydantic-ai_cassette_test_openai_responses_prompt_cache_e2e.yaml": Covered(
        CASSETTE, CASSETTE_TESTS
    ),
    "request_logs/pydantic-ai_cassette_test_openrouter_responses_prompt_cache_e2e.yaml": Covered(
        CASSETTE, CASSETTE_TESTS
    ),
    "vllm/vllm_v1_qwen2.5-0.5b_idle_metrics__k8s-ai-conformance_kops.prom": Covered(
        f"{EXPO}, vLLM engine metrics (ingest/telemetry/engine_metrics.py)",
        (
            f"{T_VLLM}::test_every_vllm_family_of_the_real_scrape_is_stored_and_idle_zeros_stay_zero",
            f"{T_VLLM}::test_series_told_apart_by_a_vllm_label_are_kept_apart",
            f"{T_VLLM}::test_the_saturation_families_of_a_real_scrape_are_stored",
        ),
        "tests/fixtures/vllm/vllm_v1_qwen2.5-0.5b_idle_metrics__k8s-ai-conformance_kops.prom",
    ),
}

NOT_READ: dict[str, str] = {
    "SOURCES.md": "the provenance notes of this folder, not data",
    "billing_schemas/azure_FocusCost_1.0_dataset_metadata__finops-toolkit.json": (
        "Microsoft's column descriptions for its FOCUS export: prose, no rows; the columns "
        "themselves are tested through the export schema"
    ),
    "billing_schemas/azure_FocusCost_1.2-preview_dataset_metadata__finops-toolkit.json": (
        "Microsoft's column descriptions for its FOCUS export: prose, no rows; the columns "
        "themselves are tested through the export schema"
    ),
}


def _shared_files() -> set[str]:
    return {str(p.relative_to(SHARED)) for p in SHARED.rglob("*") if p.is_file()}


def test_every_shared_file_is_covered_or_listed_as_not_read():
    files = _shared_files()
    assert not set(COVERED) & set(NOT_READ)
    unplaced = files - set(COVERED) - set(NOT_READ)
    assert not unplaced, f"place these in COVERED or NOT_READ: {sorted(unplaced)}"
    stale = (set(COVERED) | set(NOT_READ)) - files
    assert not stale, f"no longer in ../shared/data: {sorted(stale)}"


def test_every_named_test_exists_in_this_branch():
    for path, covered in sorted(COVERED.items()):
        assert covered.tests, path
        for test in covered.tests:
            file, name = test.split("::")
            source = (ROOT / file).read_text()
            assert re.search(rf"^def {re.escape(name)}\(", source, re.M), (path, test)


def test_copies_in_the_repository_equal_the_shared_files():
    copies = {p: c.copy for p, c in COVERED.items() if c.copy}
    assert len(copies) == 25
    for path, copy in copies.items():
        data = (ROOT / copy).read_bytes()
        if copy.endswith(".gz"):
            data = gzip.decompress(data)
        assert data == (SHARED / path).read_bytes(), copy


def test_docs_real_data_lists_every_file_with_its_tests():
    doc = (ROOT / "docs" / "real-data.md").read_text()
    rows = {line.split("|")[1].strip().strip("`"): line for line in doc.splitlines()
            if line.startswith("| `")}  # fmt: skip
    assert set(rows) == set(COVERED) | set(NOT_READ)
    for path, covered in COVERED.items():
        for test in covered.tests:
            assert test.split("::")[-1].split(" (")[0] in rows[path], (path, test)
