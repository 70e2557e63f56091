"""Fixtures for the fleet simulator tests: a tiny user spec and one default-fleet run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.fleet.simulate import simulate

# One L4 instance serving one deployment, one spare instance; hand-written for the tests.
TINY_SPEC = """\
version: 1
account: {cloud: aws, account_id: "111122223333", region: eu-west-1}
instances:
  - {id: i-0123456789abcdef0, type: g6.xlarge, gpu: {type: l4, count: 1},
     hourly_price_usd: "0.8048", host: node-a}
  - {id: i-0123456789abcdef1, type: g6.2xlarge, gpu: {type: l4, count: 1},
     hourly_price_usd: "0.9776", host: node-b}
deployments:
  - id: tiny-8b
    team: tests
    llm: llama-3.1-8b
    engine: {name: vllm, version: "0.11.0"}
    precision: {weights: bf16, kv_cache: bf16}
    placement: [{host: node-a, gpu_indexes: [0]}]
    request_model_name: tiny-8b
    traffic: {requests_per_day: 3000, trace: azure_conv}
    service: {prefill_tokens_per_s: 4000, tpot_base_ms: 50, tpot_per_seq_ms: 1, max_batch: 16}
planted:
  spare: {kind: unused_instance, instance: i-0123456789abcdef1}
"""


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    """Write TINY_SPEC with ``old -> new`` text replacements; each ``old`` must occur."""

    def write(*replacements: tuple[str, str], name: str = "spec.yaml") -> Path:
        text = TINY_SPEC
        for old, new in replacements:
            assert old in text, old
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped default fleet, one day at scale 1 (about half a second)."""
    out = tmp_path_factory.mktemp("default_fleet")
    simulate(out, days=1, seed=42)
    return out
