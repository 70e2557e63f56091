"""Public request traces: the Azure LLM inference CSV and the Mooncake JSONL.

Traces carry no request id, model or host, so ``unitcost.yaml`` says whose traffic each file
is (``sources.requests.traces``: path glob, model_name, optional host, and for Mooncake the
UTC ``start`` its millisecond offsets count from). The request id is ``<file>:<line>``,
stable across re-runs. Neither trace has latencies, status or cache detail: those stay NULL
(status 'ok'). Azure's zone-less TIMESTAMP is taken as UTC (its 7 fractional digits are
truncated to µs).
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import io
import re
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import TraceFileConfig
from pipelines.ingest.errors import SourceError
from pipelines.ingest.quarantine import QuarantinedRow
from pipelines.ingest.requests.fields import AZURE_COLUMNS, INT, MOONCAKE
from pipelines.ingest.requests.normalise import EPOCH_US, TS, check_epoch
from pipelines.ingest.requests.reader import (
    FlatFile,
    count_lines,
    open_file,
    parse_timestamps,
    read_jsonl,
)
from pipelines.warehouse import connection_config

_AZURE_SCHEMA = {
    "source_line": pl.Int64,
    **{name: (pl.Int64 if kind == INT else pl.String) for name, kind in AZURE_COLUMNS.values()},
}


def trace_entry(relative_path: str, traces: list[TraceFileConfig], display: str):
    for entry in traces:
        if fnmatch.fnmatch(relative_path, entry.path):
            return entry
    raise SourceError(
        display, "no sources.requests.traces entry in unitcost.yaml matches this trace file"
    )


def _azure_fast(path: Path) -> pl.DataFrame | None:
    con = duckdb.connect(config=connection_config(preserve_insertion_order=True))
    columns = {header: kind for header, (_, kind) in AZURE_COLUMNS.items()}
    try:
        frame = con.execute(
            "select * from read_csv(?, header=true, auto_detect=false, delim=',', quote='\"', "
            "columns=?, strict_mode=true)",
            [str(path), columns],
        ).pl()
    except duckdb.Error:
        return None
    finally:
        con.close()
    if frame.height != count_lines(path) - 1:
        return None
    names = {header: name for header, (name, _) in AZURE_COLUMNS.items()}
    frame = frame.rename(names).with_row_index("source_line", offset=2)
    return frame.cast(_AZURE_SCHEMA).select(_AZURE_SCHEMA.keys())


def _azure_careful(path: Path, display: str) -> FlatFile:
    rows, bad, lines = [], [], 0
    with open_file(path) as handle:
        # surrogateescape: a corrupt byte stays in its field (as a lone surrogate) instead of
        # raising mid-file, so the one bad row is quarantined with its line, not the file lost.
        text = io.TextIOWrapper(handle, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.reader(text)
        header = next(reader, None)
        if header != list(AZURE_COLUMNS):
            raise SourceError(display, f"expected the header {','.join(AZURE_COLUMNS)}", line=1)
        for record in reader:
            lines += 1
            number = reader.line_num
            row, problem = _azure_row(record)
            if problem:
                bad.append(QuarantinedRow(display, number, problem[0], problem[1]))
            else:
                rows.append({"source_line": number, **row})
    return FlatFile(pl.DataFrame(rows, schema=_AZURE_SCHEMA), bad, lines)


_INVALID_UTF8 = re.compile("[\udc80-\udcff]")  # bytes surrogateescape could not decode


def _azure_row(record: list[str]):
    if len(record) != len(AZURE_COLUMNS):
        return None, (None, f"expected {len(AZURE_COLUMNS)} fields, got {len(record)}")
    row = {}
    for value, (header, (name, kind)) in zip(record, AZURE_COLUMNS.items(), strict=True):
        if _INVALID_UTF8.search(value):
            return None, (header, "not valid UTF-8")
        if kind == INT:
            try:
                row[name] = int(value)
            except ValueError:
                return None, (header, "expected an integer")
        else:
            row[name] = value
    return row, None


def read_azure(path: Path, display: str) -> FlatFile:
    fast = _azure_fast(path)
    if fast is not None:
        return FlatFile(fast, [], fast.height)
    return _azure_careful(path, display)


def _common(flat: pl.DataFrame, entry: TraceFileConfig, relative_path: str) -> pl.DataFrame:
    return flat.with_columns(
        request_id=pl.format("{}:{}", pl.lit(relative_path), pl.col("source_line")),
        model_name=pl.lit(entry.model_name),
        host=pl.lit(entry.host, dtype=pl.String),
        pod=pl.lit(None, dtype=pl.String),
        server=pl.lit(None, dtype=pl.String),
        namespace=pl.lit(None, dtype=pl.String),
        first_token_ts=pl.lit(None, dtype=TS),
        finish_ts=pl.lit(None, dtype=TS),
        input_tokens=pl.col("prompt_tokens"),
        output_tokens=pl.col("completion_tokens"),
        cached_tokens=pl.lit(None, dtype=pl.Int64),
        status=pl.lit("ok"),
        user=pl.lit(None, dtype=pl.String),
        # Azure's CSV reader is strict UTF-8 (it has no text fields to lose); JSONL sets it.
        invalid_utf8=pl.col("invalid_utf8") if "invalid_utf8" in flat.columns else pl.lit(False),
    )


def azure(path: Path, entry: TraceFileConfig, relative_path: str, display: str, epoch_unit=None):
    del epoch_unit  # Azure's TIMESTAMP is text, never an epoch number
    flat = read_azure(path, display)
    frame = parse_timestamps(flat.frame, ["arrival_time"])
    frame = frame.with_columns(
        arrival_ts=pl.col("arrival_time_ts"),
        _bad_column=pl.when(pl.col("arrival_time__bad")).then(pl.lit("TIMESTAMP")).otherwise(None),
    )
    return _common(frame, entry, relative_path), flat


def mooncake(
    path: Path,
    entry: TraceFileConfig,
    relative_path: str,
    display: str,
    epoch_unit: str | None = None,
):
    if entry.start is None:
        raise SourceError(
            display, "Mooncake timestamps are relative: set traces[].start in unitcost.yaml"
        )
    start = entry.start if entry.start.tzinfo else entry.start.replace(tzinfo=dt.UTC)
    flat = read_jsonl(path, MOONCAKE, display)
    unit = epoch_unit or "ms"  # Mooncake's published traces count milliseconds
    # Absolute epoch times given as offsets (or the wrong unit) would put arrivals past 2100.
    check_epoch(flat.frame, "timestamp_ms", pl.lit(True), unit, display, "timestamp", start)
    scaled = (pl.col("timestamp_ms") * EPOCH_US[unit]).round().cast(pl.Int64)
    offset = pl.duration(microseconds=scaled)
    frame = flat.frame.with_columns(
        arrival_ts=pl.lit(start).cast(TS) + offset, _bad_column=pl.lit(None, dtype=pl.String)
    )
    return _common(frame, entry, relative_path), flat
