"""Load one UTC day of a telemetry source into the raw tables, in the caller's transaction.

Files are picked by kind from their name, so one folder (or S3 prefix) can hold scraper
files, Prometheus exports and long/wide CSV or Parquet side by side. Parquet is read, checked
and deduplicated by DuckDB where it lies (``sources``), the small formats in Python one file
at a time (``staging``); rows go straight from the SQL into ``raw.dcgm_samples``,
``raw.engine_metric_samples`` and ``raw.quarantine_telemetry``, so memory is bounded by
DuckDB's limit (it spills) and one small file, whatever the day's size.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import S3Config
from pipelines.ingest.file_ids import file_id, register_files
from pipelines.ingest.storage import SourceFile, local_copy
from pipelines.ingest.telemetry import day_tables, engine_metrics, samples, scrapes, sql, staging
from pipelines.ingest.telemetry.counts import SampleCounts
from pipelines.ingest.telemetry.day_counts import count_long, count_wide
from pipelines.ingest.telemetry.exposition import time_from_name
from pipelines.ingest.telemetry.fields import (
    DCGM_SAMPLE_COLUMNS,
    DCGM_SCHEMA,
    ENGINE_SAMPLE_COLUMNS,
)
from pipelines.ingest.telemetry.sources import LONG_COLUMNS, WIDE_COLUMNS, DayFile, ParquetReads
from pipelines.ingest.telemetry.tables import SOURCE, clear_day, ensure_tables, store_quarantine
from pipelines.ingest.telemetry.threshold import check_threshold
from pipelines.warehouse import connection_config

EXPOSITION_SUFFIXES = (".prom", ".txt", ".metrics", ".om")
TABLE_SUFFIXES = (".parquet", ".csv")
_DAY_IN_PATH = re.compile(r"date=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class DayLoad:
    files: int
    input_samples: int  # samples of the day (or without a readable time), any metric
    counts: SampleCounts  # per file: the telemetry terms of raw.ingest_ledger
    dcgm_rows: int
    engine_rows: int
    quarantine_rows: int
    by_field: dict[str, int]  # quarantine rows per column_name
    bad_by_file: list[tuple[str, int]]  # bad samples per file, a conflicting key counted once


def files_for_day(files: list[SourceFile], day: dt.date) -> list[SourceFile]:
    """Files that may hold samples of ``day``: hive ``date=`` folders and timestamped scrape
    files are pruned by name; anything else is read and filtered by sample time."""
    picked = []
    for f in files:
        if not f.relative_path.endswith(EXPOSITION_SUFFIXES + TABLE_SUFFIXES):
            continue
        named_day = _DAY_IN_PATH.search(f.relative_path)
        named_ts = time_from_name(f.relative_path)
        if named_day and named_day.group(1) != day.isoformat():
            continue
        if named_ts and f.relative_path.endswith(EXPOSITION_SUFFIXES) and named_ts.date() != day:
            continue
        picked.append(f)
    return sorted(picked, key=lambda f: f.uri)  # fid order is URI order


def load_day(
    con: duckdb.DuckDBPyConnection,
    files: list[SourceFile],
    day: dt.date,
    s3: S3Config | None = None,
) -> DayLoad:
    """Replace ``day``'s telemetry rows and quarantine, inside the caller's transaction (the
    caller commits them together with the ledger rows from ``DayLoad.counts``).

    Fails with ``SourceError`` before writing anything when the day's bad samples exceed
    ``threshold.check_threshold``'s limit; the caller rolls back, which also drops the
    ``_tel_*`` temp tables (dropping them here could mask the error: DuckDB refuses every
    statement of a transaction a failed statement aborted).
    """
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    params = {"start": start, "end": start + dt.timedelta(days=1)}
    picked = files_for_day(files, day)
    counts = SampleCounts()
    clear_day(con, day)
    sql.create_macros(con)
    with ExitStack() as local:
        reads = _read_files(con, picked, local, s3, params, counts)
        loaded = _load(con, reads, params, counts, day)
    register_files(con, SOURCE, [f.uri for f in picked])
    day_tables.drop_all(con)
    return DayLoad(len(picked), counts.in_window(), counts, *loaded)


def _read_files(con, picked, local: ExitStack, s3, params: dict, counts: SampleCounts):
    """Stage the files read in Python, plan the Parquet DuckDB reads in place."""
    paths = {}
    for f in picked:
        counts.add_file("read", f.uri, 0)  # an empty file still gets its ledger row
        if not f.relative_path.endswith(EXPOSITION_SUFFIXES):
            paths[f.uri] = str(local.enter_context(local_copy(f, s3)))
    day_files = [
        DayFile(i, f.uri, paths.get(f.uri, f.uri), file_id(f.uri)) for i, f in enumerate(picked)
    ]
    day_tables.create(con, day_files)
    staging.create_tables(con)
    bounds = (params["start"], params["end"])
    reads = ParquetReads()
    for f, day_file in zip(picked, day_files, strict=True):
        if f.relative_path.endswith(EXPOSITION_SUFFIXES):
            staging.stage_text(con, f, day_file, s3, bounds, counts)
        elif not (
            f.relative_path.endswith(".parquet")
            and reads.add(day_file.path, pl.read_parquet_schema(day_file.path), f.uri)
        ):
            staging.stage_table(con, Path(day_file.path), day_file, bounds, counts)
            reads.staged.add(f.uri)
    return reads


def _relations(reads: ParquetReads, params: dict) -> tuple[str | None, str, str]:
    """The long Parquet reads, and every long and every wide row of the day's files."""
    long_parquet = reads.relation("long", params)
    wide_parquet = reads.relation("wide", params)
    long = f"select {', '.join(LONG_COLUMNS)} from {staging.STAGED_LONG}"
    wide = f"select {', '.join(WIDE_COLUMNS)} from {staging.STAGED_WIDE}"
    long_all = f"{long} union all {long_parquet}" if long_parquet else long
    wide_all = f"{wide} union all {wide_parquet}" if wide_parquet else wide
    return long_parquet, long_all, wide_all


def _load(con, reads: ParquetReads, params: dict, counts: SampleCounts, day: dt.date) -> tuple:
    long_parquet, long_all, wide_all = _relations(reads, params)
    count_long(con, long_parquet, params, counts)
    models = count_wide(con, wide_all, reads.staged, params, counts)
    engine = engine_metrics.load_engine(con, long_all, params, counts)
    samples.check_long(con, long_all, params, counts)
    samples.check_wide(con, wide_all, params)
    dcgm = scrapes.merge(con, wide_all, params, counts)
    quarantined = f"select file, count(*) as n from {day_tables.QUARANTINE} group by file"
    counts.add_rows("quarantined", day_tables.per_file(con, quarantined))
    bad_by_file = check_threshold(con, counts.in_window(), day)
    engine_rows = engine_metrics.insert_engine(con, engine, params, counts)
    dcgm_rows = scrapes.insert_dcgm(con, dcgm, models, params)
    quarantine_rows, by_field = store_quarantine(con, day)
    return dcgm_rows, engine_rows, quarantine_rows, by_field, bad_by_file


@dataclass(frozen=True)
class TelemetryDay:
    """One day's rows as frames (``read_day``): for tests, tools and small days."""

    dcgm: pl.DataFrame
    engine: pl.DataFrame
    quarantine: pl.DataFrame  # samples.STORED_QUARANTINE_COLUMNS
    files: int
    input_samples: int
    counts: SampleCounts
    bad_by_file: list[tuple[str, int]]


def read_day(files: list[SourceFile], day: dt.date, s3: S3Config | None = None) -> TelemetryDay:
    """``load_day`` into a private in-memory DuckDB, read back as frames (ordered by key;
    engine rows and quarantine by file and line)."""
    with duckdb.connect(config=connection_config()) as con:
        con.execute("set TimeZone = 'UTC'")
        ensure_tables(con)
        con.execute("begin transaction")  # as the asset loads a day
        loaded = load_day(con, files, day, s3)
        con.execute("commit")
        # Each scrape with its series' labels, as stored before the series table.
        dcgm = con.execute(
            f"select {', '.join(f's.{c}' if c in DCGM_SCHEMA else c for c in DCGM_SAMPLE_COLUMNS)} "
            "from raw.dcgm_samples s join raw.dcgm_series using (series_id) "
            "order by host, gpu_index, s.gpu_uuid, s.gpu_instance_id, ts nulls last"
        ).pl()
        # Each sample with its series' labels, as stored before the series table.
        engine = con.execute(
            f"select {', '.join(ENGINE_SAMPLE_COLUMNS)} from raw.engine_metric_samples "
            "join raw.engine_series using (series_id) join raw.source_files s "
            "using (source_file_id) order by s.uri, source_line"
        ).pl()
        quarantine = con.execute(
            "select source_file, line, column_name, reason from raw.quarantine_telemetry "
            "order by source_file, line, column_name"
        ).pl()
    return TelemetryDay(
        dcgm, engine, quarantine, loaded.files, loaded.input_samples, loaded.counts,
        loaded.bad_by_file,
    )  # fmt: skip
