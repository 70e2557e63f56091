"""Fixtures for the request-log tests: a loader over a temp source folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from requestlogs import LIMITS

from pipelines.config import SourceConfig
from pipelines.ingest.requests.load import RequestLoader


@pytest.fixture
def make_loader(tmp_path: Path) -> Callable[..., RequestLoader]:
    def make(fmt: str = "vllm_jsonl", salt: str | None = None, **source) -> RequestLoader:
        config = SourceConfig(location=str(tmp_path / "logs"), format=fmt, **source)
        return RequestLoader("requests", config, tmp_path / "logs", LIMITS, salt)

    return make
