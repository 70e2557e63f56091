"""vLLM samples carry a series id; each series' labels are stored once (raw.engine_series)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.ingest.storage import list_files
from pipelines.ingest.telemetry.fields import ENGINE_SCHEMA
from pipelines.ingest.telemetry.load import load_day
from pipelines.ingest.telemetry.tables import ensure_tables
from pipelines.warehouse import connection_config

DAY = dt.date(2026, 11, 1)
T0 = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
LABELS = ["host", "instance", "namespace", "pod", "model_name", "engine", "metric", "le"]
# Each sample as the staging model presents it: the labels read back through the series.
LABELLED = f"""select ts, {", ".join(LABELS)}, value from raw.engine_metric_samples
    join raw.engine_series using (series_id) order by ts, metric, instance"""


def _vllm(path: Path, rows: list[tuple[str, str, float, dt.datetime]]) -> None:
    """rows: (instance, metric, value, ts), pod p-<instance port>."""
    pl.DataFrame(
        {
            "timestamp": [r[3] for r in rows],
            "metric": [r[1] for r in rows],
            "value": [r[2] for r in rows],
            "instance": [r[0] for r in rows],
            "namespace": ["ns"] * len(rows),
            "pod": [f"p-{r[0][-4:]}" for r in rows],
            "model_name": ["m"] * len(rows),
            "engine": ["0"] * len(rows),
        }
    ).write_parquet(path)


@pytest.fixture
def con():
    with duckdb.connect(config=connection_config()) as con:
        con.execute("set TimeZone = 'UTC'")
        ensure_tables(con)
        yield con


def _load(con, folder: Path, day: dt.date) -> None:
    con.execute("begin transaction")
    load_day(con, list_files(folder), day)
    con.execute("commit")


def test_series_are_stored_once_and_samples_read_back_with_their_labels(con, tmp_path):
    minute = dt.timedelta(minutes=1)
    _vllm(
        tmp_path / "a.parquet",
        [
            ("10.0.0.5:8000", "vllm:prompt_tokens_total", 100.0, T0),
            ("10.0.0.5:8000", "vllm:prompt_tokens_total", 160.0, T0 + minute),
            ("10.0.0.5:8001", "vllm:prompt_tokens_total", 7.0, T0),
            # the old name of kv_cache_usage_perc: the same series as the new name
            ("10.0.0.5:8000", "vllm:gpu_cache_usage_perc", 0.25, T0),
            ("10.0.0.5:8000", "vllm:kv_cache_usage_perc", 0.5, T0 + minute),
            ("10.0.0.5:8000", "vllm:prompt_tokens_total", 900.0, T0 + dt.timedelta(days=1)),
        ],
    )
    _load(con, tmp_path, DAY)
    _load(con, tmp_path, DAY + dt.timedelta(days=1))
    _load(con, tmp_path, DAY)  # a re-load adds no series
    # 3 series by hand: (8000, prompt_tokens_total), (8001, ...), (8000, kv_cache_usage_perc)
    assert con.execute("select count(*) from raw.engine_series").fetchone() == (3,)
    rows = con.execute(LABELLED).fetchall()
    a, b = ("10.0.0.5", "10.0.0.5:8000", "ns", "p-8000", "m", "0"), ("10.0.0.5", "10.0.0.5:8001")
    b += ("ns", "p-8001", "m", "0")
    assert rows == [
        (T0, *a, "kv_cache_usage_perc", None, 0.25),
        (T0, *a, "prompt_tokens_total", None, 100.0),
        (T0, *b, "prompt_tokens_total", None, 7.0),
        (T0 + minute, *a, "kv_cache_usage_perc", None, 0.5),
        (T0 + minute, *a, "prompt_tokens_total", None, 160.0),
        (T0 + dt.timedelta(days=1), *a, "prompt_tokens_total", None, 900.0),
    ]


def test_an_id_held_by_other_labels_fails_the_day(con, tmp_path):
    _vllm(tmp_path / "a.parquet", [("10.0.0.5:8000", "vllm:prompt_tokens_total", 1.0, T0)])
    _load(con, tmp_path, DAY)
    # As if another series' labels hashed to this id: the day refuses to merge them.
    con.execute("update raw.engine_series set pod = 'another-pod'")
    with pytest.raises(ValueError, match="series id collision"):
        _load(con, tmp_path, DAY)
    con.execute("rollback")


def test_a_table_with_labels_on_every_sample_moves_to_series_ids():
    old = [
        (T0, "h", "ns", "p", "h:1", "m", "0", "prompt_tokens_total", None, 5.0, 11, 1),
        (T0, "h", "ns", "p", "h:2", "m", "0", "prompt_tokens_total", None, 6.0, 11, 2),
        (T0 + dt.timedelta(minutes=1), "h", "ns", "p", "h:1", "m", "0", "prompt_tokens_total")
        + (None, 8.0, 11, 3),
    ]
    with duckdb.connect(config=connection_config()) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema raw")
        con.execute(
            "create table raw.engine_metric_samples (ts timestamptz, host varchar, "
            "namespace varchar, pod varchar, instance varchar, model_name varchar, "
            "engine varchar, metric varchar, le double, value double, source_file_id bigint, "
            "source_line bigint)"
        )
        con.executemany("insert into raw.engine_metric_samples values " + str(("?",) * 12)
                        .replace("'", ""), old)  # fmt: skip
        ensure_tables(con)
        columns = con.execute("describe raw.engine_metric_samples").fetchall()
        assert [c[0] for c in columns] == list(ENGINE_SCHEMA)
        assert con.execute("select count(*) from raw.engine_series").fetchone() == (2,)
        back = con.execute(
            "select ts, host, namespace, pod, instance, model_name, engine, metric, le, value, "
            "source_file_id, source_line from raw.engine_metric_samples "
            "join raw.engine_series using (series_id) order by source_line"
        ).fetchall()
        assert back == old
        ensure_tables(con)  # moved once: nothing left to move
        assert con.execute("select count(*) from raw.engine_series").fetchone() == (2,)


def test_copies_read_under_two_names_of_one_series_are_one_sample(con, tmp_path):
    """Duplicates are found by stored series, not by labels as read: vLLM's old and new name
    of the KV-cache gauge at one time are two copies of one sample (RELIABILITY.md case 23)."""
    minute = dt.timedelta(minutes=1)
    _vllm(
        tmp_path / "a.parquet",
        [
            ("10.0.0.5:8000", "vllm:gpu_cache_usage_perc", 0.25, T0),
            ("10.0.0.5:8000", "vllm:kv_cache_usage_perc", 0.25, T0),  # equal: one kept
            ("10.0.0.5:8000", "vllm:gpu_cache_usage_perc", 0.5, T0 + minute),
            ("10.0.0.5:8000", "vllm:kv_cache_usage_perc", 0.75, T0 + minute),  # conflict
        ],
    )
    con.execute("begin transaction")
    loaded = load_day(con, list_files(tmp_path), DAY)
    con.execute("commit")
    assert con.execute(LABELLED).fetchall() == [
        (T0, "10.0.0.5", "10.0.0.5:8000", "ns", "p-8000", "m", "0", "kv_cache_usage_perc")
        + (None, 0.25),
    ]
    quarantined = con.execute(
        "select line, column_name, reason from raw.quarantine_telemetry order by line"
    ).fetchall()
    why = "conflicting duplicate scrape: 2 values for this series and time"
    # Both named by the series' stored metric, as every engine quarantine row is.
    assert quarantined == [
        (3, "vllm:kv_cache_usage_perc", why),
        (4, "vllm:kv_cache_usage_perc", why),
    ]
    ledger = loaded.counts.ledger_rows("telemetry", DAY)
    assert sum(r.duplicates_dropped for r in ledger) == 1
