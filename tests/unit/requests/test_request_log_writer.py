"""The simulator's gateway logs: every truth request once, in its finish day's file, with text."""

from __future__ import annotations

import gzip
import json

import duckdb
import pytest

from pipelines.fleet.simulate import simulate


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    out = tmp_path_factory.mktemp("logs_fleet")
    simulate(out, days=2, scale=0.01, seed=3)
    return out


def test_logs_hold_every_truth_request_once_with_the_same_numbers(fleet):
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    truth = con.execute(
        "select count(*), sum(input_tokens), sum(output_tokens), sum(cached_tokens), "
        "count(*) filter (status = 'error') from read_parquet(?)",
        [str(fleet / "truth" / "requests" / "*" / "*.parquet")],
    ).fetchone()
    logs = con.execute(
        "select count(distinct id), sum(usage.prompt_tokens), sum(usage.completion_tokens), "
        "sum(usage.prompt_tokens_details.cached_tokens), count(*) filter (status_code = 500) "
        "from read_json(?)",
        [str(fleet / "logs" / "requests" / "*" / "*.jsonl.gz")],
    ).fetchone()
    assert logs == truth
    config = (fleet / "unitcost.yaml").read_text()
    assert "requests:\n    location: logs/requests\n    format: vllm_jsonl" in config


def test_a_line_is_in_its_finish_days_file_and_carries_prompt_and_completion(fleet):
    files = sorted((fleet / "logs" / "requests").glob("date=*/*.jsonl.gz"))
    assert {f.parent.name for f in files} == {"date=2026-11-01", "date=2026-11-02",
                                             "date=2026-11-03"}  # fmt: skip
    for path in files:
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            record = json.loads(line)
            assert record["finish_time"][:10] == path.parent.name.removeprefix("date=")
    ok = json.loads(gzip.decompress(files[0].read_bytes()).decode().splitlines()[0])
    assert ok["messages"][0]["content"].startswith("Summarise ticket ")
    assert ok["choices"][0]["message"]["content"] == "Done."
    assert ok["user"].startswith("user-")


def test_ground_truth_lists_what_the_ingest_must_quarantine(fleet):
    truth = json.loads((fleet / "ground_truth.json").read_text())["request_logs"]
    assert (
        truth["lines"]
        == json.loads((fleet / "ground_truth.json").read_text())["totals"]["requests"]
    )
    assert truth["over_context_requests"] == {}  # agents-qwen3-32b starts on day 3
