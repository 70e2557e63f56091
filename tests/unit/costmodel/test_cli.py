"""``unitcost predict`` / ``unitcost validate`` through ``cli.main``."""

import json

import pytest

from pipelines.costmodel.cli import main

PREDICT = [
    "predict",
    "--llm",
    "llama-3.1-70b",
    "--gpu",
    "h100-sxm",
    "--gpus",
    "4",
    "--precision",
    "fp8",
    "--isl",
    "1000",
    "--osl",
    "200",
    "--tokens-per-day",
    "5e8",
]
REQUIRED_KEYS = {
    "fits",
    "min_gpus",
    "weights_gib",
    "kv_cache_bytes_per_token",
    "max_concurrent_sequences",
    "output_tokens_per_s",
    "total_tokens_per_s",
    "usd_per_1m_input_tokens",
    "usd_per_1m_output_tokens",
    "regime",
}


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_predict_prints_a_readable_table(capsys):
    assert main(PREDICT) == 0
    out = capsys.readouterr().out
    for label in (
        "weights (GiB",
        "fits",
        "output tokens/s",
        "$/1M input tokens",
        "$/1M output tokens",
        "regime",
    ):
        assert label in out


def test_predict_json_has_the_contract_keys(capsys):
    record = _json(capsys, [*PREDICT, "--json"])
    assert set(record) >= REQUIRED_KEYS
    assert record["fits"] is True
    assert record["kv_cache_bytes_per_token"] == 327_680
    assert record["regime"] in {"footprint-bound", "throughput-bound"}
    assert record["usd_per_1m_output_tokens"] > record["usd_per_1m_input_tokens"] > 0


def test_fixed_concurrency_runs_fewer_sequences_than_max(capsys):
    fixed = _json(capsys, [*PREDICT, "--json", "--concurrency", "8"])
    saturated = _json(capsys, [*PREDICT, "--json", "--concurrency", "max"])
    assert fixed["concurrent_sequences"] == 8
    assert saturated["concurrent_sequences"] == saturated["max_concurrent_sequences"] > 8
    assert saturated["output_tokens_per_s"] > fixed["output_tokens_per_s"]


def test_llm_that_does_not_fit_reports_fits_false_and_no_cost(capsys):
    record = _json(
        capsys,
        [
            "predict",
            "--llm",
            "llama-3.1-405b",
            "--gpu",
            "l4",
            "--isl",
            "100",
            "--osl",
            "100",
            "--json",
        ],
    )
    assert record["fits"] is False
    assert record["min_gpus"] is None
    assert record["usd_per_1m_output_tokens"] is None


def test_unpriced_gpu_gives_throughput_but_no_dollars(capsys):
    record = _json(
        capsys,
        [
            "predict",
            "--llm",
            "llama-3.1-8b",
            "--gpu",
            "mi300x",
            "--isl",
            "100",
            "--osl",
            "100",
            "--json",
        ],
    )
    assert record["output_tokens_per_s"] > 0
    assert record["usd_per_1m_input_tokens"] is None
    assert "--usd-per-gpu-hour" in record["price_source"]


def test_explicit_price_and_efficiency_overrides_are_used(capsys):
    base = [*PREDICT[:-2], "--json", "--usd-per-gpu-hour", "2"]
    slow = _json(capsys, [*base, "--mbu", "0.35"])
    fast = _json(capsys, [*base, "--mbu", "0.7"])
    assert slow["usd_per_gpu_hour"] == 2
    assert slow["output_tokens_per_s"] < fast["output_tokens_per_s"]


def test_unknown_llm_is_an_argparse_error():
    with pytest.raises(SystemExit) as error:
        main(["predict", "--llm", "gpt-5", "--gpu", "h100-sxm", "--isl", "1", "--osl", "1"])
    assert error.value.code == 2


def test_validate_prints_every_case_and_the_median(capsys):
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "15-prefill" in out and "17b" in out
    assert "median absolute error:" in out
