"""LiteLLM spend logs and the real Azure and Mooncake traces (fixtures: tests/fixtures/requests)."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from requestlogs import FIXTURES

from pipelines.config import TraceFileConfig
from pipelines.ingest.errors import SourceError
from pipelines.ingest.requests.privacy import MIN_SALT_CHARS, SALT_ENV, salt_from_env

UTC = dt.UTC


def _copy(tmp_path, name, target=None):
    (tmp_path / "logs").mkdir(exist_ok=True)
    shutil.copy(FIXTURES / name, tmp_path / "logs" / (target or name))


def test_litellm_spend_logs_map_model_group_host_cache_and_status(tmp_path, make_loader):
    _copy(tmp_path, "litellm_spend_logs.jsonl")
    loader = make_loader("litellm", salt="k" * 16)
    frame = loader.load_day(dt.date(2026, 11, 1), loader.files()).requests
    cols = ["request_id", "model_name", "host", "input_tokens", "output_tokens", "cached_tokens"]
    assert frame.select(cols).rows() == [
        ("chatcmpl-6f1c0a52", "meta-llama/Llama-3.1-8B-Instruct", "gpu-l4-01", 1200, 90, 512),
        ("chatcmpl-7a2d1b63", "hosted_vllm/llama-70b-batch", "fd00::12", 310, 0, None),
    ]
    assert frame["status"].to_list() == ["ok", "error"]
    assert frame["ttft_ms"].to_list() == [200.0, None]
    assert frame["e2e_ms"].to_list() == [2500.0, 100.0]
    assert frame["user_hash"].null_count() == 0  # alice's user, then bob's end_user
    assert "fixture" not in str(frame.rows()) and "10.1.2.3" not in str(frame.rows())


def test_azure_trace_rows_are_utc_truncated_to_microseconds(tmp_path, make_loader):
    _copy(tmp_path, "azure_code_tail.csv")
    entry = TraceFileConfig(path="azure_*.csv", model_name="code-model", host="h1")
    loader = make_loader("azure_trace", traces=[entry])
    frame = loader.load_day(dt.date(2023, 11, 16), loader.files()).requests
    assert frame.height == 12
    first, last = frame.row(0, named=True), frame.row(11, named=True)
    assert first["request_id"] == "azure_code_tail.csv:2"  # line 1 is the header
    assert first["arrival_ts"] == dt.datetime(2023, 11, 16, 19, 14, 17, 628834, tzinfo=UTC)
    assert (first["input_tokens"], first["output_tokens"]) == (7436, 11)
    assert (last["source_line"], last["input_tokens"], last["output_tokens"]) == (13, 549, 173)
    assert (first["model_name"], first["host"], first["status"]) == ("code-model", "h1", "ok")
    assert first["cached_tokens"] is None and first["ttft_ms"] is None


def test_mooncake_offsets_count_from_the_configured_start(tmp_path, make_loader):
    _copy(tmp_path, "mooncake_conversation_head.jsonl")
    start = dt.datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    entry = TraceFileConfig(path="mooncake_*", model_name="chat", start=start)
    loader = make_loader("mooncake", traces=[entry])
    frame = loader.load_day(dt.date(2026, 11, 1), loader.files()).requests
    assert frame.height == 12
    assert frame["arrival_ts"].value_counts().sort("arrival_ts").rows() == [
        (start, 10),
        (start + dt.timedelta(seconds=3), 2),
    ]
    assert frame.sort("source_line")["input_tokens"].to_list()[:2] == [6758, 7322]


def test_mooncake_without_a_start_fails_naming_the_file(tmp_path, make_loader):
    _copy(tmp_path, "mooncake_conversation_head.jsonl")
    loader = make_loader("mooncake", traces=[TraceFileConfig(path="*", model_name="chat")])
    with pytest.raises(SourceError) as err:
        loader.load_day(dt.date(2026, 11, 1), loader.files())
    path = tmp_path / "logs" / "mooncake_conversation_head.jsonl"
    assert str(err.value) == (
        f"{path}: Mooncake timestamps are relative: set traces[].start in unitcost.yaml"
    )


def test_a_trace_file_no_entry_names_fails(tmp_path, make_loader):
    _copy(tmp_path, "azure_code_tail.csv")
    loader = make_loader("azure_trace", traces=[TraceFileConfig(path="x*", model_name="m")])
    with pytest.raises(SourceError) as err:
        loader.load_day(dt.date(2023, 11, 16), loader.files())
    assert str(err.value).endswith(
        "azure_code_tail.csv: no sources.requests.traces entry in unitcost.yaml matches this "
        "trace file"
    )


def test_a_ragged_azure_row_is_quarantined_with_its_line(tmp_path, make_loader):
    _copy(tmp_path, "azure_code_tail.csv")
    path = tmp_path / "logs" / "azure_code_tail.csv"
    rows = path.read_text().splitlines()
    rows[5] = "2023-11-16 19:14:18.5264240,1527"
    path.write_text("\n".join(rows * 1 + rows[1:] * 10) + "\n")  # 131 data rows, 11 ragged
    entry = TraceFileConfig(path="*", model_name="m")
    with pytest.raises(SourceError, match=r"11 of 132 lines are malformed \(8.33 %\)"):
        loader = make_loader("azure_trace", traces=[entry])
        loader.load_day(dt.date(2023, 11, 16), loader.files())
    path.write_text("\n".join(rows[:5] + rows[6:] * 20 + rows[5:6]) + "\n")
    loader = make_loader("azure_trace", traces=[entry])
    day = loader.load_day(dt.date(2023, 11, 16), loader.files())
    assert day.quarantine.select("line", "column_name", "reason").rows() == [
        (146, None, "expected 3 fields, got 2")
    ]


def test_salt_comes_from_the_environment_and_must_be_long(monkeypatch):
    monkeypatch.delenv(SALT_ENV, raising=False)
    assert salt_from_env() is None
    monkeypatch.setenv(SALT_ENV, "short")
    with pytest.raises(ValueError, match=f"must be at least {MIN_SALT_CHARS} characters"):
        salt_from_env()
    monkeypatch.setenv(SALT_ENV, "a-long-enough-salt")
    assert salt_from_env() == "a-long-enough-salt"


def test_mooncake_absolute_epoch_offsets_fail_naming_the_line(tmp_path, make_loader):
    # Absolute epoch milliseconds where offsets are expected put arrivals past the year 2100;
    # before, they fell into no partition without a trace (issue 12, RELIABILITY case 11).
    (tmp_path / "logs").mkdir()
    path = tmp_path / "logs" / "mooncake_abs.jsonl"
    path.write_text(
        '{"timestamp": 0, "input_length": 10, "output_length": 5}\n'
        '{"timestamp": 1793527200000, "input_length": 10, "output_length": 5}\n'
    )
    start = dt.datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    entry = TraceFileConfig(path="mooncake_*", model_name="chat", start=start)
    loader = make_loader("mooncake", traces=[entry])
    with pytest.raises(SourceError) as err:
        loader.load_day(dt.date(2026, 11, 1), loader.files())
    assert (err.value.file, err.value.line, err.value.column) == (str(path), 2, "timestamp")
    assert "not times in milliseconds" in str(err.value)
    assert "look like absolute epoch milliseconds" in str(err.value)


def test_an_invalid_utf8_byte_in_an_azure_row_quarantines_that_row_only(tmp_path, make_loader):
    """Reliability case 18 on trace CSVs: one corrupt byte costs one row, named by its line,
    not the file (it used to raise UnicodeDecodeError out of the csv reader)."""
    _copy(tmp_path, "azure_code_tail.csv")
    path = tmp_path / "logs" / "azure_code_tail.csv"
    header, *rows = path.read_bytes().splitlines()
    rows = rows * 20  # 220 rows: one bad row stays under the 1 % that fails a file
    rows[2] = rows[2].replace(b",", b"\xff,", 1)  # inside the TIMESTAMP field of line 4
    path.write_bytes(b"\n".join([header, *rows]) + b"\n")
    good = len(rows) - 1
    entry = TraceFileConfig(path="*", model_name="m")
    loader = make_loader("azure_trace", traces=[entry])
    day = loader.load_day(dt.date(2023, 11, 16), loader.files())
    assert day.quarantine.select("line", "column_name", "reason").rows() == [
        (4, "TIMESTAMP", "not valid UTF-8")
    ]
    assert day.requests.height == good
