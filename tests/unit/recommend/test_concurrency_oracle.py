"""The test oracle for the concurrency sweep (concurrency_oracle.py), on hand-made streams:
replicas and days never see each other's requests; expected values worked by hand. The
warehouse's sweep (int_requests__replica_sweep) has its own dbt unit tests and is checked
against this oracle on a simulated fleet (tests/integration/test_replica_sweep.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from concurrency_oracle import add_concurrency

T0 = 1_793_527_200_000_000  # 2026-11-01 10:00 UTC, µs
S = 1_000_000
DAY = dt.date(2026, 11, 1)


def _requests(rows, sharing=None) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows,
        schema=[
            "deployment_id",
            "replica",
            "usage_date",
            "prefill_start_us",
            "first_token_us",
            "finish_us",
        ],
        orient="row",
    )
    return frame if sharing is None else frame.with_columns(replicas_sharing=pl.lit(sharing))


def test_replicas_twelve_days_apart_do_not_collide():
    """The first Python sweep laid replicas 10^12 µs (11.6 days) apart on one axis: a
    month-long window put replica B's request of day 12 on top of replica A's of day 0."""
    b_start = T0 + 10**12
    b_day = DAY + dt.timedelta(days=11)
    frame = add_concurrency(
        _requests(
            [
                ("d", "a", DAY, T0, T0 + S, T0 + 10 * S),
                ("d", "b", b_day, b_start, b_start + S, b_start + 10 * S),
            ]
        )
    )
    assert frame["life_concurrency"].to_list() == [1.0, 1.0]
    assert frame["decode_concurrency"].to_list() == [1.0, 1.0]


def test_overlap_on_one_replica_and_another_day_apart():
    """On one replica, r1 [0, 10] s decodes [1, 10]; r2 [5, 7] s 30 days later is on another
    day; r3 [5, 15] s overlaps r1 for 5 s. r1's life: 5 s alone, 5 s with r3 = 15 / 10; its
    decode [1, 10]: 4 s alone + 5 s with r3 = 14 / 9. r3's life [5, 15]: 5 s with r1, 5
    alone = 15 / 10; decode [6, 15]: 4 s with r1 + 5 alone = 13 / 9."""
    month = 30 * 86_400 * S
    later = DAY + dt.timedelta(days=30)
    frame = add_concurrency(
        _requests(
            [
                ("d", "a", DAY, T0, T0 + S, T0 + 10 * S),
                ("d", "a", later, T0 + month + 5 * S, T0 + month + 6 * S, T0 + month + 7 * S),
                ("d", "a", DAY, T0 + 5 * S, T0 + 6 * S, T0 + 15 * S),
            ]
        )
    )
    assert frame["life_concurrency"].to_list() == pytest.approx([1.5, 1.0, 1.5])
    assert frame["decode_concurrency"].to_list() == pytest.approx([14 / 9, 1.0, 13 / 9])


def test_each_day_is_swept_alone_and_empty_intervals_have_no_mean():
    """r1 arrives at 23:59:58 and runs 4 s into the next day; r2 arrives at 00:00:00 on one
    replica: each day is swept alone (as the split is), so neither sees the other. r3
    failed before its first token and r4 made one token at once: no decode interval."""
    midnight = T0 + 14 * 3600 * S
    next_day = DAY + dt.timedelta(days=1)
    frame = add_concurrency(
        _requests(
            [
                ("d", "a", DAY, midnight - 2 * S, midnight - S, midnight + 2 * S),
                ("d", "a", next_day, midnight, midnight + S, midnight + 3 * S),
                ("d", "a", next_day, midnight, None, midnight + S),
                ("d", "a", next_day, midnight + 4 * S, midnight + 5 * S, midnight + 5 * S),
            ]
        )
    )
    assert frame["life_concurrency"].to_list() == pytest.approx([1.0, 4 / 3, 2.0, 1.0])
    assert frame["decode_concurrency"].to_list()[:2] == pytest.approx([1.0, 1.0])
    assert frame["decode_concurrency"].to_list()[2:] == [None, None]


def test_a_host_stream_of_k_replicas_spreads_the_others_over_them():
    """r1 [0, 2] s and r2 [1, 3] s on one log stream of 2 replicas: each saw 1.5 on the
    stream over its life, so its own replica held 1 + 0.5 / 2 = 1.25; r1 decoded [1, 2] with
    r2 on the stream (1 + 1 / 2), r2 decoded [2, 3] alone."""
    frame = add_concurrency(
        _requests(
            [
                ("d", "h", DAY, T0, T0 + S, T0 + 2 * S),
                ("d", "h", DAY, T0 + S, T0 + 2 * S, T0 + 3 * S),
            ],
            sharing=2,
        )
    )
    assert frame["life_concurrency"].to_list() == [1.25, 1.25]
    assert frame["decode_concurrency"].to_list() == [1.5, 1.0]
