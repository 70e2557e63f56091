"""The simulator's bounded prefix cache (``pipelines/fleet/prefix_cache.py``), by hand."""

from __future__ import annotations

import numpy as np

from pipelines.fleet.arrivals import DayRequests
from pipelines.fleet.prefix_cache import limit_prefix_cache

HOUR_US = 3_600_000_000


def _day() -> DayRequests:
    # hour 0: three prompts of 1,000 tokens, each repeating 600; hour 5: one such prompt
    return DayRequests(
        arrival_us=np.array([0, 10, 20, 5 * HOUR_US]),
        input_tokens=np.full(4, 1_000),
        output_tokens=np.full(4, 10),
        cached_tokens=np.full(4, 600),
        repeated_prefix_tokens=np.full(4, 600),
    )


def test_a_cache_smaller_than_the_hours_prompts_keeps_its_share_of_each_repeat():
    out = limit_prefix_cache(_day(), capacity_tokens=1_500, replicas=1)
    # hour 0 takes in 3,000 tokens, the cache holds 1,500: half of each 600-token repeat hits;
    # hour 5 takes in 1,000 < 1,500: the whole repeat hits
    assert out.cached_tokens.tolist() == [300, 300, 300, 600]
    assert out.repeated_prefix_tokens.tolist() == [600] * 4
    assert out.input_tokens.tolist() == [1_000] * 4


def test_each_replica_holds_its_own_cache():
    out = limit_prefix_cache(_day(), capacity_tokens=1_000, replicas=2)
    # 2 × 1,000 held of hour 0's 3,000: 2/3 of 600 = 400
    assert out.cached_tokens.tolist() == [400, 400, 400, 600]


def test_no_capacity_given_keeps_every_repeat_and_zero_disables_caching():
    day = _day()
    assert limit_prefix_cache(day, None, 1) is day
    assert limit_prefix_cache(day, 0, 1).cached_tokens.tolist() == [0, 0, 0, 0]
