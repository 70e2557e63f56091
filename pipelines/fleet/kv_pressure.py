"""KV-cache pressure on one replica, scrape by scrape: the simulator's own preemption model.

A request holds KV-cache for its whole prompt from the moment its prefill is scheduled, plus
one slot per token generated so far (linear from its first token to its finish), until it
finishes. When the requests on the replica at a scrape need more than the spec's
``service.kv_capacity_tokens``, the scheduler preempts the most recently scheduled ones
(vLLM V1 evicts from the end of its running queue and recomputes them later) until the rest
fit: each counts as a preemption and waits instead of running. Every scrape is judged on its
own, so a request still too big for the cache at the next scrape is preempted again, as
vLLM's recompute loop does under sustained pressure.

Known simplification: the request stream's timings (``service.py``) are not stretched by the
recompute; preemption shows in the engine's metrics only. Nothing here comes from the cost
model: the capacity is a number in the spec.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class KvPressure:
    """Per scrape: KV-cache usage after preemption (a 0-1 fraction of the capacity), and
    requests preempted at that scrape."""

    usage_frac: np.ndarray
    preempted: np.ndarray


def kv_pressure(
    scheduled_s: np.ndarray,
    first_token_s: np.ndarray,
    finish_s: np.ndarray,
    input_tokens: np.ndarray,
    output_tokens: np.ndarray,
    scrape_s: np.ndarray,
    capacity_tokens: int,
) -> KvPressure:
    """KV usage and preemptions at each time in ``scrape_s`` (all times in seconds, one
    origin) for one replica's requests."""
    decode_s = np.maximum(finish_s - first_token_s, 1e-9)
    newest_first = np.argsort(-scheduled_s, kind="stable")
    usage = np.zeros(len(scrape_s))
    preempted = np.zeros(len(scrape_s), dtype=np.int64)
    for i, t in enumerate(scrape_s):
        on = newest_first[(scheduled_s[newest_first] <= t) & (t < finish_s[newest_first])]
        if len(on) == 0:
            continue
        generated = np.clip((t - first_token_s[on]) / decode_s[on], 0.0, 1.0) * output_tokens[on]
        need = input_tokens[on] + generated
        total = need.sum()
        if total > capacity_tokens:
            # evict newest first until what is left fits: k = evictions needed
            evicted = np.cumsum(need)
            k = int(np.searchsorted(evicted, total - capacity_tokens, side="left")) + 1
            preempted[i] = k
            total -= evicted[k - 1]
        usage[i] = total / capacity_tokens
    return KvPressure(usage_frac=usage, preempted=preempted)


def replica_pressure(
    rows: pl.DataFrame, day_us: int, scrape_s: np.ndarray, capacity_tokens: int
) -> KvPressure:
    """``kv_pressure`` of one replica's requests (the request table's rows), at ``scrape_s``
    seconds after midnight ``day_us`` (µs since the epoch)."""
    seconds = lambda c: ((rows[c].dt.epoch("us") - day_us) / 1e6).to_numpy()  # noqa: E731
    failed = (rows["status"] != "ok").to_numpy()
    first = np.where(failed, seconds("finish_ts"), seconds("first_token_ts"))
    return kv_pressure(
        seconds("scheduled_ts"),
        first,
        seconds("finish_ts"),
        rows["input_tokens"].to_numpy().astype(np.float64),
        rows["output_tokens"].to_numpy().astype(np.float64),
        scrape_s,
        capacity_tokens,
    )
