"""The calibration sample: of each deployment-day, the requests with the smallest keys."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.recommend.calibrate import SAMPLE_COLUMNS, calibration_sample

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def _requests() -> pl.DataFrame:
    rows = [  # (deployment, day, arrival, sample_key)
        ("a", D1, 1, 90),
        ("a", D1, 2, 10),
        ("a", D1, 3, 50),
        ("a", D2, 4, 70),
        ("b", D1, 5, 5),
        ("b", D1, 6, 80),
        ("b", D1, 7, 20),
    ]
    frame = pl.DataFrame(
        rows, schema=["deployment_id", "usage_date", "arrival_us", "sample_key"], orient="row"
    )
    others = {c: pl.lit(0) for c in SAMPLE_COLUMNS if c not in frame.columns}
    return frame.with_columns(**others)


def test_each_deployment_day_keeps_its_smallest_keys_in_arrival_order():
    sample = calibration_sample(_requests(), per_day=2)
    # a/D1 keeps keys 10 and 50 (arrivals 2, 3); a/D2 has one; b/D1 keeps 5 and 20 (5, 7)
    assert sample["arrival_us"].to_list() == [2, 3, 4, 5, 7]
    assert sample.columns == list(SAMPLE_COLUMNS)


def test_a_day_with_fewer_requests_than_the_cap_is_kept_whole():
    assert calibration_sample(_requests(), per_day=3).height == 7
