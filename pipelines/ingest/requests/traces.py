"""Public request traces: the Azure LLM inference CSV and the Mooncake JSONL.

Traces carry no request id, model or host, so ``unitcost.yaml`` says whose traffic each file
is (``sources.requests.traces``: path glob, model_name, optional host, and for Mooncake the
UTC ``start`` its millisecond offsets count from). The request id is ``<file>:<line>``,
stable across re-runs. Neither trace has latencies, status or cache detail: those stay NULL
(status 'ok'). Mooncake is read as JSON lines (``reader.py``); its columns and Azure's are
made in ``normalise.py``. Here: which entry a file is, and Azure's CSV reader.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import re
from pathlib import Path

import polars as pl

from pipelines.config import TraceFileConfig
from pipelines.ingest.errors import SourceError
from pipelines.ingest.quarantine import QuarantinedRow
from pipelines.ingest.requests.fields import AZURE_COLUMNS, INT
from pipelines.ingest.requests.reader import FlatFile
from pipelines.ingest.requests.stream import open_file

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


def trace_of(fmt: str, relative_path: str, traces: list[TraceFileConfig], display: str):
    """(entry, relative_path) for a trace file; Mooncake's offsets need the entry's start."""
    entry = trace_entry(relative_path, traces, display)
    if fmt == "mooncake" and entry.start is None:
        raise SourceError(
            display, "Mooncake timestamps are relative: set traces[].start in unitcost.yaml"
        )
    return entry, relative_path


def azure_fast_sql() -> tuple[str, dict]:
    """Azure's rows as DuckDB reads them; line 1 is the header. Accepted when the rows are
    the file's lines minus one (``HEADER_LINES``), as for JSON lines."""
    renamed = ", ".join(f'"{header}" as "{name}"' for header, (name, _) in AZURE_COLUMNS.items())
    sql = (
        f"select row_number() over () + 1 as source_line, {renamed}, false as _container "
        "from read_csv($path, header=true, auto_detect=false, delim=',', quote='\"', "
        "columns=$columns, strict_mode=true)"
    )
    return sql, {"columns": {header: kind for header, (_, kind) in AZURE_COLUMNS.items()}}


HEADER_LINES = {"azure_trace": 1}


def azure_careful(path: Path, display: str) -> FlatFile:
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
