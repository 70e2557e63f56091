"""How a deployment serves one day of requests: the simulator's own service model.

Per replica and per minute (Little's law on the minute's arrivals):

* a request's prefill takes ``(input − cached) / prefill_tokens_per_s`` seconds;
* each decode step takes ``tpot(B) = tpot_base_ms + tpot_per_seq_ms · B``, where B, the mean
  number of requests in flight, solves ``B = λ·(prefill + output·tpot(B))``;
* if that B exceeds ``max_batch`` (or has no solution) the replica is saturated: B is capped
  and arrivals wait, in arrival order, in a fluid queue drained at the replica's capacity
  ``max_batch / (prefill + output·tpot(max_batch))`` requests/s (day means). Each day starts
  with an empty queue, so a day's output never depends on another day;
* the GPUs are busy whenever at least one request is on them (from its prefill start, after
  any queue wait, to its finish): the union of the replica's request intervals, measured
  per minute, 1 when saturated. That is what DCGM's GPU utilisation measures. (The union
  and not Poisson occupancy ``1 − e^(−B)``: real traces arrive in bursts, which overlap
  more than Poisson arrivals would and leave the GPUs idle longer.)

Per request, one log-normal speed factor (σ = 0.1) jitters prefill and TPOT alike, and a
fraction ``error_rate`` fails after prefill with no output tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.fleet.arrivals import MINUTES_PER_DAY, US_PER_MINUTE, DayRequests
from pipelines.fleet.specbase import Service

SPEED_SIGMA = 0.1


@dataclass(frozen=True, eq=False)
class Served:
    replica: np.ndarray  # per request
    error: np.ndarray  # per request, bool
    output_tokens: np.ndarray  # per request; 0 for errors
    scheduled_us: np.ndarray  # per request, µs after midnight: prefill starts (after queueing)
    first_token_us: np.ndarray  # per request, µs after midnight; meaningless for errors
    finish_us: np.ndarray  # per request, µs after midnight (may pass the next midnight)
    busy: np.ndarray  # (replicas, minutes): fraction of the minute the GPUs are busy
    batch: np.ndarray  # (replicas, minutes): mean requests in flight


def _per_cell(key: np.ndarray, values: np.ndarray, count: np.ndarray) -> np.ndarray:
    total = np.bincount(key, weights=values, minlength=len(count)).astype(np.float64)
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def _queue_wait_s(
    key: np.ndarray, arrival_us: np.ndarray, count: np.ndarray, capacity_per_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per request: seconds waiting behind the fluid backlog; per cell: backlog at all?

    The k-th arrival of a (replica, minute) finds the backlog carried into the minute plus
    the k − 1 arrivals before it, less what the replica served since the minute began.
    """
    replicas, minutes = count.shape
    backlog = np.zeros(replicas)
    before = np.zeros(count.shape)
    for m in range(minutes):
        before[:, m] = backlog
        backlog = np.maximum(0.0, backlog + count[:, m] - capacity_per_s * 60)
    after = np.concatenate([before[:, 1:], backlog[:, None]], axis=1)
    order = np.argsort(key, kind="stable")
    rank = np.empty(len(key))
    rank[order] = np.arange(len(key)) - np.searchsorted(key[order], key[order])
    mu = capacity_per_s[key // minutes]
    ahead = before.ravel()[key] + rank - mu * (arrival_us % US_PER_MINUTE) / 1e6
    return np.maximum(ahead, 0.0) / mu, (before > 0) | (after > 0)


def serve(day: DayRequests, svc: Service, replicas: int, rng: np.random.Generator) -> Served:
    n = len(day)
    replica = rng.integers(replicas, size=n)
    error = rng.random(n) < svc.error_rate
    speed = rng.lognormal(0.0, SPEED_SIGMA, n)
    output = np.where(error, 0, day.output_tokens)
    prefill_s = np.maximum(day.input_tokens - day.cached_tokens, 1) / svc.prefill_tokens_per_s
    prefill_s *= speed
    key = replica * MINUTES_PER_DAY + day.arrival_us // US_PER_MINUTE
    count = np.bincount(key, minlength=replicas * MINUTES_PER_DAY).astype(np.float64)
    mean_p = _per_cell(key, prefill_s, count)
    mean_d = _per_cell(key, output.astype(np.float64), count)
    b0, b1 = svc.tpot_base_ms / 1000, svc.tpot_per_seq_ms / 1000
    lam = count / 60
    den = 1 - lam * mean_d * b1
    batch = np.divide(
        lam * (mean_p + mean_d * b0), den, out=np.full_like(den, np.inf), where=den > 0
    )
    shape = (replicas, MINUTES_PER_DAY)
    saturated = (batch > svc.max_batch).reshape(shape)
    wait_s = np.zeros(n)
    if saturated.any():
        cap = _capacity_per_s(replica, prefill_s, output, svc, replicas, b0, b1)
        wait_s, queued = _queue_wait_s(key, day.arrival_us, count.reshape(shape), cap)
        saturated |= queued
    batch = np.where(saturated.ravel(), svc.max_batch, batch)
    tpot_s = (b0 + b1 * batch[key]) * speed
    scheduled_us = day.arrival_us + np.round(wait_s * 1e6).astype(np.int64)
    first_us = scheduled_us + np.round(prefill_s * 1e6).astype(np.int64)
    decode_us = np.round(np.maximum(output - 1, 0) * tpot_s * 1e6).astype(np.int64)
    finish_us = first_us + decode_us
    occupied = np.stack(
        [
            _busy_per_minute(scheduled_us[replica == r], finish_us[replica == r])
            for r in range(replicas)
        ]
    )
    busy = np.where(saturated, 1.0, occupied)
    return Served(
        replica, error, output, scheduled_us, first_us, finish_us, busy, batch.reshape(shape)
    )


def _busy_per_minute(start_us: np.ndarray, end_us: np.ndarray) -> np.ndarray:
    """Share of each minute of the day covered by at least one [start, end) interval."""
    edges = np.arange(MINUTES_PER_DAY + 1, dtype=np.int64) * US_PER_MINUTE
    if len(start_us) == 0:
        return np.zeros(MINUTES_PER_DAY)
    order = np.argsort(start_us, kind="stable")
    start, end = start_us[order], end_us[order]
    # merge overlapping intervals: a new one starts where the running end is behind it
    reach = np.maximum.accumulate(end)
    new = np.concatenate([[True], start[1:] > reach[:-1]])
    a = start[new]
    b = np.maximum.reduceat(end, np.flatnonzero(new))
    # covered time before each minute edge: whole intervals ended before it + a partial one
    ended = np.concatenate([[0], np.cumsum(b - a)])
    j = np.searchsorted(b, edges, side="right")
    partial = np.where(j < len(a), np.clip(edges - a[np.minimum(j, len(a) - 1)], 0, None), 0)
    covered = ended[j] + partial
    return np.diff(covered) / US_PER_MINUTE


def _capacity_per_s(
    replica: np.ndarray,
    prefill_s: np.ndarray,
    output: np.ndarray,
    svc: Service,
    replicas: int,
    b0: float,
    b1: float,
) -> np.ndarray:
    """Requests/s each replica completes at full batch, from its day's mean request."""
    n = np.bincount(replica, minlength=replicas).astype(np.float64)
    p = _per_cell(replica, prefill_s, n)
    d = _per_cell(replica, output.astype(np.float64), n)
    return svc.max_batch / np.maximum(p + d * (b0 + b1 * svc.max_batch), 1e-3)
