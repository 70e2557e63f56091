"""One deployment-day of request arrivals and token lengths, resampled from a real trace.

Arrival times keep the trace's burstiness and follow a diurnal curve: a contiguous run of the
trace's inter-arrival gaps (from a random start, tiled if the day needs more requests than
the trace holds) is normalised to the unit interval and pushed through the inverse of the
day's cumulative intensity ``1 + A·cos(2π(h − peak)/24)``. Gaps keep their relative sizes,
so a burst in the trace stays a burst; the diurnal curve sets where in the day they land.
Token lengths are drawn from the same trace with replacement, row by row, so each request's
input, output and cached tokens stay a real combination.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.fleet.specbase import Traffic
from pipelines.fleet.traces import Trace

MINUTES_PER_DAY = 1440
US_PER_MINUTE = 60_000_000


@dataclass(frozen=True, eq=False)
class DayRequests:
    """Arrays of one deployment-day, sorted by arrival (µs after midnight UTC)."""

    arrival_us: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    cached_tokens: np.ndarray
    # the trace's repeated-prefix tokens: what an unbounded prefix cache would hit
    # (``cached_tokens`` is what the deployment's cache really hit; ``prefix_cache.py``)
    repeated_prefix_tokens: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.arrival_us)

    @property
    def repeats(self) -> np.ndarray:
        """Repeated-prefix tokens per request (``cached_tokens`` when not told apart)."""
        if self.repeated_prefix_tokens is None:
            return self.cached_tokens
        return self.repeated_prefix_tokens


def diurnal_cdf(amplitude: float, peak_hour: float) -> np.ndarray:
    """Cumulative share of the day's requests at each minute boundary (1441 points, 0 → 1)."""
    hours = (np.arange(MINUTES_PER_DAY) + 0.5) / 60
    weight = 1 + amplitude * np.cos(2 * np.pi * (hours - peak_hour) / 24)
    return np.concatenate([[0.0], np.cumsum(weight) / weight.sum()])


def arrival_offsets(trace: Trace, n: int, traffic: Traffic, rng: np.random.Generator) -> np.ndarray:
    """``n`` sorted arrival times in µs after midnight."""
    start = int(rng.integers(trace.size))
    gaps = trace.gaps_ms[(start + np.arange(n + 1)) % trace.size]
    cum = np.cumsum(gaps)
    # A run of identical timestamps (Mooncake has 1-s resolution) can sum to 0: spread evenly.
    unit = cum[:-1] / cum[-1] if cum[-1] > 0 else (np.arange(n) + 0.5) / n
    cdf = diurnal_cdf(traffic.diurnal_amplitude, traffic.peak_hour_utc)
    minutes = np.interp(unit, cdf, np.arange(MINUTES_PER_DAY + 1, dtype=np.float64))
    offsets = (minutes * US_PER_MINUTE).astype(np.int64)
    return np.minimum(offsets, MINUTES_PER_DAY * US_PER_MINUTE - 1)


def day_requests(
    trace: Trace, expected: float, traffic: Traffic, rng: np.random.Generator
) -> DayRequests:
    """A Poisson-sized day of requests around ``expected``."""
    n = int(rng.poisson(expected)) if expected > 0 else 0
    rows = rng.integers(trace.size, size=n)
    return DayRequests(
        arrival_us=arrival_offsets(trace, n, traffic, rng),
        input_tokens=trace.input_tokens[rows],
        output_tokens=trace.output_tokens[rows],
        cached_tokens=trace.cached_tokens[rows],
        repeated_prefix_tokens=trace.cached_tokens[rows],
    )
