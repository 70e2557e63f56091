"""vLLM's own Prometheus metrics -> ``raw.engine_metric_samples``, one row per series sample.

Counters stay as read (``_total``); the dbt model ``int_engine__hourly`` turns them into
reset-aware hourly deltas and reads histograms through their ``_sum``/``_count`` series only.
Their ``_bucket`` series (a row per bucket, ~70 % of vLLM's samples) are not stored: the ledger
counts them as ``not_used``. Every gauge is kept. The older ``vllm:gpu_cache_usage_perc`` is
renamed to ``kv_cache_usage_perc`` (both a 0-1 fraction, despite the name). Every vLLM metric
is non-negative: NaN, ±Inf, negative and missing values are quarantined, like conflicting
duplicates and samples without a readable time or host (RELIABILITY.md 23-24). A family
whose series differ by a vLLM label (``fields.ENGINE_SERIES_LABELS``) is stored a series per
metric name (``request_success_total{finished_reason="stop"}``), so they never collide.

A sample row is (ts, series_id, value, file, line): its series' labels and metric are stored
once in ``raw.engine_series``. Writing seven label strings per sample was most of the ingest's
time (DuckDB appends and dictionary-compresses every string it stores); a day of 1,024 GPUs
has ~14 M samples of ~10 k series. The id is a hash of the labels (``SERIES_ID``): no lookup
to compute it, the same series gets the same id every day, and ``store_series`` refuses a
collision instead of merging two series.
"""

from __future__ import annotations

import duckdb

from pipelines.ingest.telemetry import day_tables
from pipelines.ingest.telemetry.counts import SampleCounts
from pipelines.ingest.telemetry.dedupe import Duplicates, resolve
from pipelines.ingest.telemetry.fields import (
    BUCKET_SUFFIX,
    ENGINE_PREFIX,
    ENGINE_RENAMES,
    ENGINE_SERIES_SCHEMA,
)
from pipelines.ingest.telemetry.samples import NO_HOST, NO_TIME, NOT_A_NUMBER
from pipelines.ingest.telemetry.series import series_id, store_series
from pipelines.ingest.telemetry.sql import in_day, literal, run

# A stored series and a time: ``series_id`` stands for the stored labels (``store_series``
# refuses two series with one id), so copies of a sample share it whatever labels they were
# read with.
DUPLICATES = Duplicates(
    "engine", ("series_id", "ts"), "series and time", f"{literal(ENGINE_PREFIX)} || metric"
)
TABLE = "raw.engine_metric_samples"
SERIES_TABLE = "raw.engine_series"
LABELS = [c for c in ENGINE_SERIES_SCHEMA if c != "series_id"]
SERIES_ID = series_id(LABELS)


def is_used() -> str:
    """A ``vllm:`` series that is stored (bucket series are not)."""
    prefix, bucket = literal(ENGINE_PREFIX), literal(BUCKET_SUFFIX)
    return f"starts_with(metric, {prefix}) and not suffix(metric, {bucket})"


def _stored_labels() -> str:
    """SQL: a sample's labels as stored, from its labels as read (a function of them alone,
    so the day's series can be labelled after they are told apart)."""
    name = f"substr(metric, {len(ENGINE_PREFIX) + 1})"
    renames = " ".join(f"when {literal(o)} then {literal(n)}" for o, n in ENGINE_RENAMES.items())
    return f"""_tel_host(host, instance) as host, instance, namespace, pod, model_name, engine,
        case {name} {renames} else {name} end as metric,
        _tel_to_double(regexp_replace(le, '^\\+', '')) as le"""


# The labels a series is told apart by as read; ``_RAW_KEY`` is their hash, computed once per
# sample (``_series`` maps it to the stored series, ``_scan`` joins the day's samples to it).
_READ_LABELS = "host, instance, namespace, pod, model_name, engine, metric, le"
_RAW_KEY = f"hash({_READ_LABELS})"


# What is wrong with a bad sample, as a code per sample (a byte, where the reason's text would
# be 16 bytes of every one of tens of millions of rows) and the reason it stands for.
_BAD = (
    ("ts is null", literal(NO_TIME)),
    ("host is null", literal(NO_HOST)),
    ("value is null", literal(NOT_A_NUMBER)),
    ("isnan(value)", "'value is NaN'"),
    ("isinf(value)", "'value is ' || _tel_float_text(value)"),
    ("value < 0", "'value ' || _tel_float_text(value) || ' is below 0'"),
)


def _bad_code() -> str:
    """SQL: the ``_BAD`` code of a sample (``ts``, ``value``, its series' stored ``host``),
    counted from 1; NULL for a good one."""
    whens = " ".join(f"when {test} then {i}" for i, (test, _) in enumerate(_BAD, start=1))
    return f"(case {whens} end)::utinyint"


def _reason() -> str:
    """SQL: the reason of a ``bad`` code, from the sample's ``value``."""
    whens = " ".join(f"when {i} then {why}" for i, (_, why) in enumerate(_BAD, start=1))
    return f"case bad {whens} end"


def _series(long: str) -> str:
    """The day's series: each distinct set of labels as read (``raw_key``, a hash of them),
    labelled as stored, with its ``series_id``. Several read label sets may be one stored
    series (the older metric name, a host from the instance label). A superset of the stored
    samples' series (a series whose every sample is quarantined is kept too)."""
    return f"""select raw_key, {SERIES_ID} as series_id, {", ".join(LABELS)}
        from (select {_RAW_KEY} as raw_key, {_stored_labels()} from (
            select distinct {_READ_LABELS} from ({long}) where {is_used()} and {in_day()}))"""


def _scan(long: str) -> str:
    """One narrow row per used sample of the day: its file's ``fid``, line, time, value and
    stored series, ``bad`` its ``_BAD`` code. Labels are hashed once per sample and stored
    once per series: the strings of tens of millions of samples are never copied."""
    return f"""select f.fid, r.line, r.ts, r.value, s.series_id, {_bad_code()} as bad
        from (select file, line, ts, value, {_RAW_KEY} as raw_key from ({long})
              where {is_used()} and {in_day()}) r
        join _tel_engine_raw_series s using (raw_key)
        join {day_tables.FILES} f on f.path = r.file"""


def load_engine(
    con: duckdb.DuckDBPyConnection, long: str, params: dict, counts: SampleCounts
) -> str:
    """Quarantine the bad engine samples and the conflicting duplicates; returns the SQL of
    the rows to store (``insert_engine`` writes them once the day passed its threshold).
    The day's samples are read twice: their distinct labels, then one narrow pass."""
    run(con, f"create or replace temp table _tel_engine_raw_series as {_series(long)}", params)
    (clashes,) = con.execute(
        "select count(*) from (select raw_key from _tel_engine_raw_series "
        "group by 1 having count(*) > 1)"
    ).fetchone()
    if clashes:  # two label sets with one hash: a sample would land in the other's series
        raise ValueError(f"{clashes} vLLM label hash collision(s) in the day's series")
    run(con, f"create or replace temp table _tel_engine_scan as {_scan(long)}", params)
    con.execute(
        f"insert into {day_tables.QUARANTINE} select f.path, s.line, "
        f"{literal(ENGINE_PREFIX)} || m.metric, {_reason()}, null from _tel_engine_scan s "
        f"join {day_tables.FILES} f using (fid) join (select distinct series_id, metric "
        "from _tel_engine_raw_series) m using (series_id) where s.bad is not null"
    )
    labels = ", ".join(LABELS)
    con.execute(
        "create or replace temp table _tel_engine_series as select distinct series_id, "
        f"{labels} from _tel_engine_raw_series where host is not null"  # never stored
    )
    good = f"""select f.path as file, f.source_file_id, s.line, s.ts, s.series_id, s.value,
            m.metric
        from _tel_engine_scan s join {day_tables.FILES} f using (fid)
        join _tel_engine_series m using (series_id) where s.bad is null"""
    candidates = f"select {DUPLICATES.hash} as h from _tel_engine_scan"
    return resolve(con, DUPLICATES, good, params, counts, candidates)


def insert_engine(
    con: duckdb.DuckDBPyConnection, rows: str, params: dict, counts: SampleCounts
) -> int:
    """Store ``rows``: the day's new series in ``raw.engine_series``, each sample with its
    series' id; ``counts`` gets the stored samples, counted back from the table."""
    store_series(con, "_tel_engine_series", SERIES_TABLE, LABELS)
    run(
        con,
        f"insert into {TABLE} (ts, series_id, value, source_file_id, source_line) "
        f"select r.ts, r.series_id, r.value, r.source_file_id, r.line from ({rows}) r",
        params,
    )
    stored = run(
        con,
        f"select f.uri, count(*) from {TABLE} t join {day_tables.FILES} f using (source_file_id) "
        "where t.ts >= $start and t.ts < $end group by f.uri",
        params,
    ).fetchall()
    counts.add_rows("stored", stored)
    return sum(n for _, n in stored)
