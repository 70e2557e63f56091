"""Builders for request-log test files: gateway JSON lines (imported by the tests here)."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "requests"

BASE = {
    "id": "req-0",
    "created": 1793527200,
    "model": "meta-llama/Llama-3.1-8B-Instruct",
    "host": "gpu-l4-01",
    "arrival_time": "2026-11-01T10:00:00.000000Z",
    "first_token_time": "2026-11-01T10:00:00.250000Z",
    "finish_time": "2026-11-01T10:00:02.000000Z",
    "usage": {
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "prompt_tokens_details": {"cached_tokens": 40},
    },
    "status_code": 200,
    "user": "alice",
    "messages": [{"role": "user", "content": "hello there"}],
    "choices": [{"message": {"role": "assistant", "content": "general kenobi"}}],
}


def record(i: int, **changes) -> dict:
    """BASE with id req-<i>, a distinct arrival second, and ``changes`` (None deletes a key)."""
    out = copy.deepcopy(BASE)
    out["id"] = f"req-{i}"
    out["arrival_time"] = f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}.000000Z"
    out["first_token_time"] = out["finish_time"] = None
    out["ttft_ms"], out["e2e_ms"] = 250.0, 2000.0
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def write_lines(path: Path, lines: list[str | dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        path.write_text(text)
    return path


LIMITS = ({"meta-llama/Llama-3.1-8B-Instruct": 131072, "small-ctx": 4096}, 131072)
