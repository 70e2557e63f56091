"""Freshness: each source's expected arrival is configured and a due day without data fails or
warns as configured (pipelines/assets/freshness.py)."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest
from pydantic import ValidationError

from pipelines.assets.freshness import run_freshness_check
from pipelines.config import FreshnessConfig, SourceConfig

DAY = dt.date(2026, 11, 5)
WINDOW = dg.TimeWindow(
    dt.datetime(2026, 11, 4, tzinfo=dt.UTC), dt.datetime(2026, 11, 6, tzinfo=dt.UTC)
)
LATER = dt.datetime(2026, 11, 7, tzinfo=dt.UTC)


class _Settings:
    def __init__(self, **freshness):
        self.sources = {"requests": SourceConfig(location="logs", freshness=freshness)}


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema raw")
    # Rows on 2026-11-04 only: the 5th is missing.
    con.execute(
        "create table raw.inference_requests as "
        "select timestamptz '2026-11-04 10:00:00+00' as arrival_ts"
    )
    return con


@pytest.mark.parametrize(
    ("on_missing", "severity"),
    [("fail", dg.AssetCheckSeverity.ERROR), ("warn", dg.AssetCheckSeverity.WARN)],
)
def test_a_due_day_without_data_fails_or_warns_by_config(con, on_missing, severity):
    settings = _Settings(expected_by="09:00", on_missing=on_missing)
    result = run_freshness_check(con, "requests", settings, WINDOW, now=LATER)
    assert not result.passed and result.severity == severity
    assert result.metadata["days_missing"].value == ["2026-11-05"]
    assert result.metadata["missing"].value == ["no requests rows for 2026-11-05"]


def test_a_day_not_yet_due_passes(con):
    settings = _Settings(expected_by="09:00", on_missing="fail")
    before = dt.datetime(2026, 11, 6, 8, 59, tzinfo=dt.UTC)  # the 5th is due at the 6th 09:00
    result = run_freshness_check(con, "requests", settings, WINDOW, now=before)
    assert result.passed
    assert result.metadata["days_not_yet_due"].value == ["2026-11-05"]


def test_default_is_warn_when_the_day_ends():
    assert FreshnessConfig().on_missing == "warn"
    assert FreshnessConfig().due(DAY) == dt.datetime(2026, 11, 6, tzinfo=dt.UTC)


@pytest.mark.parametrize("bad", [{"expected_by": "9am"}, {"on_missing": "ignore"}, {"x": 1}])
def test_freshness_is_validated(bad):
    with pytest.raises(ValidationError):
        SourceConfig(location="logs", freshness=bad)
