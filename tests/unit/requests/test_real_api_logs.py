"""Recorded real API responses and LiteLLM's real payload shapes through the request readers.

* ``openai_api_responses.jsonl``: the six response bodies of the pydantic-ai cassettes
  (OpenAI Chat Completions ×2, OpenAI Responses ×2, OpenRouter Responses ×2), one per line, as
  a gateway that logs the API's response body writes them. They go through the
  OpenAI-compatible reader (``vllm_jsonl``), which also takes the Responses API's ``usage``
  names (``input_tokens``, ``output_tokens``, ``input_tokens_details.cached_tokens``) and
  ``created_at``. Reasoning tokens are part of the output tokens in both APIs; OpenRouter's
  billed ``usage.cost`` is an API bill and is not read.
* The LiteLLM SpendLogs payload (verbatim) and its StandardLoggingPayload (request id in
  ``id``, ``metadata`` an object) through the ``litellm`` reader.

Expected values are read off the files by hand; the token checks also re-read the raw JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from requestlogs import FIXTURES

UTC = dt.UTC
API = "openai_api_responses.jsonl"
SLP = "litellm_standard_logging_payload__litellm-tests.json"
SPEND = "litellm_spend_logs_payload__litellm-tests.json"
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "request_logs"
CASSETTES = [
    "pydantic-ai_cassette_test_openai_chat_prompt_cache_e2e.yaml",
    "pydantic-ai_cassette_test_openai_responses_prompt_cache_e2e.yaml",
    "pydantic-ai_cassette_test_openrouter_responses_prompt_cache_e2e.yaml",
]


def _copy(tmp_path: Path, name: str, text: str | None = None) -> None:
    (tmp_path / "logs").mkdir(exist_ok=True)
    if text is None:
        shutil.copy(FIXTURES / name, tmp_path / "logs" / name)
    else:
        (tmp_path / "logs" / name).write_text(text)


def _api_rows(tmp_path, make_loader):
    _copy(tmp_path, API)
    loader = make_loader("vllm_jsonl")
    days = [
        loader.load_day(d, loader.files()) for d in (dt.date(2026, 7, 15), dt.date(2026, 7, 17))
    ]
    assert [d.quarantine.height for d in days] == [0, 0]
    return [r for d in days for r in d.requests.sort("source_line").iter_rows(named=True)]


def test_chat_and_responses_usage_with_cached_tokens(tmp_path, make_loader):
    rows = _api_rows(tmp_path, make_loader)
    got = [
        (
            r["source_line"],
            r["model_name"],
            r["input_tokens"],
            r["output_tokens"],
            r["cached_tokens"],
        )
        for r in rows
    ]
    # the same 4,020-token prompt, first uncached, then with 4,012 cached tokens
    assert got == [
        (1, "gpt-5.6-sol", 4020, 4, 0),  # chat: usage.prompt_tokens_details.cached_tokens
        (2, "gpt-5.6-sol", 4020, 4, 4012),
        (3, "gpt-5.6-sol", 4020, 5, 0),  # responses: usage.input_tokens_details.cached_tokens
        (4, "gpt-5.6-sol", 4020, 5, 4012),
        (5, "openai/gpt-5.6-sol", 4020, 5, 0),  # OpenRouter's Responses API
        (6, "openai/gpt-5.6-sol", 4020, 5, 4012),
    ]
    assert [r["request_id"] for r in rows][::2] == [
        "chatcmpl-E1mBLGr3Ql1FsH8cdc76XdGw3PleH",
        "resp_026af6d29369608b006a5716618c60819bac3694425c3ff9d8",
        "gen-1784286312-3R0SU4Mb8ucOpEJ79d2o",
    ]
    # created 1784092247 (chat) and created_at 1784092257 / 1784286312: epoch seconds
    assert rows[0]["arrival_ts"] == dt.datetime(2026, 7, 15, 5, 10, 47, tzinfo=UTC)
    assert rows[2]["arrival_ts"] == dt.datetime(2026, 7, 15, 5, 10, 57, tzinfo=UTC)
    assert rows[4]["arrival_ts"] == dt.datetime(2026, 7, 17, 11, 5, 12, tzinfo=UTC)
    # Chat Completions bodies carry no status; Responses say "completed"
    assert [r["status"] for r in rows] == ["unknown"] * 2 + ["ok"] * 4
    assert not any(r["usage_missing"] for r in rows)
    assert '"OK"' not in json.dumps([str(r) for r in rows])  # the completion text is not kept


def test_output_tokens_include_the_reasoning_tokens_as_the_apis_count_them(tmp_path, make_loader):
    rows = _api_rows(tmp_path, make_loader)
    raw = [json.loads(line) for line in (FIXTURES / API).read_text().splitlines()]
    for row, body in zip(rows, raw, strict=True):
        usage = body["usage"]
        details = usage.get("completion_tokens_details") or usage["output_tokens_details"]
        output = usage.get("completion_tokens", usage.get("output_tokens"))
        assert details["reasoning_tokens"] == 0  # recorded with reasoning off: 0 in all six
        assert row["output_tokens"] == output
        assert usage["total_tokens"] == row["input_tokens"] + row["output_tokens"]


def test_openrouter_billed_cost_is_in_the_file_but_not_in_the_request_table(tmp_path, make_loader):
    raw = [json.loads(line) for line in (FIXTURES / API).read_text().splitlines()]
    assert [b["usage"].get("cost") for b in raw] == [None] * 4 + [0.025265, 0.002196]
    rows = _api_rows(tmp_path, make_loader)
    assert not [c for c in rows[0] if "cost" in c or "usd" in c]


def test_the_fixtures_are_the_shared_files():
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not on this machine")
    bodies = [
        interaction["response"]["parsed_body"]
        for name in CASSETTES
        for interaction in yaml.safe_load((SHARED / name).read_text())["interactions"]
    ]
    lines = (FIXTURES / API).read_text().splitlines()
    assert [json.loads(line) for line in lines] == bodies
    for name in (SLP, SPEND):  # verbatim copies
        assert (FIXTURES / name).read_bytes() == (SHARED / name).read_bytes()


def test_litellm_spend_log_payload_verbatim(tmp_path, make_loader):
    payload = json.loads((FIXTURES / SPEND).read_text())
    assert isinstance(payload["metadata"], str)  # the quirk: metadata is JSON text
    _copy(tmp_path, "spend.jsonl", json.dumps(payload) + "\n")
    loader = make_loader("litellm")
    day = loader.load_day(dt.date(2025, 1, 24), loader.files())
    assert day.quarantine.height == 0
    row = day.requests.row(0, named=True)
    assert row["request_id"] == "chatcmpl-2283081b-dc89-41f6-93e6-d4f914774027"
    assert (row["model_name"], row["input_tokens"], row["output_tokens"]) == ("gpt-4o", 10, 20)
    assert row["arrival_ts"] == dt.datetime(2025, 1, 24, 9, 20, 46, 847371, tzinfo=UTC)
    assert row["finish_ts"] == dt.datetime(2025, 1, 24, 9, 20, 46, 851954, tzinfo=UTC)
    assert row["e2e_ms"] == 4.583  # 851954 - 847371 µs
    assert row["status"] == "ok" and row["cached_tokens"] is None


def test_litellm_standard_logging_payload(tmp_path, make_loader):
    payload = json.loads((FIXTURES / SLP).read_text())
    assert "request_id" not in payload and isinstance(payload["metadata"], dict)
    _copy(tmp_path, "slp.jsonl", json.dumps(payload) + "\n")
    loader = make_loader("litellm")
    day = loader.load_day(dt.date(2025, 1, 24), loader.files())
    assert day.quarantine.height == 0  # failed the file (no request_id) before `id` was read
    row = day.requests.row(0, named=True)
    assert row["request_id"] == "chatcmpl-2299b6a2-82a3-465a-b47c-04e685a2227f"
    assert (row["model_name"], row["input_tokens"], row["output_tokens"]) == ("gpt-4o", 10, 20)
    assert row["first_token_ts"] == dt.datetime(2025, 1, 24, 9, 20, 46, 851954, tzinfo=UTC)
    assert row["ttft_ms"] == 4.583
    assert "Hello, world!" not in str(day.requests.rows())  # messages are never read
