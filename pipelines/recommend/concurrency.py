"""Requests in flight per replica, from request logs alone (arrival, first token, finish).

For every request: the mean number of requests in flight on its replica over its decode
interval (the batch its tokens were generated in) and over its whole life (the weight
COSTMODEL.md §3 uses to split busy time between prefill and decode).
"""

from __future__ import annotations

import numpy as np
import polars as pl

# Replicas are laid end to end on one time axis so one sort serves all of them; the gap must
# exceed any window the logs span (here up to ~11 days of µs per replica).
_REPLICA_STRIDE_US = 10**12


def _area_at(times: np.ndarray, in_flight: np.ndarray, area: np.ndarray, t: np.ndarray):
    k = np.searchsorted(times, t, side="right") - 1
    return area[k] + in_flight[k] * (t - times[k])


def add_concurrency(requests: pl.DataFrame) -> pl.DataFrame:
    """Add ``decode_concurrency`` and ``life_concurrency`` (requests in flight, ≥ 1).

    Parameters
    ----------
    requests
        Needs ``deployment_id``, ``replica``, ``arrival_us``, ``first_token_us`` (null for
        failed requests) and ``finish_us`` (µs since the epoch).

    Returns
    -------
    polars.DataFrame
        The input with the two columns added; a request with an empty interval gets the
        instantaneous count at its start.
    """
    key = pl.concat_str("deployment_id", pl.col("replica").cast(pl.String), separator="/")
    group = requests.select(key.rank("dense").cast(pl.Int64) - 1).to_series().to_numpy()
    offset = group * _REPLICA_STRIDE_US
    start = requests["arrival_us"].to_numpy() - offset
    end = requests["finish_us"].to_numpy() - offset
    first = requests["first_token_us"].fill_null(requests["finish_us"]).to_numpy() - offset
    start0 = start.min() if len(start) else 0
    start, end, first = (x - start0 for x in (start, end, first))
    times = np.concatenate([start, end]).astype(np.float64)
    delta = np.concatenate([np.ones(len(start)), -np.ones(len(end))])
    order = np.lexsort((-delta, times))  # at equal times count arrivals first
    times, delta = times[order], delta[order]
    in_flight = np.cumsum(delta)
    area = np.concatenate([[0.0], np.cumsum(in_flight[:-1] * np.diff(times))])

    def mean_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        span = (b - a).astype(np.float64)
        inside = _area_at(times, in_flight, area, b) - _area_at(times, in_flight, area, a)
        point = in_flight[np.searchsorted(times, a, side="right") - 1]
        mean = np.divide(inside, span, out=point.astype(np.float64), where=span > 0)
        return np.maximum(mean, 1.0)

    return requests.with_columns(
        decode_concurrency=pl.Series(mean_between(first, end)),
        life_concurrency=pl.Series(mean_between(start, end)),
    )
