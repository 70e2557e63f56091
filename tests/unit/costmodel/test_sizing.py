"""``--gpus auto`` / ``sizing.choose_replicas``: replica size and count as an operator picks."""

import json

from pipelines.costmodel.cli import main
from pipelines.costmodel.cost import TrafficProfile, right_size
from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.sizing import choose_replicas

LLAMA_70B_FP8 = Deployment("llama-3.1-70b", "h100-sxm", 1, "fp8", "fp8", "trtllm")


def test_at_capacity_the_fewest_gpus_that_fit_is_not_the_best_per_dollar():
    # ~70 GB of FP8 weights leave a TP1 replica ~8 GB of KV on an 80 GB H100 (TensorRT-LLM:
    # 90 % of what weights and workspace leave); TP2 leaves ~40 GB per GPU: a far larger batch
    # per GPU, so TP2 serves more per GPU although it pays all-reduces.
    choice = choose_replicas(LLAMA_70B_FP8, 1000, 200)
    by_tp = {o.tensor_parallel: o for o in choice.options}
    assert set(by_tp) == {1, 2, 4, 8}
    assert choice.deployment.tensor_parallel == 2
    assert by_tp[2].output_tokens_per_s_per_gpu > by_tp[1].output_tokens_per_s_per_gpu
    best = max(o.output_tokens_per_s_per_gpu for o in choice.options)
    assert by_tp[2].output_tokens_per_s_per_gpu == best
    assert "TP2 x 1" in choice.reason and "TP1x1" in choice.reason


def test_with_a_demand_the_fewest_total_gpus_win():
    traffic = TrafficProfile.from_tokens_per_day(5e9, 1000, 200)
    choice = choose_replicas(LLAMA_70B_FP8, 1000, 200, traffic.requests_per_s)
    assert choice.deployment.num_gpus == min(o.num_gpus for o in choice.options)
    # each option carries the demand: replicas x per-replica capacity >= demand
    for option in choice.options:
        assert option.replicas * option.requests_per_s_per_replica >= traffic.requests_per_s


def test_right_size_without_demand_now_picks_the_best_per_gpu_degree():
    assert right_size(LLAMA_70B_FP8, TrafficProfile(1000, 200)).tensor_parallel == 2


def test_predict_gpus_auto_reports_the_choice_and_why(capsys):
    argv = ["predict", "--llm", "llama-3.1-70b", "--gpu", "h100-sxm", "--gpus", "auto"]
    argv += ["--precision", "fp8", "--kv-precision", "fp8", "--isl", "1000", "--osl", "200"]
    assert main([*argv, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["gpus"], record["tensor_parallel"], record["replicas"]) == (2, 2, 1)
    assert record["sizing"].startswith("TP2 x 1 replica(s)")
