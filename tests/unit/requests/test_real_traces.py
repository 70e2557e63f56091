"""The four whole public traces in ../shared/data/llm_traces through the trace readers
(``azure_trace``, ``mooncake``). Too large to copy into tests/fixtures (0.3-3 MB each; the
fixtures hold a head and a tail, test_formats.py): skipped when ../shared is absent.

Every request must be stored: the count and the token sums are re-read from the raw file with
the csv/json modules, and the means are SOURCES.md's, measured there independently.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from requestlogs import LIMITS

from pipelines.config import TraceFileConfig

UTC = dt.UTC
TRACES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "llm_traces"
pytestmark = pytest.mark.skipif(not TRACES.is_dir(), reason="../shared/data is not here")


def _load(tmp_path, make_loader, fmt, name, day, **entry):
    (tmp_path / "logs").mkdir()
    shutil.copy(TRACES / name, tmp_path / "logs" / name)
    loader = make_loader(fmt, traces=[TraceFileConfig(path=name, model_name="m", **entry)])
    loaded = loader.load_day(day, loader.files())
    return loaded.requests, loaded.quarantine


@pytest.mark.parametrize(
    ("name", "rows", "mean_in", "mean_out", "first", "last"),
    [
        # SOURCES.md: rows, span, mean context / generated tokens
        ("AzureLLMInferenceTrace_code_2023.csv", 8819, 2047.8, 27.9, "18:17:03", "19:14:19"),
        ("AzureLLMInferenceTrace_conv_2023.csv", 19366, 1154.7, 211.1, "18:15:46", "19:14:08"),
    ],
)
def test_whole_azure_trace(tmp_path, make_loader, name, rows, mean_in, mean_out, first, last):
    with (TRACES / name).open(newline="") as f:
        raw = list(csv.DictReader(f))
    frame, quarantine = _load(tmp_path, make_loader, "azure_trace", name, dt.date(2023, 11, 16))
    assert quarantine.height == 0
    assert frame.height == len(raw) == rows
    assert frame["input_tokens"].sum() == sum(int(r["ContextTokens"]) for r in raw)
    assert frame["output_tokens"].sum() == sum(int(r["GeneratedTokens"]) for r in raw)
    assert round(frame["input_tokens"].mean(), 1) == mean_in
    assert round(frame["output_tokens"].mean(), 1) == mean_out
    # zone-less, 7 fractional digits: UTC, truncated to whole µs
    assert frame["arrival_ts"].min().strftime("%H:%M:%S") == first
    assert frame["arrival_ts"].max().strftime("%H:%M:%S") == last
    head = raw[0]["TIMESTAMP"]  # e.g. 2023-11-16 18:15:46.6805900
    stamp = dt.datetime.strptime(head[:26], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    assert frame.filter(frame["source_line"] == 2)["arrival_ts"].item() == stamp


@pytest.mark.parametrize(
    ("name", "rows", "mean_in", "mean_out", "last_ms"),
    [
        ("mooncake_conversation_trace.jsonl", 12031, 12035, (342.6, 1), 3536999),
        ("mooncake_synthetic_trace.jsonl", 3993, 15325, (149, 0), 1022025),
    ],
)
def test_whole_mooncake_trace(tmp_path, make_loader, name, rows, mean_in, mean_out, last_ms):
    raw = [json.loads(line) for line in (TRACES / name).read_text().splitlines()]
    assert len(raw) == rows
    assert round(sum(r["input_length"] for r in raw) / rows, 0) == mean_in  # SOURCES.md
    figure, digits = mean_out  # SOURCES.md gives it to this many decimals
    assert round(sum(r["output_length"] for r in raw) / rows, digits) == figure
    start = dt.datetime(2026, 11, 1, 9, tzinfo=UTC)
    frame, quarantine = _load(tmp_path, make_loader, "mooncake", name, start.date(), start=start)
    # The synthetic trace has 10 prompts longer than any context the test's loader knows
    # (LIMITS: 131,072 tokens): quarantined, line by line; the conversation trace none.
    limit = LIMITS[1]
    over = [n for n, r in enumerate(raw, 1) if r["input_length"] + r["output_length"] > limit]
    assert len(over) == {"mooncake_conversation_trace.jsonl": 0}.get(name, 10)
    assert quarantine["line"].to_list() == over
    assert set(quarantine["reason"].str.slice(0, 26)) <= {"prompt + completion tokens"}
    kept = [r for n, r in enumerate(raw, 1) if n not in set(over)]
    assert frame.height == len(kept) == rows - len(over)
    assert frame["input_tokens"].sum() == sum(r["input_length"] for r in kept)
    assert frame["output_tokens"].sum() == sum(r["output_length"] for r in kept)
    assert frame["arrival_ts"].min() == start  # offset 0
    assert frame["arrival_ts"].max() == start + dt.timedelta(milliseconds=last_ms)
    assert frame["cached_tokens"].null_count() == frame.height  # hash_ids measure no cache
