"""Test oracle: requests on a replica's GPUs per request, swept in numpy.

The warehouse computes this once, in SQL (``models/intermediate/int_requests__replica_sweep``:
running sums over each replica-day's sorted events). This is an independent implementation
of the same definition, kept only in the tests: ``fleet_inputs`` uses it to build the
engine's inputs from a simulator folder without dbt, and
``tests/integration/test_replica_sweep.py`` checks the SQL against it on a simulated fleet.

For every request, the mean number of requests on its replica's GPUs (prefill or decode,
queue wait excluded) over its decode [first token, finish) and over its life [prefill start,
finish); each (deployment, replica, UTC day of arrival) is swept alone, as the split does. An
empty interval (one token, or failed before the first) has no mean: null.
"""

from __future__ import annotations

import numpy as np
import polars as pl

KEYS = ("deployment_id", "replica", "usage_date")


def _area_at(times: np.ndarray, in_flight: np.ndarray, area: np.ndarray, t: np.ndarray):
    k = np.searchsorted(times, t, side="right") - 1
    return area[k] + in_flight[k] * (t - times[k])


def _one_stream(start: np.ndarray, first: np.ndarray, end: np.ndarray):
    """(decode, life) mean concurrency of each request of one replica-day's stream."""
    # integer µs relative to the stream's first event: exact in float64
    origin = start.min()
    start, first, end = ((x - origin).astype(np.float64) for x in (start, first, end))
    times = np.concatenate([start, end])
    delta = np.concatenate([np.ones(len(start)), -np.ones(len(end))])
    order = np.lexsort((-delta, times))  # at equal times count arrivals first
    times, delta = times[order], delta[order]
    in_flight = np.cumsum(delta)
    area = np.concatenate([[0.0], np.cumsum(in_flight[:-1] * np.diff(times))])

    def mean_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        span = b - a
        inside = _area_at(times, in_flight, area, b) - _area_at(times, in_flight, area, a)
        return np.divide(inside, span, out=np.full(len(a), np.nan), where=span > 0)

    return mean_between(first, end), mean_between(start, end)


def add_concurrency(requests: pl.DataFrame) -> pl.DataFrame:
    """Add ``decode_concurrency`` and ``life_concurrency`` (≥ 1, null for empty intervals).

    ``requests`` needs ``deployment_id``, ``replica``, ``usage_date``, ``prefill_start_us``,
    ``first_token_us`` (null for failed requests) and ``finish_us``; optional
    ``replicas_sharing`` k (a log stream of k replicas: its own replica held 1 + (n - 1) / k).
    Row order is kept.
    """
    n = requests.height
    decode, life = np.full(n, np.nan), np.full(n, np.nan)
    indexed = requests.with_row_index("_row").select(
        "_row",
        *KEYS,
        "prefill_start_us",
        pl.col("first_token_us").fill_null(pl.col("finish_us")),
        "finish_us",
    )
    for part in indexed.partition_by(*KEYS, maintain_order=False):
        rows = part["_row"].to_numpy()
        decode[rows], life[rows] = _one_stream(
            part["prefill_start_us"].to_numpy(),
            part["first_token_us"].to_numpy(),
            part["finish_us"].to_numpy(),
        )
    k = pl.col("replicas_sharing") if "replicas_sharing" in requests.columns else pl.lit(1)
    return requests.with_columns(
        (1 + (pl.Series(name, values, nan_to_null=True) - 1) / k).alias(name)
        for name, values in (("decode_concurrency", decode), ("life_concurrency", life))
    )
