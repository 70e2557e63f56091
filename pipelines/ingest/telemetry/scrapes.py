"""Checked DCGM samples -> ``raw.dcgm_samples`` rows: one row per GPU (or MIG slice) scrape.

Stored wide (a column per field, NULL when the scrape lacks it): a GPU scrape is what the
rollups read, and wide rows are ~20× fewer than long ones. Long samples are pivoted into one
row per (UUID, GPU_I_ID, ts); a key seen in more than one row (long and wide, two wide rows)
is deduplicated field by field from its samples, each keeping its own file and line. A row
names the file of its first sample in (file, line) order and its smallest line. A row
carries its key and ``series_id``: the labels (host, index, model, MIG profile, workload) are
stored once per series in ``raw.dcgm_series`` (``series``).

``gpu_type`` is the catalog id of the DCGM ``modelName`` through the explicit alias table
(``costmodel.gpus.resolve_gpu_name``): an exact match up to case and whitespace, else
``'unknown'`` with the raw name kept in ``gpu_model_name`` (RELIABILITY.md case 19; the
telemetry asset's WARN check lists them).

``namespace``/``pod``/``container`` are the workload dcgm-exporter maps to the GPU; labels
that name the exporter's own pod (a scrape target's labels on an idle GPU) are stored as NULL.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.costmodel.gpus import resolve_gpu_name
from pipelines.ingest.telemetry import day_tables
from pipelines.ingest.telemetry.counts import SampleCounts
from pipelines.ingest.telemetry.dedupe import Duplicates, resolve
from pipelines.ingest.telemetry.fields import (
    DCGM_SCHEMA,
    DCGM_SERIES_SCHEMA,
    EXPORTER_CONTAINER,
    EXPORTER_POD,
    FIELD_BY_COLUMN,
    FIELD_COLUMNS,
)
from pipelines.ingest.telemetry.samples import KEY, LABEL_COLUMNS, checked_rows
from pipelines.ingest.telemetry.series import series_id, store_series
from pipelines.ingest.telemetry.sql import literal, run

TABLE = "raw.dcgm_samples"
SERIES_TABLE = "raw.dcgm_series"
SERIES_LABELS = [c for c in DCGM_SERIES_SCHEMA if c != "series_id"]
SERIES_ID = series_id(SERIES_LABELS)
ROW = ["file", "line", "ts", "gpu_uuid", "gpu_instance_id", *LABEL_COLUMNS, *FIELD_COLUMNS]
MERGED = Duplicates("dcgm2", (*KEY, "field"), "GPU, field and time", "metric")
_SAME_KEY = " and ".join(f"d.{k} is not distinct from r.{k}" for k in KEY)
_KEY_HASH = f"hash({', '.join(KEY)})"


def _pivot(samples: str) -> str:
    """One row per key from one row per sample (deduplicated: one value per key and field)."""
    first = "(f.fid, s.line)"
    labels = [
        f"arg_min(s.{c}, {first}) filter (where s.{c} is not null) as {c}" for c in LABEL_COLUMNS
    ]
    fields = [f"max(s.value) filter (where s.field = {literal(c)}) as {c}" for c in FIELD_COLUMNS]
    return f"""select s.gpu_uuid, s.gpu_instance_id, s.ts, arg_min(s.file, {first}) as file,
        min(s.line) as line, {", ".join(labels + fields)}
        from ({samples}) s join {day_tables.FILES} f on f.path = s.file
        group by s.gpu_uuid, s.gpu_instance_id, s.ts"""


def merge(con: duckdb.DuckDBPyConnection, raw: str, params: dict, counts: SampleCounts) -> str:
    """The SQL of the rows to store, from ``_tel_dcgm_kept`` (long samples) and ``raw``'s
    checked rows (whose cells ``day_counts.count_wide`` counted as stored); ``counts`` gets
    the long samples stored, and the samples and copies of merged keys."""
    wide = checked_rows(raw)
    con.execute(
        f"create or replace temp table _tel_pivot as {_pivot('select * from _tel_dcgm_kept')}"
    )
    key = ", ".join(KEY)
    run(
        con,
        f"""create or replace temp table _tel_key_hashes as select distinct h from (
            select h, lag(h) over (order by h) as previous from (
                select {_KEY_HASH} as h from _tel_pivot
                union all select {_KEY_HASH} from ({wide}))) where h = previous""",
        params,
    )
    long = "select file, count(*) as n from _tel_dcgm_kept r {} group by file"
    if not con.execute("select count(*) from _tel_key_hashes").fetchone()[0]:
        counts.add_rows("stored", day_tables.per_file(con, long.format("")))
        row = ", ".join(ROW)
        return f"select {row} from ({wide}) union all select {row} from _tel_pivot"
    candidates = f"where {_KEY_HASH} in (select h from _tel_key_hashes)"
    run(
        con,
        f"""create or replace temp table _tel_dup_keys as select {key} from (
            select {key} from _tel_pivot {candidates}
            union all select {key} from ({wide}) {candidates})
        group by all having count(*) > 1""",
        params,
    )
    semi, anti = (f"{kind} join _tel_dup_keys d on ({_SAME_KEY})" for kind in ("semi", "anti"))
    # Prefiltered by the hash of the raw key, so only the candidate rows are checked and
    # probed, not every row of the day.
    raw_hash = "hash(gpu_uuid, _tel_to_int(gpu_instance_id), ts)"
    prefiltered = f"select * from ({raw}) where {raw_hash} in (select h from _tel_key_hashes)"
    run(
        con,
        f"""create or replace temp table _tel_wide_merged as
        select r.* from ({checked_rows(prefiltered)}) r {semi}""",
        params,
    )
    kept = _merge_samples(con, "select * from _tel_wide_merged", semi, counts)
    counts.add_rows("stored", day_tables.per_file(con, long.format(anti)))
    # The merged rows' wide cells were counted as stored with the rest: take them back.
    merged = f"select file, sum({_cells()}) as n from _tel_wide_merged group by file"
    counts.stored.subtract(dict(day_tables.per_file(con, merged)))
    rows = ", ".join(f"r.{c}" for c in ROW)
    return (
        f"select {rows} from ({wide}) r {anti} union all select {rows} from _tel_pivot r {anti} "
        f"union all select {', '.join(ROW)} from ({_pivot(kept)})"
    )


def _merge_samples(con, wide_rows: str, semi: str, counts: SampleCounts) -> str:
    """The samples of the keys seen in more than one row, deduplicated field by field: each
    long sample as read, each wide cell (a checked value) as its own sample."""
    run(
        con,
        f"""create or replace temp table _tel_merged as
        select r.* from _tel_dcgm_kept r {semi}
        union all by name
        select *, field as metric from (
            unpivot ({wide_rows}) on {", ".join(FIELD_COLUMNS)} into name field value value)""",
    )
    columns = ", ".join(c for c in ROW if c not in FIELD_COLUMNS)
    rows = f"select {columns}, field, metric, value from _tel_merged"
    kept = resolve(con, MERGED, rows, {}, counts)
    stored = day_tables.per_file(con, f"select file, count(*) as n from ({kept}) group by file")
    counts.add_rows("stored", stored)
    return kept


def _cells() -> str:
    return " + ".join(f"({c} is not null)::integer" for c in FIELD_COLUMNS)


def insert_dcgm(con: duckdb.DuckDBPyConnection, rows: str, models: set[str], params: dict) -> int:
    """Store ``rows``: the day's new series in ``raw.dcgm_series``, each scrape with its
    series' id. Unsupported 0 temperatures NULL, counters rounded (half to even, as polars
    rounded), ``gpu_type`` resolved from ``models`` (the wide rows' model names; the long
    ones' are added here), the file's id for its path."""
    _gpu_types(con, models)
    labelled = _labelled(rows)
    # The day's series from the labels alone (DuckDB reads no field column for them).
    run(
        con,
        f"create or replace temp table _tel_dcgm_series as select distinct {SERIES_ID} "
        f"as series_id, {', '.join(SERIES_LABELS)} from ({labelled})",
        params,
    )
    store_series(con, "_tel_dcgm_series", SERIES_TABLE, SERIES_LABELS)
    values = []
    for column, field in FIELD_BY_COLUMN.items():
        value = f"r.{column}"
        if field.zero_is_null:
            value = f"case when {value} != 0 then {value} end"
        if field.dtype == pl.Int64:
            value = f"cast(round_even({value}, 0) as bigint)"
        values.append(value)
    keys = ["r.ts", SERIES_ID, "r.gpu_uuid", "r.gpu_instance_id"]
    select = [*keys, *values, "f.source_file_id", "r.line"]
    inserted = run(
        con,
        f"""insert into {TABLE} ({", ".join(DCGM_SCHEMA)}) select {", ".join(select)}
        from ({labelled}) r join {day_tables.FILES} f on f.path = r.file""",
        params,
    ).fetchone()
    return int(inserted[0])


def _labelled(rows: str) -> str:
    """``rows`` with their labels as stored: ``gpu_type`` from the model name, no workload
    where the pod labels name the exporter itself."""
    workload = [f"case when not {_exporter_pod()} then r.{c} end as {c}" for c in WORKLOAD_LABELS]
    return f"""select r.* exclude ({", ".join(WORKLOAD_LABELS)}),
            coalesce(t.gpu_type, 'unknown') as gpu_type, {", ".join(workload)}
        from ({rows}) r left join _tel_gpu_types t on t.name = r.gpu_model_name"""


WORKLOAD_LABELS = ("namespace", "pod", "container")


def _exporter_pod() -> str:
    """SQL: the row's pod labels name dcgm-exporter's own pod (``fields.EXPORTER_POD``), not
    a workload; false when there are none."""
    pod = f"coalesce(regexp_matches(r.pod, {literal(EXPORTER_POD)}), false)"
    container = f"coalesce(regexp_matches(r.container, {literal(EXPORTER_CONTAINER)}), false)"
    return f"({pod} or {container})"


def _gpu_types(con: duckdb.DuckDBPyConnection, models: set[str]) -> None:
    long = con.execute("select distinct gpu_model_name from _tel_pivot").fetchall()
    names = sorted(models | {n for (n,) in long if n is not None})
    types = pl.DataFrame(
        {"name": names, "gpu_type": [resolve_gpu_name(n).gpu_id for n in names]},
        schema={"name": pl.String, "gpu_type": pl.String},
    )
    con.register("_tel_frame", types.to_arrow())
    con.execute("create or replace temp table _tel_gpu_types as select * from _tel_frame")
    con.unregister("_tel_frame")
