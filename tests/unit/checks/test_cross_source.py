"""Cross-source reconciliations on hand-built tables (numbers checked by hand)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines.checks.cross_source import logged_vs_engine_tokens, telemetry_coverage

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
END = START + dt.timedelta(days=1)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'; create schema intermediate")
    con.execute(
        "create table intermediate.int_allocation__gpu_hours (hour_start timestamptz, "
        "deployment_id varchar, gpu_hours double, telemetry_coverage double)"
    )
    con.execute(
        "insert into intermediate.int_allocation__gpu_hours values "
        "('2026-11-01 00:00:00+00', 'a', 1.0, 1.0), ('2026-11-01 01:00:00+00', 'a', 1.0, 0.5), "
        "('2026-11-01 00:00:00+00', 'b', 2.0, 0.0), ('2026-11-01 00:00:00+00', null, 3.0, 0.0), "
        "('2026-11-02 00:00:00+00', 'a', 1.0, 0.0)"  # outside the window
    )
    con.execute(
        "create table intermediate.int_registry__resource_claims (selector_kind varchar, "
        "selector_value varchar, deployment_id varchar, valid_from date, valid_to date)"
    )
    con.execute(
        "insert into intermediate.int_registry__resource_claims values "
        "('request_model_name', 'm-a', 'a', '2026-10-01', null), "
        "('request_model_name', 'm-b', 'b', '2026-10-01', null)"
    )
    con.execute(
        "create table intermediate.int_engine__hourly (hour_start timestamptz, "
        "model_name varchar, prompt_tokens bigint, generation_tokens bigint)"
    )
    con.execute(
        "insert into intermediate.int_engine__hourly values "
        "('2026-11-01 00:00:00+00', 'm-a', 900, 100), ('2026-11-01 00:00:00+00', 'm-c', 5, 5)"
    )
    con.execute(
        "create table intermediate.int_requests__deployment_hourly (hour_start timestamptz, "
        "deployment_id varchar, input_tokens bigint, output_tokens bigint)"
    )
    con.execute(
        "insert into intermediate.int_requests__deployment_hourly values "
        "('2026-11-01 00:00:00+00', 'a', 880, 100), ('2026-11-01 00:00:00+00', 'b', 10, 10)"
    )
    return con


def test_telemetry_coverage_weights_gpu_hours_by_the_share_observed(con):
    rec = telemetry_coverage(con, START, END)
    # a: 1 + 0.5 of 2 GPU-hours seen; b: 0 of 2; unallocated hours are reported, not counted
    assert rec.by_deployment == {"a": 0.75, "b": 0.0}
    assert rec.ratio == 0.375
    assert rec.totals["unallocated_gpu_hours"] == 3.0


def test_logged_tokens_are_compared_where_both_sources_exist(con):
    rec = logged_vs_engine_tokens(con, START, END)
    assert rec.by_deployment == {"a": 0.98}  # 980 logged / 1,000 counted
    assert rec.ratio == 0.98
    assert rec.totals["deployments_logs_only"] == 1  # b has no engine metrics
