"""Requests on a replica's GPUs, per request: replicas never see each other's requests,
however long the window (hand-made streams, expected values worked by hand)."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.recommend.concurrency import add_concurrency

T0 = 1_793_527_200_000_000  # 2026-11-01 10:00 UTC, µs
S = 1_000_000


def _requests(rows) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["deployment_id", "replica", "prefill_start_us", "first_token_us", "finish_us"],
        orient="row",
    )


def test_replicas_twelve_days_apart_do_not_collide():
    """The old sweep laid replicas 10^12 µs (11.6 days) apart on one axis: a month-long
    window put replica B's request of day 12 on top of replica A's of day 0."""
    b_start = T0 + 10**12
    frame = add_concurrency(
        _requests(
            [
                ("d", "a", T0, T0 + S, T0 + 10 * S),
                ("d", "b", b_start, b_start + S, b_start + 10 * S),
            ]
        )
    )
    assert frame["life_concurrency"].to_list() == [1.0, 1.0]
    assert frame["decode_concurrency"].to_list() == [1.0, 1.0]


def test_overlap_on_one_replica_over_a_month():
    """On one replica, r1 [0, 10] s decodes [1, 10]; r2 [5, 7] s 30 days later-and-back is
    on another day; r3 [5, 15] s overlaps r1 for 5 s. r1's life: 5 s alone, 5 s with r3 =
    15 / 10; its decode [1, 10]: 4 s alone + 5 s with r3 = 14 / 9. r3's life [5, 15]: 5 s
    with r1, 5 alone = 15 / 10; decode [6, 15]: 4 s with r1 + 5 alone = 13 / 9."""
    month = 30 * 86_400 * S
    frame = add_concurrency(
        _requests(
            [
                ("d", "a", T0, T0 + S, T0 + 10 * S),
                ("d", "a", T0 + month + 5 * S, T0 + month + 6 * S, T0 + month + 7 * S),
                ("d", "a", T0 + 5 * S, T0 + 6 * S, T0 + 15 * S),
            ]
        )
    )
    assert frame["life_concurrency"].to_list() == pytest.approx([1.5, 1.0, 1.5])
    assert frame["decode_concurrency"].to_list() == pytest.approx([14 / 9, 1.0, 13 / 9])
