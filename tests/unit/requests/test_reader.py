"""The JSON-lines reader: allow-listed fields only, our own line numbers, exact reasons."""

from __future__ import annotations

import pytest
from requestlogs import record, write_lines

from pipelines.ingest.errors import SourceError
from pipelines.ingest.requests.fields import VLLM_JSONL, duckdb_columns
from pipelines.ingest.requests.reader import careful, read_jsonl


def test_allow_list_reads_nested_usage_and_never_a_text_field():
    columns = duckdb_columns(VLLM_JSONL)
    assert columns["usage"] == (
        'STRUCT("prompt_tokens" BIGINT, "completion_tokens" BIGINT, '
        '"prompt_tokens_details" STRUCT("cached_tokens" BIGINT), '
        # the Responses API's names (OpenAI /v1/responses, OpenRouter)
        '"input_tokens" BIGINT, "output_tokens" BIGINT, '
        '"input_tokens_details" STRUCT("cached_tokens" BIGINT))'
    )
    assert not {"messages", "prompt", "choices", "response", "error"} & set(columns)
    assert not {"output", "instructions", "input"} & set(columns)  # Responses API text


def test_clean_gzip_file_takes_the_fast_path_with_line_numbers(tmp_path):
    path = write_lines(tmp_path / "a.jsonl.gz", [record(i) for i in range(3)])
    flat = read_jsonl(path, VLLM_JSONL, "a")
    assert flat.bad == [] and flat.lines == 3
    assert flat.frame["source_line"].to_list() == [1, 2, 3]
    assert flat.frame["prompt_tokens"].to_list() == [100, 100, 100]
    assert flat.frame["cached_tokens"].to_list() == [40, 40, 40]
    assert "messages" not in flat.frame.columns


def test_malformed_lines_are_counted_by_us_and_blank_lines_skipped(tmp_path):
    lines = [record(0), "", '{"id": "req-1", "model": ', record(2), "[1, 2]", record(4)]
    path = write_lines(tmp_path / "b.jsonl", lines)
    flat = read_jsonl(path, VLLM_JSONL, "b.jsonl")
    assert flat.lines == 5  # the blank line is not a record
    assert flat.frame["source_line"].to_list() == [1, 4, 6]
    assert [(q.line, q.column_name, q.reason) for q in flat.bad] == [
        (3, None, "malformed JSON: Expecting value"),
        (5, None, "not a JSON object"),
    ]


@pytest.mark.parametrize(
    ("change", "column", "reason"),
    [
        ({"usage": {"prompt_tokens": "x"}}, "usage.prompt_tokens", "expected an integer, got str"),
        ({"model": [{"content": "text"}]}, "model", "expected a string, got list"),
        ({"usage": [1]}, "usage", "usage is not a JSON object"),
        ({"status_code": 2**70}, "status_code", "expected an integer, got int"),
    ],
)
def test_wrong_types_name_the_field_and_the_type_never_the_value(tmp_path, change, column, reason):
    path = write_lines(tmp_path / "c.jsonl", [record(0), record(1, **change)])
    flat = read_jsonl(path, VLLM_JSONL, "c.jsonl")
    assert [(q.line, q.column_name, q.reason) for q in flat.bad] == [(2, column, reason)]


def test_truncated_gzip_fails_the_file_naming_it(tmp_path):
    path = write_lines(tmp_path / "d.jsonl.gz", [record(i) for i in range(50)])
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(SourceError) as err:
        read_jsonl(path, VLLM_JSONL, "logs/d.jsonl.gz")
    assert str(err.value) == "logs/d.jsonl.gz: cannot read: EOFError"


def test_careful_and_fast_paths_agree_on_a_clean_file(tmp_path):
    path = write_lines(tmp_path / "g.jsonl", [record(i) for i in range(4)])
    assert careful(path, VLLM_JSONL, "g").frame.equals(read_jsonl(path, VLLM_JSONL, "g").frame)


def test_careful_path_rejects_a_boolean_token_count(tmp_path):
    # DuckDB's fast path would cast true to 1: this file has a malformed line, so it is read
    # carefully, and there a boolean is never a count.
    lines = [record(0, usage={"prompt_tokens": True}), "{"]
    flat = read_jsonl(write_lines(tmp_path / "h.jsonl", lines), VLLM_JSONL, "h")
    assert [(q.line, q.column_name, q.reason) for q in flat.bad] == [
        (1, "usage.prompt_tokens", "expected an integer, got bool"),
        (2, None, "malformed JSON: Expecting property name enclosed in double quotes"),
    ]
