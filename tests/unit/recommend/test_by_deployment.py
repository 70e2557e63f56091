"""Per-deployment passes over the requests frame: the same rows, in the same order, as one
pass over the whole frame, whether or not the frame comes ordered by deployment."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.recommend.inputs import by_deployment
from pipelines.recommend.observations import request_days

DAY = dt.date(2026, 11, 1)


def _requests(order: list[int]) -> pl.DataFrame:
    # three deployments, two days; request i arrives at i s, TTFT 100 + i ms, 11 tokens
    deployments = ["b", "a", "b", "c", "a", "b", "a"]
    rows = [
        {
            "deployment_id": deployments[i],
            "usage_date": DAY + dt.timedelta(days=i % 2),
            "arrival_us": i * 1_000_000,
            "first_token_us": i * 1_000_000 + (100 + i) * 1000,
            "finish_us": i * 1_000_000 + 2_000_000,
            "input_tokens": 10 * i,
            "output_tokens": 11,
            "cached_tokens": i,
            "ok": i != 3,
            "observed_share": 0.5,
            "life_concurrency": 1.0 + i / 4,
        }
        for i in order
    ]
    return pl.DataFrame(rows)


def test_a_sorted_frame_is_cut_into_slices_of_each_deployment_in_order():
    frame = _requests([1, 4, 6, 0, 2, 5, 3]).sort("deployment_id", maintain_order=True)
    parts = [(d, p["input_tokens"].to_list()) for d, p in by_deployment(frame)]
    assert parts == [("a", [10, 40, 60]), ("b", [0, 20, 50]), ("c", [30])]


def test_an_unsorted_frame_gives_the_same_parts_each_in_its_own_order():
    frame = _requests([6, 0, 3, 4, 2, 1, 5])
    parts = [(d, p["input_tokens"].to_list()) for d, p in by_deployment(frame)]
    assert parts == [("a", [60, 40, 10]), ("b", [0, 20, 50]), ("c", [30])]


def test_request_days_by_hand():
    days = request_days(_requests(list(range(7))))
    a_day1 = days.filter(pl.col("deployment_id") == "a", pl.col("usage_date") == DAY)
    # a's requests on day 1 (even i): 4 and 6; TTFT 104 and 106 ms; TPOT (2000 - TTFT) / 10
    assert a_day1.select("requests", "input_tokens", "mean_ttft_ms", "mean_tpot_ms").row(0) == (
        2,
        100,
        105.0,
        (1896 + 1894) / 2 / 10,
    )
    c_day2 = days.filter(pl.col("deployment_id") == "c").row(0, named=True)
    # c's only request (i = 3) failed: counted, but no latency
    assert (c_day2["requests"], c_day2["mean_ttft_ms"]) == (1, None)
    assert days.height == 5  # a×2 days, b×2, c×1
