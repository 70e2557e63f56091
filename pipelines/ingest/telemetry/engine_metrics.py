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
from pipelines.ingest.telemetry.sql import in_day, literal, run

SERIES = ("host", "instance", "namespace", "pod", "model_name", "engine", "metric", "le", "ts")
# Candidates skip host and le: host is the instance label without its port when the host
# label is missing (a regex per row), and le is NULL on every stored series.
DUPLICATES = Duplicates(
    "engine",
    SERIES,
    "series and time",
    f"{literal(ENGINE_PREFIX)} || metric",
    ("instance", "namespace", "pod", "model_name", "engine", "metric", "ts"),
)
TABLE = "raw.engine_metric_samples"
SERIES_TABLE = "raw.engine_series"
LABELS = [c for c in ENGINE_SERIES_SCHEMA if c != "series_id"]
# 63 bits of DuckDB's hash of the labels, so the id is a plain (signed) BIGINT.
SERIES_ID = f"(hash({', '.join(LABELS)}) >> 1)::bigint"


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


def _rows(long: str) -> str:
    """The day's engine samples of ``long``, named and labelled as stored, with ``_why``:
    the reason a sample is quarantined, NULL for a good one."""
    return f"""
    select *, case
        when ts is null then {literal(NO_TIME)}
        when host is null then {literal(NO_HOST)}
        when value is null then {literal(NOT_A_NUMBER)}
        when isnan(value) then 'value is NaN'
        when isinf(value) then 'value is ' || _tel_float_text(value)
        when value < 0 then 'value ' || _tel_float_text(value) || ' is below 0'
    end as _why
    from (
        select file, line, ts, {_stored_labels()}, value
        from ({long}) where {is_used()} and {in_day()}
    )"""


def _series(long: str) -> str:
    """The day's series with their ids: told apart by their labels as read (one hash of
    strings per sample), then labelled as stored. A superset of the stored samples' series
    (a series whose every sample is quarantined is kept too). Those without a host are
    dropped from the result, not filtered here: DuckDB would push that filter below the
    DISTINCT, deriving the host of every sample instead of every series."""
    read = "host, instance, namespace, pod, model_name, engine, metric, le"
    labels = ", ".join(LABELS)
    return f"""select {SERIES_ID} as series_id, {labels} from (
        select {_stored_labels()} from (
            select distinct {read} from ({long}) where {is_used()} and {in_day()}))
        group by all"""


def load_engine(
    con: duckdb.DuckDBPyConnection, long: str, params: dict, counts: SampleCounts
) -> str:
    """Quarantine the bad engine samples and the conflicting duplicates; returns the SQL of
    the rows to store (``insert_engine`` writes them once the day passed its threshold)."""
    rows = _rows(long)
    # One pass over the day keeps each sample's candidate hash (bad samples too: a superset)
    # and what is wrong with the bad ones, instead of a pass for each.
    bad = "{'file': file, 'line': line, 'metric': metric, 'why': _why}"
    run(
        con,
        f"""create or replace temp table _tel_engine_scan as select {DUPLICATES.hash} as h,
            case when _why is not null then {bad} end as bad from ({rows})""",
        params,
    )
    con.execute(
        f"insert into {day_tables.QUARANTINE} select bad.file, bad.line, "
        f"{literal(ENGINE_PREFIX)} || bad.metric, bad.why, null from _tel_engine_scan "
        "where bad is not null"
    )
    run(con, f"create or replace temp table _tel_engine_series as {_series(long)}", params)
    con.execute("delete from _tel_engine_series where host is null")  # never stored
    good = f"select * exclude (_why) from ({rows}) where _why is null"
    return resolve(con, DUPLICATES, good, params, counts, "select h from _tel_engine_scan")


def insert_engine(
    con: duckdb.DuckDBPyConnection, rows: str, params: dict, counts: SampleCounts
) -> int:
    """Store ``rows``: the day's new series in ``raw.engine_series``, each sample with its
    series' id; ``counts`` gets the stored samples, counted back from the table."""
    store_series(con, "_tel_engine_series")
    run(
        con,
        f"insert into {TABLE} (ts, series_id, value, source_file_id, source_line) "
        f"select r.ts, {SERIES_ID}, r.value, f.source_file_id, r.line "
        f"from ({rows}) r join {day_tables.FILES} f on f.path = r.file",
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


def store_series(con: duckdb.DuckDBPyConnection, series: str) -> None:
    """Add the rows of ``series`` (a table of ``series_id`` and the labels, one row per
    series) that ``raw.engine_series`` lacks; fail if two series share an id (one series'
    samples would read as the other's)."""
    labels = ", ".join(LABELS)
    same = " and ".join(f"s.{c} is not distinct from d.{c}" for c in LABELS)
    (clashes,) = con.execute(
        f"""select count(*) from (
            select series_id from {series} group by 1 having count(*) > 1
            union all
            select series_id from {series} d
            join {SERIES_TABLE} s using (series_id) where not ({same}))"""
    ).fetchone()
    if clashes:
        raise ValueError(f"{clashes} vLLM series id collision(s) in {SERIES_TABLE}")
    con.execute(
        f"insert into {SERIES_TABLE} (series_id, {labels}) select series_id, {labels} "
        f"from {series} where series_id not in (select series_id from {SERIES_TABLE})"
    )
