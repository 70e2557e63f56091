"""The GX suites on small hand-made frames: a frame breaking each expectation fails it, and
the failure carries the offending values."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from pipelines.quality import expectations as ex
from pipelines.quality import frames

START = dt.datetime(2026, 11, 5, tzinfo=dt.UTC)
END = START + dt.timedelta(days=1)
REQUESTS = ex.SOURCES["raw/inference_requests"]
DCGM = ex.SOURCES["raw/dcgm_samples"]


def _requests(n: int = 4, **overrides) -> pd.DataFrame:
    ts = [START + dt.timedelta(hours=i) for i in range(n)]
    frame = pd.DataFrame(
        {
            "arrival_ts": ts,
            "request_source": ["requests"] * n,
            "request_id": [f"r{i}" for i in range(n)],
            "status": ["ok"] * n,
            "source_file_id": [7] * n,
            "input_tokens": [100 + i for i in range(n)],
            "output_tokens": [10] * n,
            "cached_tokens": [0] * n,
            "ttft_ms": [50.0] * n,
            "e2e_ms": [500.0] * n,
            ex.TS_EPOCH: [t.timestamp() for t in ts],
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def _failed(outcome: ex.Outcome) -> dict[str, ex.Failure]:
    return {f.expectation: f for f in outcome.failures}


def test_clean_partition_passes_every_expectation():
    outcome = ex.validate(_requests(), ex.partition_suite(REQUESTS, START, END))
    assert outcome.success, outcome.failures
    assert outcome.evaluated == len(ex.partition_suite(REQUESTS, START, END).expectations)


@pytest.mark.parametrize(
    ("column", "values", "expectation", "sample"),
    [
        ("request_id", ["r0", None, "r2", "r3"], "ExpectColumnValuesToNotBeNull(request_id)", None),
        ("input_tokens", [100, -5, 102, 103], "ExpectColumnValuesToBeBetween(input_tokens)", -5),
        ("output_tokens", [10, 10, -1, 10], "ExpectColumnValuesToBeBetween(output_tokens)", -1),
        ("status", ["ok", "ok", "weird", "ok"], "ExpectColumnValuesToBeInSet(status)", "weird"),
        (
            "cached_tokens",
            [0, 500, 0, 0],
            "ExpectColumnPairValuesAToBeGreaterThanB(input_tokens, cached_tokens)",
            None,
        ),
    ],
)
def test_each_row_expectation_fails_with_its_sample(column, values, expectation, sample):
    outcome = ex.validate(_requests(**{column: values}), ex.partition_suite(REQUESTS, START, END))
    failed = _failed(outcome)
    assert expectation in failed, failed
    assert failed[expectation].unexpected_count == 1
    if sample is not None:
        assert failed[expectation].samples == [sample]


def test_timestamp_outside_the_partition_fails_with_the_epoch():
    late = END.timestamp()  # the window is half-open: the next midnight is outside
    frame = _requests()
    frame.loc[3, ex.TS_EPOCH] = late
    failed = _failed(ex.validate(frame, ex.partition_suite(REQUESTS, START, END)))
    assert failed[f"ExpectColumnValuesToBeBetween({ex.TS_EPOCH})"].samples == [late]


def test_duplicate_natural_key_fails_with_the_key():
    frame = _requests(request_id=["r0", "r1", "r1", "r3"])
    failed = _failed(ex.validate(frame, ex.partition_suite(REQUESTS, START, END)))
    dup = failed["ExpectCompoundColumnsToBeUnique(request_source, request_id)"]
    assert dup.unexpected_count == 2
    assert {"request_source": "requests", "request_id": "r1"} in dup.samples


def test_dcgm_utilisation_out_of_range_fails():
    ts = [START, START + dt.timedelta(seconds=10)]
    frame = pd.DataFrame({c: [None, None] for c in DCGM.columns()})
    frame = frame.assign(
        ts=ts,
        gpu_uuid="GPU-1",
        series_id=7,
        source_file_id=1,
        gpu_util_pct=[50.0, 130.0],
        tensor_active=[0.5, 0.4],
        **{ex.TS_EPOCH: [t.timestamp() for t in ts]},
    )
    failed = _failed(ex.validate(frame, ex.partition_suite(DCGM, START, END)))
    assert list(failed) == ["ExpectColumnValuesToBeBetween(gpu_util_pct)"]
    assert failed["ExpectColumnValuesToBeBetween(gpu_util_pct)"].samples == [130.0]


def test_volume_and_mean_against_the_trailing_days():
    baseline = ex.Baseline(row_counts=(10, 10, 10, 10), means={"input_tokens": (100.0,) * 4})
    suite = ex.partition_suite(REQUESTS, START, END, baseline)
    failed = _failed(ex.validate(_requests(n=4, input_tokens=[900] * 4), suite))
    assert failed["ExpectTableRowCountToBeBetween()"].observed == 4
    assert failed["ExpectColumnMeanToBeBetween(input_tokens)"].observed == 900
    ok = ex.validate(_requests(n=10), suite)
    assert ok.success, ok.failures


def test_no_volume_expectations_without_enough_history():
    suite = ex.partition_suite(REQUESTS, START, END, ex.Baseline(row_counts=(10, 10)))
    assert not [e for e in suite.expectations if e.kind == "ExpectTableRowCountToBeBetween"]


def test_schema_suite_fails_on_money_as_double_and_a_missing_column():
    con = duckdb.connect()
    rules = ex.SOURCES["raw/billing_line_items"]
    cols = {**rules.types, "billed_cost": "DOUBLE"}
    del cols["delivery_id"]
    con.execute("create schema raw")
    con.execute(
        "create table raw.billing_line_items ("
        + ", ".join(f"{c} {t}" for c, t in cols.items())
        + ")"
    )
    failed = _failed(ex.validate(frames.schema_frame(con, rules), ex.schema_suite(rules)))
    assert failed["ExpectColumnValuesToBeInSet(billed_cost)"].samples == ["DOUBLE"]
    assert "delivery_id" in str(failed["ExpectTableColumnsToMatchSet()"].observed)
    assert failed["ExpectColumnValuesToBeInSet(delivery_id)"].error


def test_frames_read_one_partition_and_its_trailing_baseline():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema raw")
    con.execute(
        "create table raw.inference_requests as select 'requests' as request_source, "
        "'r' || i as request_id, timestamptz '2026-11-01 00:00:00+00' + "
        "to_hours(cast(i as bigint)) as arrival_ts, 'ok' as status, 7 as source_file_id, "
        "100 as input_tokens, 10 as output_tokens, 0 as cached_tokens, "
        "1.0 as ttft_ms, 2.0 as e2e_ms from range(24 * 4) t(i)"
    )
    frame = frames.partition_frame(con, REQUESTS, START, END)
    assert len(frame) == 0  # 2026-11-05 has no rows: ids run from 11-01 to 11-05 00:00 excl.
    day = dt.date(2026, 11, 4)
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    frame = frames.partition_frame(con, REQUESTS, start, start + dt.timedelta(days=1))
    assert len(frame) == 24 and frame[ex.TS_EPOCH].min() == start.timestamp()
    base = frames.baseline(con, REQUESTS, day)
    assert base.row_counts == (24, 24, 24) and base.means["input_tokens"] == (100.0,) * 3
    outcome = ex.validate(frame, ex.partition_suite(REQUESTS, start, start + dt.timedelta(1), base))
    assert outcome.success, outcome.failures
