"""Requests on a replica's GPUs, per request, from request logs alone.

For every request: the mean number of requests on its replica's GPUs (in prefill or decode,
queue wait excluded) over its decode interval (the batch its tokens were generated in) and
over its time on the GPUs (prefill start to finish). Calibration reads the first
(``calibrate.implied_efficiency``); the day summary the second. The daily GPU-time split
(``int_requests__gpu_time_hourly``) sweeps the same intervals in SQL.
"""

from __future__ import annotations

import numpy as np
import polars as pl


def _area_at(times: np.ndarray, in_flight: np.ndarray, area: np.ndarray, t: np.ndarray):
    k = np.searchsorted(times, t, side="right") - 1
    return area[k] + in_flight[k] * (t - times[k])


def _one_replica(start: np.ndarray, first: np.ndarray, end: np.ndarray):
    """(decode, life) mean concurrency of each request of one replica's stream."""
    # integer µs relative to the stream's first event: exact in float64 for ~285 years
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
        point = in_flight[np.searchsorted(times, a, side="right") - 1]
        mean = np.divide(inside, span, out=point.astype(np.float64), where=span > 0)
        return np.maximum(mean, 1.0)

    return mean_between(first, end), mean_between(start, end)


def add_concurrency(requests: pl.DataFrame) -> pl.DataFrame:
    """Add ``decode_concurrency`` and ``life_concurrency`` (requests on the GPUs, ≥ 1).

    Parameters
    ----------
    requests
        Needs ``deployment_id``, ``replica`` (one replica's log stream), ``prefill_start_us``,
        ``first_token_us`` (null for failed requests) and ``finish_us`` (µs since the epoch).
        Each replica is swept on its own, whatever the window's length.

    Returns
    -------
    polars.DataFrame
        The input, in the same row order, with the two columns added; a request with an
        empty interval gets the instantaneous count at its start.
    """
    n = requests.height
    decode, life = np.ones(n), np.ones(n)
    if n == 0:
        return requests.with_columns(
            decode_concurrency=pl.Series(decode), life_concurrency=pl.Series(life)
        )
    indexed = requests.with_row_index("_row").select(
        "_row",
        "deployment_id",
        "replica",
        "prefill_start_us",
        pl.col("first_token_us").fill_null(pl.col("finish_us")),
        "finish_us",
    )
    for part in indexed.partition_by("deployment_id", "replica", maintain_order=False):
        rows = part["_row"].to_numpy()
        d, lf = _one_replica(
            part["prefill_start_us"].to_numpy(),
            part["first_token_us"].to_numpy(),
            part["finish_us"].to_numpy(),
        )
        decode[rows], life[rows] = d, lf
    return requests.with_columns(
        decode_concurrency=pl.Series(decode), life_concurrency=pl.Series(life)
    )
