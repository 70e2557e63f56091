"""The real request traces the simulator resamples, bundled in ``data/traces/`` (see its README)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv

TRACE_DIR = Path(__file__).parent / "data" / "traces"
TRACE_NAMES = ("azure_code", "azure_conv", "mooncake_conversation", "mooncake_synthetic")


@dataclass(frozen=True, eq=False)
class Trace:
    """One trace as arrays in arrival order; ``gaps_ms[i]`` is the gap after request ``i``.

    The last gap is the trace's mean gap, so the gaps can be tiled end to end without a
    hole or a pile-up where the trace wraps around.
    """

    name: str
    gaps_ms: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    cached_tokens: np.ndarray

    @property
    def size(self) -> int:
        return len(self.gaps_ms)

    @property
    def mean_tokens(self) -> float:
        """Mean input + output tokens per request: turns a tokens/day volume into requests."""
        return float(self.input_tokens.mean() + self.output_tokens.mean())


@cache
def load_trace(name: str) -> Trace:
    if name not in TRACE_NAMES:
        raise ValueError(f"unknown trace {name!r}; known: {', '.join(TRACE_NAMES)}")
    table = pacsv.read_csv(TRACE_DIR / f"{name}.csv.gz")
    offsets = table["offset_ms"].to_numpy().astype(np.float64)
    gaps = np.diff(offsets)
    gaps = np.append(gaps, offsets[-1] / max(len(offsets) - 1, 1))

    def col(c: str) -> np.ndarray:
        return table[c].to_numpy().astype(np.int64)

    return Trace(name, gaps, col("input_tokens"), col("output_tokens"), col("cached_tokens"))
