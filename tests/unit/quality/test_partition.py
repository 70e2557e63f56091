"""The partition suite run in bounded parts (``quality.partition``) reports what one GX run
on the whole partition reports: a bad row or a repeated key far beyond the first batch is
caught with its count, volume and means are judged on the whole partition."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import pytest

from pipelines.quality import expectations as ex
from pipelines.quality import frames
from pipelines.quality.partition import _read_ahead, validate_partition

START = dt.datetime(2026, 11, 5, tzinfo=dt.UTC)
END = START + dt.timedelta(days=1)
REQUESTS = ex.SOURCES["raw/inference_requests"]
ROWS = 2_500
BATCH = 1_000  # three row batches: rows 0-999, 1000-1999, 2000-2499
KEY = "ExpectCompoundColumnsToBeUnique(request_source, request_id)"


@pytest.fixture
def con():
    """``ROWS`` clean requests on START's day, in insertion order ``i``."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema raw")
    cols = ", ".join(f"{c} {t}" for c, t in REQUESTS.types.items())
    con.execute(f"create table raw.inference_requests ({cols})")
    con.execute(
        "insert into raw.inference_requests by name select 'requests' as request_source, "
        "'r' || i as request_id, ? + to_seconds(i * 30) as arrival_ts, 'ok' as status, "
        "7 as source_file_id, i + 1 as source_line, 100 + i % 7 as input_tokens, "
        "10 as output_tokens, case when i % 3 = 0 then null else 5 end as cached_tokens, "
        "50.0 as ttft_ms, 500.0 as e2e_ms from range(?) t(i)",
        [START, ROWS],
    )
    yield con
    con.close()


def _set(con, row: int, **values) -> None:
    """Change row ``row`` (its request_id is 'r<row>')."""
    sets = ", ".join(f"{c} = ?" for c in values)
    con.execute(
        f"update raw.inference_requests set {sets} where request_id = ?",
        [*values.values(), f"r{row}"],
    )


def _failed(outcome: ex.Outcome) -> dict[str, ex.Failure]:
    return {f.expectation: f for f in outcome.failures}


def test_clean_partition_passes_in_batches(con):
    outcome = validate_partition(con, REQUESTS, START, END, batch_rows=BATCH)
    assert outcome.success, outcome.failures
    assert outcome.rows == ROWS
    assert outcome.evaluated == len(ex.partition_suite(REQUESTS, START, END).expectations)


def test_bad_rows_in_late_batches_are_all_counted(con):
    _set(con, 1_500, input_tokens=-5)  # second batch
    _set(con, 2_400, input_tokens=-7)  # last batch
    _set(con, 2_450, status="weird")
    _set(con, 2_499, request_id=None)  # the very last row
    _set(con, 2_001, cached_tokens=900)  # > input_tokens
    failed = _failed(validate_partition(con, REQUESTS, START, END, batch_rows=BATCH))
    tokens = failed["ExpectColumnValuesToBeBetween(input_tokens)"]
    assert (tokens.unexpected_count, tokens.samples) == (2, [-5, -7])
    assert failed["ExpectColumnValuesToBeInSet(status)"].samples == ["weird"]
    assert failed["ExpectColumnValuesToNotBeNull(request_id)"].unexpected_count == 1
    pair = failed["ExpectColumnPairValuesAToBeGreaterThanB(input_tokens, cached_tokens)"]
    assert pair.unexpected_count == 1
    assert pair.samples == [[100 + 2_001 % 7, 900]]  # ints, though cached_tokens has NULLs
    assert len(failed) == 4


def test_samples_stop_at_max_samples_but_counts_do_not(con):
    con.execute("update raw.inference_requests set output_tokens = -1 where source_line > 900")
    failed = _failed(validate_partition(con, REQUESTS, START, END, batch_rows=BATCH))
    bad = failed["ExpectColumnValuesToBeBetween(output_tokens)"]
    assert bad.unexpected_count == ROWS - 900
    assert bad.samples == [-1] * ex.MAX_SAMPLES


def test_duplicate_key_split_across_batches_is_caught(con):
    _set(con, 2_400, request_id="r3")  # r3 in the first batch, its copy in the last
    failed = _failed(validate_partition(con, REQUESTS, START, END, batch_rows=BATCH))
    dup = failed[KEY]
    assert dup.unexpected_count == 2
    assert dup.samples[:2] == [{"request_source": "requests", "request_id": "r3"}] * 2
    assert list(failed) == [KEY]


def test_many_duplicates_are_counted_exactly_across_duplicate_batches(con):
    # 1,500 duplicate rows in 600 keys of 2 or 3 copies: more than one duplicate-key batch
    # of BATCH rows, so the cut between them must keep each key's copies together.
    con.execute(
        "update raw.inference_requests set request_id = 'k' || (source_line % 600) "
        "where source_line <= 1500"
    )
    failed = _failed(validate_partition(con, REQUESTS, START, END, batch_rows=BATCH))
    assert failed[KEY].unexpected_count == 1_500
    duplicates = frames.duplicate_key_batches(
        con, REQUESTS, START, END, ["request_source", "request_id"], 400
    )
    sizes, keys = [], []
    for frame in duplicates:
        sizes.append(len(frame))
        keys.append(set(frame["request_id"]))
    assert sum(sizes) == 1_500 and len(sizes) > 2
    assert all(not (a & b) for i, a in enumerate(keys) for b in keys[i + 1 :])


def test_batches_report_what_one_whole_frame_reports(con):
    for row in (10, 1_200, 2_300):
        _set(con, row, e2e_ms=-1.0, status=None)
    _set(con, 2_000, request_id="r0")
    _set(con, 2_100, arrival_ts=END)  # the next midnight is outside the partition
    suite = ex.partition_suite(REQUESTS, START, END)
    whole = ex.validate(frames.partition_frame(con, REQUESTS, START, END), suite)
    batched = validate_partition(con, REQUESTS, START, END, batch_rows=300)

    def summary(o: ex.Outcome) -> list:
        return [
            (
                f.expectation,
                f.unexpected_count,
                f.observed,
                f.samples if f.expectation != KEY else 0,
            )
            for f in o.failures
        ]

    assert summary(batched) == summary(whole)
    assert len(whole.failures) == 3  # not-null status, between e2e_ms, key (in-set skips NULL)
    assert whole.rows == batched.rows == ROWS - 1


def test_volume_and_means_are_judged_on_the_whole_partition(con):
    baseline = ex.Baseline(row_counts=(100,) * 4, means={"input_tokens": (900.0,) * 4})
    failed = _failed(validate_partition(con, REQUESTS, START, END, baseline, batch_rows=BATCH))
    assert failed["ExpectTableRowCountToBeBetween()"].observed == ROWS
    mean = failed["ExpectColumnMeanToBeBetween(input_tokens)"].observed
    assert mean == pytest.approx(sum(100 + i % 7 for i in range(ROWS)) / ROWS)
    assert set(failed) == {
        "ExpectTableRowCountToBeBetween()",
        "ExpectColumnMeanToBeBetween(input_tokens)",
    }
    ok = ex.Baseline(row_counts=(ROWS,) * 4, means={"input_tokens": (103.0,) * 4})
    assert validate_partition(con, REQUESTS, START, END, ok, batch_rows=BATCH).success


def test_empty_partition_fails_volume_like_an_empty_frame(con):
    day = START + dt.timedelta(days=10)
    baseline = ex.Baseline(row_counts=(100,) * 4, means={"input_tokens": (100.0,) * 4})
    outcome = validate_partition(con, REQUESTS, day, day + dt.timedelta(days=1), baseline)
    assert outcome.rows == 0
    assert outcome.evaluated == len(ex.partition_suite(REQUESTS, day, day, baseline).expectations)
    failed = _failed(outcome)
    assert failed["ExpectTableRowCountToBeBetween()"].observed == 0
    assert failed["ExpectColumnMeanToBeBetween(input_tokens)"].observed is None
    assert len(failed) == 2


def test_a_missing_column_fails_its_not_null_on_every_row(con):
    con.execute("alter table raw.inference_requests drop column status")
    failed = _failed(validate_partition(con, REQUESTS, START, END, batch_rows=BATCH))
    assert failed["ExpectColumnValuesToNotBeNull(status)"].unexpected_count == ROWS


def test_read_ahead_passes_on_the_readers_error_and_stops_when_abandoned():
    def frames_then_error():
        yield 1
        yield 2
        raise RuntimeError("disk gone")

    read = _read_ahead(frames_then_error())
    assert [next(read), next(read)] == [1, 2]
    with pytest.raises(RuntimeError, match="disk gone"):
        next(read)

    closed = []

    def endless():
        try:
            i = 0
            while True:
                i += 1
                yield i
        finally:
            closed.append(True)

    read = _read_ahead(endless())
    assert next(read) == 1
    read.close()
    assert closed == [True]


def test_single_column_uniqueness_skips_nulls_as_gx_does(con):
    rules = dataclasses.replace(REQUESTS, unique=("request_id",), not_null=())
    _set(con, 10, request_id=None)
    _set(con, 2_300, request_id=None)  # two NULL ids: not duplicates for GX
    _set(con, 2_400, request_id="r5")
    whole = ex.validate(
        frames.partition_frame(con, rules, START, END), ex.partition_suite(rules, START, END)
    )
    failed = _failed(validate_partition(con, rules, START, END, batch_rows=BATCH))
    assert failed["ExpectColumnValuesToBeUnique(request_id)"].unexpected_count == 2
    assert failed["ExpectColumnValuesToBeUnique(request_id)"].samples == ["r5", "r5"]
    assert _failed(whole)["ExpectColumnValuesToBeUnique(request_id)"].unexpected_count == 2
