"""How much of a day's repeated prompt prefixes the deployment's prefix cache really hits.

The trace's ``cached_tokens`` are the leading blocks seen earlier in the trace: what an
unbounded cache would hit (``derive_traces.py``). A real prefix cache holds a bounded number
of tokens and evicts the least recently used: the simulator's model of it is

* a replica's cache holds ``prefix_cache_tokens`` (the spec's ``service``); requests spread
  evenly over replicas, so the deployment holds ``replicas × prefix_cache_tokens``;
* a repeated prefix is reused within the hour it arrives in, and in that hour the cache
  takes in every prompt token that arrives (``W``, the hour's input tokens): it still holds
  the share ``keep = min(1, replicas × prefix_cache_tokens / W)`` of them when reused;
* each request hits ``floor(keep × its repeated-prefix tokens)``.

So a cache too small for the busy hours still hits every repeat in the quiet ones, as LRU
caches do. ``None`` keeps every repeat (the default), 0 disables caching. No randomness:
the day's other draws stay as they were.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipelines.fleet.arrivals import US_PER_MINUTE, DayRequests

US_PER_HOUR = 60 * US_PER_MINUTE


def hourly_keep(reqs: DayRequests, capacity_tokens: int, replicas: int) -> np.ndarray:
    """Per UTC hour of the day: the share of repeated prefixes the cache still holds."""
    hour = np.minimum(reqs.arrival_us // US_PER_HOUR, 23)
    written = np.bincount(hour, weights=reqs.input_tokens, minlength=24)
    held = float(capacity_tokens) * replicas
    return np.divide(held, written, out=np.ones(24), where=written > held)


def limit_prefix_cache(
    reqs: DayRequests, capacity_tokens: int | None, replicas: int
) -> DayRequests:
    """``reqs`` with ``cached_tokens`` what a cache of ``capacity_tokens`` per replica hits."""
    if capacity_tokens is None or len(reqs) == 0:
        return reqs
    repeated = reqs.repeats
    hour = np.minimum(reqs.arrival_us // US_PER_HOUR, 23)
    keep = hourly_keep(reqs, capacity_tokens, replicas)[hour]
    cached = np.floor(keep * repeated).astype(repeated.dtype)
    return replace(reqs, cached_tokens=cached, repeated_prefix_tokens=repeated)
