"""The fleet spec: the shipped default loads; each kind of mistake is reported exactly."""

from __future__ import annotations

import pytest

from pipelines.fleet.spec import load_spec
from pipelines.yamlconf import ConfigError

SECOND_DEPLOYMENT = """\
  - id: tiny-8b-canary
    team: tests
    llm: llama-3.1-8b
    engine: {name: vllm, version: "0.11.0"}
    precision: {weights: bf16, kv_cache: bf16}
    placement: [{host: node-a, gpu_indexes: [0]}]
    request_model_name: tiny-8b-canary
    valid_from_day: VALID_FROM
    traffic: {requests_per_day: 10, trace: azure_code}
    service: {prefill_tokens_per_s: 4000, tpot_base_ms: 50, tpot_per_seq_ms: 1, max_batch: 16}
planted:
"""


def problems(path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_spec(path)
    return [p.removeprefix(f"{path}:") for p in info.value.problems]


def test_default_spec_plants_the_six_scenarios():
    spec = load_spec()
    kinds = {label: s.kind for label, s in spec.planted.items()}
    assert kinds == {
        "a": "idle_oversized",
        "b": "precision_downsize",
        "c": "distill",
        "d": "unused_instance",
        "e": "moe",
        "f": "healthy",
    }
    gpu_types = {i.gpu.type for i in spec.instances}
    assert len(spec.deployments) >= 6 and len(gpu_types) >= 4
    assert len({i.type for i in spec.instances}) >= 4


def test_tiny_spec_loads(write_spec):
    spec = load_spec(write_spec())
    assert [d.id for d in spec.deployments] == ["tiny-8b"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            '"0.9776"',
            "0.9776",
            "7: instances[1].hourly_price_usd: write money as a "
            'quoted decimal string, e.g. "55.04", not 0.9776',
            id="unquoted-price",
        ),
        pytest.param(
            '"0.9776"',
            '"0.12345678"',
            "7: instances[1].hourly_price_usd: "
            "'0.12345678' must be a number >= 0 with at most 6 decimals",
            id="price-digits",
        ),
        pytest.param(
            "host: node-b}",
            "host: node-a}",
            "6: instances[1]: host 'node-a' is used by two instances",
            id="duplicate-host",
        ),
        pytest.param(
            "host: node-a, gpu_indexes: [0]",
            "host: node-z, gpu_indexes: [0]",
            "14: deployments[0].placement[0].host: no instance has host 'node-z'",
            id="unknown-host",
        ),
        pytest.param(
            "gpu_indexes: [0]",
            "gpu_indexes: [2]",
            "14: deployments[0].placement[0].gpu_indexes: host 'node-a' has GPUs 0..0, not 2",
            id="gpu-index",
        ),
        pytest.param(
            "requests_per_day: 3000,",
            "requests_per_day: 3000, tokens_per_day: 9,",
            "16: deployments[0].traffic: give exactly one of requests_per_day or tokens_per_day",
            id="two-volumes",
        ),
        pytest.param(
            "max_batch: 16}",
            "max_batch: 16, max_batchh: 3}",
            "17: deployments[0].service.max_batchh: unknown key",
            id="typo",
        ),
        pytest.param(
            "tpot_base_ms: 50,",
            "tpot_base_ms: 0,",
            "17: deployments[0].service.tpot_base_ms: Input should be greater than 0",
            id="zero-tpot",
        ),
        pytest.param(
            "instance: i-0123456789abcdef1",
            "instance: i-0123456789abcdef0",
            "19: planted.spare.unused_instance.instance: instance 'i-0123456789abcdef0' "
            "is used by ['tiny-8b']",
            id="unused-instance-is-used",
        ),
        pytest.param(
            "  spare:",
            "  m: {kind: moe, deployment: tiny-8b}\n  spare:",
            "19: planted.m.moe: deployment 'tiny-8b' serves llama-3.1-8b, not an MoE LLM",
            id="moe-on-dense",
        ),
        pytest.param(
            "  spare:",
            "  h: {kind: healthy, deployment: tiny-70b}\n  spare:",
            "19: planted.h.healthy.deployment: no deployment has id 'tiny-70b'",
            id="unknown-deployment",
        ),
    ],
)
def test_spec_errors_name_line_and_key(write_spec, old, new, expected):
    assert problems(write_spec((old, new))) == [expected]


def test_unknown_llm_lists_the_catalog(write_spec):
    (problem,) = problems(write_spec(("llm: llama-3.1-8b", "llm: llama-9b")))
    assert problem.startswith("11: deployments[0].llm: unknown LLM 'llama-9b'; known: ")
    assert "mixtral-8x7b" in problem


def test_gpu_shared_by_two_deployments_on_the_same_days(write_spec):
    path = write_spec(("planted:\n", SECOND_DEPLOYMENT.replace("VALID_FROM", "0")))
    assert problems(path) == [
        "18: deployments[1]: GPU 0 of node-a is also used by 'tiny-8b' on the same days"
    ]


def test_gpu_handed_over_between_deployments_is_fine(write_spec):
    path = write_spec(
        (
            "    request_model_name: tiny-8b\n",
            "    request_model_name: tiny-8b\n    valid_to_day: 3\n",
        ),
        ("planted:\n", SECOND_DEPLOYMENT.replace("VALID_FROM", "3")),
    )
    assert [d.id for d in load_spec(path).deployments] == ["tiny-8b", "tiny-8b-canary"]


def test_replica_may_not_span_hosts(write_spec):
    path = write_spec(("    placement:", "    tensor_parallel: 2\n    placement:"))
    assert problems(path) == [
        "9: deployments[0]: 1 GPUs on node-a do not split into replicas of tensor_parallel 2 "
        "(a replica never spans hosts)"
    ]
