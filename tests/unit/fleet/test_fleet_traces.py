"""The bundled trace samples: complete, small, and reproducible from shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.fleet import derive_traces
from pipelines.fleet.traces import TRACE_DIR, TRACE_NAMES, load_trace

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


@pytest.mark.parametrize(
    ("name", "rows", "mean_input", "mean_output"),
    [  # counts and means from shared/data/SOURCES.md
        ("azure_code", 8_819, 2_047.8, 27.9),
        ("azure_conv", 19_366, 1_154.7, 211.1),
        ("mooncake_conversation", 12_031, 12_035, 342.6),
        ("mooncake_synthetic", 3_993, 15_325, 149),
    ],
)
def test_bundled_trace_keeps_every_request(name, rows, mean_input, mean_output):
    trace = load_trace(name)
    assert trace.size == rows
    assert trace.input_tokens.mean() == pytest.approx(mean_input, abs=0.5)
    assert trace.output_tokens.mean() == pytest.approx(mean_output, abs=0.5)
    assert (trace.gaps_ms >= 0).all() and (trace.cached_tokens <= trace.input_tokens).all()


def test_bundle_is_small_and_documented():
    files = sorted(TRACE_DIR.glob("*.csv.gz"))
    assert [f.name.removesuffix(".csv.gz") for f in files] == sorted(TRACE_NAMES)
    assert sum(f.stat().st_size for f in files) < 600_000
    readme = (TRACE_DIR / "README.md").read_text()
    for needle in (
        "b469a113cedca53ddc3bdea71a143dc4b7d8700c",
        "CC BY 4.0",
        "Splitwise",
        "3b5a594133958449a1feaf1c9e0fc1b553e34a28",
        "Apache-2.0",
        "FAST '25",
        "python -m pipelines.fleet.derive_traces",
    ):
        assert needle in readme


@pytest.mark.skipif(not (SHARED_DATA / "llm_traces").is_dir(), reason="needs ../shared/data")
def test_derive_reproduces_the_bundle_byte_for_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(derive_traces, "OUT_DIR", tmp_path)
    assert derive_traces.main([str(SHARED_DATA)]) == 0
    for name in TRACE_NAMES:
        path = f"{name}.csv.gz"
        assert (tmp_path / path).read_bytes() == (TRACE_DIR / path).read_bytes(), name
