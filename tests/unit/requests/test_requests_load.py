"""Loading a day: quarantine with our line numbers, the 1 % limit, duplicates, absurd tokens,
missing usage, and which files a day reads (RELIABILITY.md cases 26-29)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import polars as pl
import pytest
from requestlogs import record, write_lines

from pipelines.ingest.errors import SourceError
from pipelines.ingest.file_ids import file_id
from pipelines.ingest.requests.privacy import user_hash

DAY = dt.date(2026, 11, 1)


def load(loader, day=DAY):
    return loader.load_day(day, loader.files())


def test_bad_lines_are_quarantined_with_our_line_and_never_the_text(tmp_path, make_loader):
    lines = [record(i) for i in range(200)]
    lines[9] = '{"id": "req-9", "messages": [{"content": "SECRET PROMPT"}'  # line 10, cut off
    lines[150] = record(150, usage={"prompt_tokens": -5, "completion_tokens": 1})
    path = write_lines(tmp_path / "logs" / "date=2026-11-01" / "h.jsonl.gz", lines)
    day = load(make_loader())
    assert day.requests.height == 198
    assert day.quarantine.select("source_file", "line", "column_name", "reason").rows() == [
        (str(path), 10, None, "malformed JSON: Expecting ',' delimiter"),
        (str(path), 151, "usage.prompt_tokens", "negative token count"),
    ]
    assert day.quarantine["partition_day"].to_list() == [DAY, DAY]
    assert "SECRET" not in str(day.quarantine.rows())
    assert day.worst_malformed_ratio == pytest.approx(1 / 200)


def test_more_than_one_percent_malformed_lines_fails_the_file(tmp_path, make_loader):
    lines = [record(i) for i in range(99)] + ["not json", "{"]
    path = write_lines(tmp_path / "logs" / "date=2026-11-01" / "h.jsonl", lines)
    with pytest.raises(SourceError) as err:
        load(make_loader())
    assert str(err.value) == (
        f"{path}: 2 of 101 lines are malformed (1.98 %); more than 1 % fails the file"
    )


def test_exactly_one_percent_malformed_passes(tmp_path, make_loader):
    write_lines(tmp_path / "logs" / "h.jsonl", [record(i) for i in range(99)] + ["{"])
    assert load(make_loader()).requests.height == 99


def test_same_id_same_content_is_one_row_conflicting_content_is_quarantined(tmp_path, make_loader):
    # Rotation overlap: req-1 is in both files; req-2 was re-logged with other token counts.
    first = write_lines(tmp_path / "logs" / "a.jsonl", [record(i) for i in range(3)])
    changed = record(2, usage={"prompt_tokens": 7, "completion_tokens": 1})
    second = write_lines(tmp_path / "logs" / "b.jsonl", [record(1), changed, record(3)])
    day = load(make_loader())
    rows = day.requests.select("request_id", "source_file_id", "source_line").rows()
    first_id, second_id = file_id(str(first)), file_id(str(second))
    assert rows == [("req-0", first_id, 1), ("req-1", first_id, 2), ("req-3", second_id, 3)]
    assert day.quarantine.select("source_file", "line", "column_name", "reason").rows() == [
        (str(first), 3, "id", "request_id appears more than once with conflicting content"),
        (str(second), 2, "id", "request_id appears more than once with conflicting content"),
    ]


@pytest.mark.parametrize(
    ("model", "usage", "reason"),
    [
        (
            "small-ctx",
            {"prompt_tokens": 4000, "completion_tokens": 97},
            "prompt + completion tokens 4097 exceed max_position_embeddings 4096",
        ),
        (
            "not-in-the-registry",
            {"prompt_tokens": 131072, "completion_tokens": 1},
            "prompt + completion tokens 131073 exceed max_position_embeddings 131072",
        ),
        ("small-ctx", {"prompt_tokens": 1, "completion_tokens": -1}, "negative token count"),
    ],
)
def test_absurd_token_counts_are_quarantined(tmp_path, make_loader, model, usage, reason):
    lines = [record(0, model="small-ctx"), record(1, model=model, usage=usage)]
    write_lines(tmp_path / "logs" / "h.jsonl", lines)
    day = load(make_loader())
    assert day.requests["request_id"].to_list() == ["req-0"]
    assert day.quarantine["reason"].to_list() == [reason]


def test_at_the_context_limit_is_accepted(tmp_path, make_loader):
    usage = {"prompt_tokens": 4000, "completion_tokens": 96}
    write_lines(tmp_path / "logs" / "h.jsonl", [record(0, model="small-ctx", usage=usage)])
    assert load(make_loader()).requests["input_tokens"].to_list() == [4000]


def test_missing_usage_gives_null_tokens_and_a_flag_never_zero(tmp_path, make_loader):
    lines = [record(0), record(1, usage=None), record(2, usage={"prompt_tokens": 0})]
    write_lines(tmp_path / "logs" / "h.jsonl", lines)
    rows = load(make_loader()).requests.select(
        "request_id", "input_tokens", "output_tokens", "cached_tokens", "usage_missing"
    )
    assert rows.rows() == [
        ("req-0", 100, 20, 40, False),
        ("req-1", None, None, None, True),
        ("req-2", 0, None, None, True),
    ]


def test_timestamps_latencies_status_and_user_hash(tmp_path, make_loader):
    lines = [
        record(0, first_token_time="2026-11-01T11:00:00.5+01:00", ttft_ms=None, e2e_ms=900.0),
        record(1, status_code=503, user=None),
        record(2, status_code=None, status="failed", arrival_time=None, created=1793527200),
    ]
    write_lines(tmp_path / "logs" / "h.jsonl", lines)
    frame = load(make_loader(salt="s" * 16)).requests.sort("request_id")
    assert frame["ttft_ms"].to_list() == [500.0, 250.0, 250.0]
    assert frame["e2e_ms"].to_list() == [900.0, 2000.0, 2000.0]
    assert frame["status"].to_list() == ["ok", "error", "error"]
    assert frame["arrival_ts"][2] == dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)
    alice = user_hash("alice", "s" * 16)
    assert frame["user_hash"].to_list() == [alice, None, alice]
    assert alice == hmac.new(b"s" * 16, b"alice", hashlib.sha256).hexdigest()[:32]


def test_without_a_salt_the_user_is_dropped(tmp_path, make_loader):
    write_lines(tmp_path / "logs" / "h.jsonl", [record(0)])
    assert load(make_loader()).requests["user_hash"].to_list() == [None]


def test_a_day_reads_its_own_and_the_next_days_files_by_arrival(tmp_path, make_loader):
    late = record(1, arrival_time="2026-11-01T23:59:59.000000Z")
    write_lines(
        tmp_path / "logs" / "date=2026-10-31" / "h.jsonl",
        [record(9, arrival_time="2026-10-31T12:00:00Z")],
    )
    write_lines(tmp_path / "logs" / "date=2026-11-01" / "h.jsonl", [record(0)])
    write_lines(
        tmp_path / "logs" / "date=2026-11-02" / "h.jsonl",
        [late, record(2, arrival_time="2026-11-02T00:00:00Z")],
    )
    loader = make_loader()
    files = loader.files()
    first = loader.load_day(DAY, files)
    second = loader.load_day(DAY + dt.timedelta(days=1), files)
    assert first.requests["request_id"].to_list() == ["req-0", "req-1"]
    assert [f.rsplit("/", 2)[1] for f in first.files] == ["date=2026-11-01", "date=2026-11-02"]
    assert second.requests["request_id"].to_list() == ["req-2"]


def test_unparseable_timestamp_is_malformed_and_names_the_field(tmp_path, make_loader):
    lines = [record(i) for i in range(100)] + [record(100, finish_time="yesterday-ish")]
    write_lines(tmp_path / "logs" / "date=2026-11-01" / "h.jsonl", lines)
    day = load(make_loader())
    assert day.quarantine.select("line", "column_name", "reason").rows() == [
        (101, "finish_time", "unparseable timestamp")
    ]
    assert day.requests.height == 100
    assert day.requests.schema["arrival_ts"] == pl.Datetime("us", "UTC")


# Issue 12: epoch units, invalid UTF-8 and exact duplicates (RELIABILITY.md cases 11, 18, 29).

CREATED_S = 1793527200  # 2026-11-01T10:00:00Z


def test_epoch_milliseconds_read_as_seconds_fail_naming_file_line_and_field(tmp_path, make_loader):
    # Before: the rows landed in the year ~58,800 and vanished from every partition.
    lines = [record(0)] + [
        record(i, arrival_time=None, created=(CREATED_S + i) * 1000) for i in (1, 2)
    ]
    path = write_lines(tmp_path / "logs" / "h.jsonl", lines)
    with pytest.raises(SourceError) as err:
        load(make_loader())
    assert (err.value.file, err.value.line, err.value.column) == (str(path), 2, "created")
    assert "2 epoch value(s) are not times in seconds" in str(err.value)
    assert "they look like milliseconds" in str(err.value)
    assert "epoch_unit" in str(err.value)


def test_configured_millisecond_epochs_land_on_their_day(tmp_path, make_loader):
    lines = [record(i, arrival_time=None, created=(CREATED_S + i) * 1000 + 250) for i in (1, 2)]
    write_lines(tmp_path / "logs" / "h.jsonl", lines)
    day = load(make_loader(epoch_unit="ms"))
    assert day.requests["arrival_ts"].to_list() == [
        dt.datetime(2026, 11, 1, 10, 0, i, 250000, tzinfo=dt.UTC) for i in (1, 2)
    ]
    assert day.quarantine.height == 0


def test_configured_milliseconds_given_seconds_fail_too(tmp_path, make_loader):
    write_lines(tmp_path / "logs" / "h.jsonl", [record(1, arrival_time=None, created=CREATED_S)])
    with pytest.raises(SourceError, match="look like seconds"):
        load(make_loader(epoch_unit="ms"))


def test_an_unused_created_is_not_checked(tmp_path, make_loader):
    # arrival_time wins over created, so a millisecond created there is harmless.
    write_lines(tmp_path / "logs" / "h.jsonl", [record(0, created=CREATED_S * 1000)])
    assert load(make_loader()).requests.height == 1


def test_an_invalid_utf8_byte_in_a_prompt_keeps_the_usage_and_flags_the_row(tmp_path, make_loader):
    good = [json.dumps(record(i)) for i in range(3)]
    broken = json.dumps(record(3)).replace("hello there", "hello \udcff there")
    raw = "\n".join([*good, broken]).encode("utf-8", errors="surrogateescape") + b"\n"
    assert b"\xff" in raw
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "h.jsonl").write_bytes(raw)
    day = load(make_loader())
    assert day.quarantine.height == 0  # before: line 4 quarantined as "malformed JSON"
    rows = day.requests.sort("source_line")
    assert rows.select("request_id", "input_tokens", "output_tokens", "invalid_utf8").rows() == [
        ("req-0", 100, 20, False),
        ("req-1", 100, 20, False),
        ("req-2", 100, 20, False),
        ("req-3", 100, 20, True),
    ]


def test_exact_duplicate_lines_are_counted_per_file_never_silently_dropped(tmp_path, make_loader):
    write_lines(tmp_path / "logs" / "a.jsonl", [record(0), record(1), record(1)])
    write_lines(tmp_path / "logs" / "b.jsonl", [record(0), record(2), record(1)])
    day = load(make_loader())
    assert day.requests["request_id"].to_list() == ["req-0", "req-1", "req-2"]
    assert day.quarantine.height == 0
    a, b = (str(tmp_path / "logs" / n) for n in ("a.jsonl", "b.jsonl"))
    # The first copy by (file, line) is kept; each other copy is counted on its own file.
    assert day.exact_duplicates == {a: 1, b: 2}
    read = 6
    stored = day.requests.height
    assert stored + day.quarantine.height + sum(day.exact_duplicates.values()) == read
