"""The deployment registry: a valid file loads; each kind of mistake is reported exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.costmodel.catalog import gpu_ids, llm_ids
from pipelines.registry import deployment_frame, load_registry, selector_frame
from pipelines.yamlconf import ConfigError

FIXTURE = Path(__file__).parents[1] / "fixtures" / "registry_tiny.yaml"
BASE = FIXTURE.read_text()


def test_fixture_registry_loads_with_replicas_and_selectors():
    registry = load_registry(FIXTURE)
    chat, batch = registry.deployments
    assert (chat.id, chat.replicas, batch.replicas) == ("chat-8b", 2, 1)
    assert batch.selectors() == [
        ("host_gpu", "gpu-h100-01/0"),
        ("host_gpu", "gpu-h100-01/1"),
        ("request_model_name", "llama-70b-batch"),
    ]


def test_frames_have_one_row_per_deployment_and_per_selector():
    registry = load_registry(FIXTURE)
    deployments = deployment_frame(registry)
    selectors = selector_frame(registry)
    assert deployments["deployment_id"].to_list() == ["chat-8b", "batch-70b"]
    assert deployments["valid_to"].to_list()[1].isoformat() == "2026-11-03"
    # chat-8b: 2 instances + 2 host GPUs + 1 model name; batch-70b: 2 host GPUs + 1 k8s + 1 name
    assert selectors.group_by("deployment_id").len().sort("deployment_id").rows() == [
        ("batch-70b", 4),
        ("chat-8b", 5),
    ]
    k8s = selectors.filter(selectors["selector_kind"] == "kubernetes").row(0, named=True)
    assert (k8s["selector_value"], k8s["pod_labels_json"]) == ("search", '{"app": "batch-70b"}')


KNOWN_GPUS = ", ".join(gpu_ids())

CASES = {
    "gpu count below one": (
        ("gpu: {type: l4, count: 2}", "gpu: {type: l4, count: 0}"),
        ["registry.yaml:10: deployments[0].gpu.count: Input should be greater than or equal to 1"],
    ),
    "unknown gpu type": (
        ("gpu: {type: l4, count: 2}", "gpu: {type: rtx-9090, count: 2}"),
        [
            "registry.yaml:10: deployments[0].gpu.type: unknown GPU type 'rtx-9090'; "
            f"known: {KNOWN_GPUS}"
        ],
    ),
    "gpu count not a multiple of tp": (
        ("tensor_parallel: 1", "tensor_parallel: 4"),
        [
            "registry.yaml:9: deployments[0].tensor_parallel: gpu.count 2 is not a multiple of "
            "tensor_parallel 4"
        ],
    ),
    "misspelt key": (
        ("    team: assistant", "    teem: assistant"),
        [
            "registry.yaml:4: deployments[0].team: required key is missing",
            "registry.yaml:5: deployments[0].teem: unknown key",
        ],
    ),
    "duplicate id": (
        ("id: batch-70b", "id: chat-8b"),
        ["registry.yaml:18: deployments[1].id: 'chat-8b' is already used by [0]"],
    ),
    "gpu claimed twice": (
        ("gpu-h100-01, gpu_indexes: [0, 1],", "gpu-l4-01, gpu_indexes: [0, 1],"),
        [
            "registry.yaml:26: deployments[1].match: host_gpu 'gpu-l4-01/0' is also claimed by "
            "'chat-8b' while both are valid; its cost would be counted twice"
        ],
    ),
    "validity ends before it starts": (
        ("valid_to: 2026-11-03", "valid_to: 2026-10-03"),
        [
            "registry.yaml:32: deployments[1].valid_to: 2026-10-03 is not after "
            "valid_from 2026-11-01"
        ],
    ),
    "impossible date": (
        ("valid_from: 2026-11-01\n  - id", "valid_from: 2026-13-01\n  - id"),
        [
            "registry.yaml:17: deployments[0].valid_from: Input should be a valid date or "
            "datetime, month value is outside expected range of 1-12"
        ],
    ),
    "unknown precision": (
        ("weights: fp8", "weights: fp6"),
        [
            "registry.yaml:22: deployments[1].precision.weights: the cost model has no weight "
            "precision 'fp6'; supported: fp16, bf16, fp8, int8, int4, nvfp4, mxfp4"
        ],
    ),
    # fp32 weights and an int4 KV cache were once accepted here and then failed the
    # recommendation engine for every deployment: the cost model prices neither.
    "fp32 weights the cost model cannot price": (
        ("weights: fp8", "weights: fp32"),
        [
            "registry.yaml:22: deployments[1].precision.weights: the cost model has no weight "
            "precision 'fp32'; supported: fp16, bf16, fp8, int8, int4, nvfp4, mxfp4"
        ],
    ),
    "int4 kv cache the cost model cannot price": (
        ("kv_cache: fp8", "kv_cache: int4"),
        [
            "registry.yaml:22: deployments[1].precision.kv_cache: the cost model has no "
            "KV-cache precision 'int4'; supported: fp16, bf16, fp8, int8"
        ],
    ),
    "api substitute not in the catalog": (
        ("    valid_to: 2026-11-03", "    valid_to: 2026-11-03\n    api: {substitutes: [gpt-9]}"),
        [
            "registry.yaml:33: deployments[1].api.substitutes: unknown LLM 'gpt-9'; known: "
            + ", ".join(llm_ids())
        ],
    ),
    "api section typo": (
        ("    valid_to: 2026-11-03", "    valid_to: 2026-11-03\n    api: {eligable: true}"),
        ["registry.yaml:33: deployments[1].api.eligable: unknown key"],
    ),
    "broken yaml": (
        ("team: search", "team: [search"),
        ["registry.yaml:20: invalid YAML: expected ',' or ']', but got ':'"],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_invalid_registry_is_reported_by_file_line_and_key(case, tmp_path, monkeypatch):
    (old, new), expected = CASES[case]
    assert old in BASE
    (tmp_path / "registry.yaml").write_text(BASE.replace(old, new, 1))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_registry("registry.yaml")
    assert err.value.problems == expected


def test_api_section_reaches_the_snapshot_with_own_llm_as_default_substitute(tmp_path):
    path = tmp_path / "registry.yaml"
    path.write_text(
        BASE.replace(
            "    valid_from: 2026-11-01\n  - id",
            "    valid_from: 2026-11-01\n    api: {eligible: true}\n  - id",
        ).replace(
            "    valid_to: 2026-11-03",
            "    valid_to: 2026-11-03\n    api: {eligible: false, substitutes: [llama-3.3-70b]}",
        )
    )
    frame = deployment_frame(load_registry(path))
    assert frame.select("deployment_id", "api_eligible", "api_substitute_llm_ids").rows() == [
        ("chat-8b", True, ["llama-3.1-8b"]),  # no substitutes listed: its own LLM only
        ("batch-70b", False, ["llama-3.3-70b"]),
    ]
    # without an api section a deployment is not eligible (data policy must opt in)
    assert deployment_frame(load_registry(FIXTURE))["api_eligible"].to_list() == [False, False]


def test_unknown_llm_lists_the_catalog(tmp_path):
    path = tmp_path / "registry.yaml"
    path.write_text(BASE.replace("llm: llama-3.1-8b", "llm: llama-9b"))
    with pytest.raises(ConfigError) as err:
        load_registry(path)
    (problem,) = err.value.problems
    assert problem.startswith(f"{path}:6: deployments[0].llm: unknown LLM 'llama-9b'; known: ")
    assert "llama-3.1-8b, llama-3.3-70b, mistral-7b-v0.2, mixtral-8x7b" in problem


def test_deployment_without_a_cost_selector_is_rejected(tmp_path):
    text = BASE.replace(
        "      hosts:\n        - {host: gpu-h100-01, gpu_indexes: [0, 1], "
        "cloud_resource_id: i-0bbb000000000001}\n"
        "      kubernetes:\n        - {namespace: search, pod_labels: {app: batch-70b}}\n",
        "",
    )
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_registry(path)
    assert err.value.problems == [
        f"{path}:26: deployments[1].match: declare at least one of cloud_resource_ids, hosts, "
        "gpu_uuids or kubernetes: without one no GPU cost can be allocated to this deployment"
    ]


def test_same_gpu_in_two_deployments_is_fine_when_validity_does_not_overlap(tmp_path):
    text = BASE.replace("gpu-h100-01, gpu_indexes: [0, 1],", "gpu-l4-01, gpu_indexes: [0, 1],")
    text = text.replace("valid_from: 2026-11-01\n  - id", "valid_from: 2026-11-03\n  - id")
    path = tmp_path / "r.yaml"
    path.write_text(text)
    assert [d.id for d in load_registry(path).deployments] == ["chat-8b", "batch-70b"]


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_registry(tmp_path / "nope.yaml")
    assert err.value.problems == [f"{tmp_path / 'nope.yaml'}: file not found"]


MIG_A = (
    "        - {host: gpu-l4-01, gpu_indexes: [0]}\n",
    "        - {host: gpu-h100-09, gpu_indexes: [0], cloud_resource_id: i-0ccc000000000001,\n"
    "           mig_instances: [{gpu_instance_id: 1, profile: 3g.40gb}]}\n",
)
MIG_B = (
    "        - {host: gpu-h100-01, gpu_indexes: [0, 1], cloud_resource_id: i-0bbb000000000001}\n",
    "        - {host: gpu-h100-09, gpu_indexes: [0], cloud_resource_id: i-0ccc000000000001,\n"
    "           mig_instances: [{gpu_instance_id: 2, profile: PROFILE}]}\n",
)


def _mig_registry(tmp_path, profile_b: str, whole_b: bool = False) -> Path:
    text = BASE.replace(*MIG_A)
    b = MIG_B[1].replace("PROFILE", profile_b)
    if whole_b:
        b = MIG_B[1].split(",\n")[0] + "}\n"  # the same GPU, whole
    path = tmp_path / "r.yaml"
    path.write_text(text.replace(MIG_B[0], b))
    return path


def test_two_deployments_share_a_gpu_by_mig_slices(tmp_path):
    registry = load_registry(_mig_registry(tmp_path, "4g.40gb"))
    rows = selector_frame(registry).filter(selector_frame(registry)["host"] == "gpu-h100-09")
    assert rows.select(
        "deployment_id", "selector_value", "gpu_instance_id", "mig_compute_slices"
    ).rows() == [
        ("chat-8b", "gpu-h100-09/0/mig1", 1, 3),
        ("batch-70b", "gpu-h100-09/0/mig2", 2, 4),
    ]


def test_mig_slices_past_seven_are_rejected(tmp_path):
    path = _mig_registry(tmp_path, "5g.40gb")
    with pytest.raises(ConfigError) as err:
        load_registry(path)
    assert err.value.problems == [
        f"{path}:14: deployments[0].match.hosts: GPU gpu-h100-09/0 has 8 MIG compute slices "
        "claimed while 'chat-8b' is valid; a GPU has 7"
    ]


def test_a_gpu_is_not_whole_and_sliced_at_once(tmp_path):
    path = _mig_registry(tmp_path, "", whole_b=True)
    with pytest.raises(ConfigError) as err:
        load_registry(path)
    assert err.value.problems == [
        f"{path}:14: deployments[0].match.hosts: GPU gpu-h100-09/0 is claimed whole and as MIG "
        "slices at once"
    ]


def test_unknown_mig_profile_is_rejected(tmp_path):
    path = _mig_registry(tmp_path, "3g40gb")
    with pytest.raises(ConfigError) as err:
        load_registry(path)
    (problem,) = err.value.problems
    assert "deployments[1].match.hosts[0].mig_instances[0].profile: String should match" in problem
