"""Calibration recovers the simulator's own efficiency within 10 %.

The simulator has no MBU: it has tpot_base_ms + tpot_per_seq_ms · B per replica and a
prefill speed. Its implied MBU is Databricks' formula on that TPOT at the day's mean batch
(bytes per request at the batch each request saw, the same bytes the fit uses; 5-95 %
trimmed mean over requests, as the fit); its MFU is prefill FLOPs at its prefill tokens/s
over the GPU peak (median over requests, as the fit).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipelines.costmodel.architecture import forward_flops
from pipelines.recommend.calibrate import calibration_key, implied_efficiency


def _true_efficiency(fleet, truth, dep_id):
    config = fleet.configs[dep_id]
    svc = truth["deployments"][dep_id]["service"]
    requests = fleet.requests.filter(pl.col("deployment_id") == dep_id, pl.col("ok"))
    implied = implied_efficiency(requests, config)
    mean_batch = {
        day: v["mean_decode_batch"] for day, v in truth["deployments"][dep_id]["days"].items()
    }
    batch = np.array([mean_batch[d.isoformat()] for d in implied["usage_date"].to_list()])
    measured_tpot_s = (requests["finish_us"] - requests["first_token_us"]).to_numpy() / 1e6
    measured_tpot_s /= np.maximum(requests["output_tokens"].to_numpy() - 1, 1)
    bytes_time = implied["mbu"].to_numpy() * measured_tpot_s  # ideal seconds, per request
    true_tpot_s = (svc["tpot_base_ms"] + svc["tpot_per_seq_ms"] * batch) / 1000
    ratio = bytes_time / true_tpot_s
    lo, hi = np.nanquantile(ratio, [0.05, 0.95])
    mbu = ratio[(ratio >= lo) & (ratio <= hi)].mean()
    dep = config.deployment()
    tokens = (requests["input_tokens"] - requests["cached_tokens"]).clip(1).to_numpy() * 1.0
    flops = forward_flops(dep.arch, tokens, tokens / 2) / config.tensor_parallel
    peak = dep.gpu.peak_flops_per_s(dep.precision.compute_dtype)
    mfu = np.median(flops / (tokens / svc["prefill_tokens_per_s"]) / peak)
    return mbu, min(mfu, 1.0)  # an efficiency is capped at 1 (see classify-mistral7b)


def test_every_deployment_is_calibrated(fleet, result):
    for config in fleet.configs.values():
        if len(fleet.days_of(config.deployment_id)) >= 1:
            assert result.calibration.for_config(config).source == "calibrated"


@pytest.mark.parametrize(
    "dep_id",
    [
        "chat-qwen7b",
        "assistant-llama70b",
        "codegen-qwen32b",
        "support-llama70b",
        "summarise-mixtral",
        "search-llama8b",
        "classify-mistral7b",
        "agents-qwen3-32b",
    ],
)
def test_calibration_recovers_true_efficiency(fleet, truth, result, dep_id):
    fitted = result.calibration.for_config(fleet.configs[dep_id]).efficiency
    mbu, mfu = _true_efficiency(fleet, truth, dep_id)
    assert fitted.mbu == pytest.approx(mbu, rel=0.10)
    assert fitted.mfu == pytest.approx(mfu, rel=0.10)


def test_groups_pool_deployments_of_the_same_hardware(fleet, result):
    # summarise-mixtral and agents-qwen3-32b share (a100-80gb, vllm, bf16, TP2)
    key = calibration_key(fleet.configs["summarise-mixtral"])
    group = result.calibration.groups[key]
    assert group.requests_used > result.calibration.deployments["summarise-mixtral"].requests_used


def test_too_little_data_keeps_the_prior(fleet):
    from pipelines.recommend.calibrate import calibrate

    cal = calibrate(fleet.requests, fleet.configs, min_requests=10**9)
    assert cal.groups == {}
    assert cal.for_config(fleet.configs["chat-qwen7b"]).source == "prior"


def test_no_priced_deployment_means_no_calibration_and_no_crash(fleet):
    # e.g. a warehouse whose billing has no GPU-hours yet: requests, but no configs
    from pipelines.recommend.calibrate import calibrate

    assert calibrate(fleet.requests, {}) == calibrate(None, {})
