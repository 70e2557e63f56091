"""Read one JSON-lines file's allow-listed fields, with our own line numbers.

Fast path: DuckDB ``read_ndjson`` with explicit columns over the file's text as it is
decompressed once (``stream.py``, which counts the lines on the way), accepted only when it
returns one row per physical line, so row *i* is line *i*. Anything else — malformed JSON, a
wrong type, a blank line — falls back to the careful path: ``json.loads`` line by line with our
own counter (DuckDB's own line numbers can be one too high, RELIABILITY.md §3), so exactly the
bad lines are quarantined. DuckDB's error text is never shown: it can quote the line.

A line with bytes that are not UTF-8 (DuckDB rejects the whole file for one) is decoded with
U+FFFD replacements on the careful path and kept, with ``invalid_utf8`` set (case 18).

An object logged as JSON text where a path goes through it (LiteLLM's pub/sub spend-log
payload writes ``metadata`` as a string) fails the fast path's STRUCT read; the careful path
decodes it and reads the path inside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.ingest.errors import SourceError
from pipelines.ingest.quarantine import QuarantinedRow
from pipelines.ingest.requests.fields import INT, NUM, STR, TS, Field, duckdb_columns, duckdb_select
from pipelines.ingest.requests.stream import READ_ERRORS, line_stream, open_file
from pipelines.warehouse import connection_config

POLARS_TYPES = {STR: pl.String, INT: pl.Int64, NUM: pl.Float64}
_INT64 = (-(2**63), 2**63 - 1)


@dataclass
class FlatFile:
    """A file's allow-listed fields (plus ``source_line``) and its malformed lines."""

    frame: pl.DataFrame
    bad: list[QuarantinedRow]
    lines: int  # non-blank physical lines: the denominator of the bad-line ratio


def flat_schema(fields: tuple[Field, ...], *, text_times: bool = False) -> dict:
    """Columns of the flat frame; timestamps as ``<name>_ts`` and ``<name>__bad`` (or as text,
    ``text_times``, before the careful path's parse)."""
    schema = {"source_line": pl.Int64, "invalid_utf8": pl.Boolean}
    for f in fields:
        if f.kind != TS:
            schema[f.name] = POLARS_TYPES[f.kind]
        elif text_times:
            schema[f.name] = pl.String
        else:
            schema[f"{f.name}_ts"] = pl.Datetime("us", "UTC")
            schema[f"{f.name}__bad"] = pl.Boolean
    return schema


def fast_sql(fields: tuple[Field, ...]) -> tuple[str, dict]:
    """The flat columns of ``$path`` as DuckDB reads them, numbered in file order (one
    thread reads a pipe serially), and ``_container``: DuckDB turned an object or array in a
    text field into its JSON text, which the careful path quarantines instead."""
    # ascii(): the first character's code point, cheaper than two starts_with ({ 123, [ 91).
    starts = [f'ascii("{f.name}") in (123, 91)' for f in fields if f.kind == STR]
    container = " or ".join(starts) if starts else "false"
    sql = (
        f"select row_number() over () as source_line, false as invalid_utf8, "
        f"{duckdb_select(fields)}, coalesce({container}, false) as _container "
        "from read_ndjson($path, columns=$columns)"
    )
    return sql, {"columns": duckdb_columns(fields)}


def read_jsonl(path: Path, fields: tuple[Field, ...], display: str) -> FlatFile:
    """The file's allow-listed fields as a frame: the fast path if it is clean, else the
    careful one (the ingest runs the same ``fast_sql`` inside its own statement)."""
    sql, params = fast_sql(fields)
    con = duckdb.connect(config=connection_config(threads=1, preserve_insertion_order=True))
    try:
        con.execute("set TimeZone = 'UTC'")  # zone-less timestamps are UTC (case 11)
        with line_stream(path) as stream:
            try:
                frame = con.execute(sql, {**params, "path": str(stream.path)}).pl()
            except duckdb.Error:
                frame = None
    finally:
        con.close()
    if frame is None or frame.height != stream.lines or frame["_container"].any():
        return careful(path, fields, display)
    schema = flat_schema(fields)
    return FlatFile(frame.select(schema.keys()).cast(schema), [], frame.height)


def _value(obj: dict, field: Field) -> tuple[object, tuple[str, str] | None]:
    """The field's value (None if absent) and a problem (path, reason), if any."""
    node: object = obj
    for depth, key in enumerate(field.path):
        if node is None:
            return None, None
        if depth and isinstance(node, str):
            node = _json_object(node)  # LiteLLM's spend-log payloads hold metadata as text
        if not isinstance(node, dict):
            where = ".".join(field.path[:depth])
            return None, (where, f"{where} is not a JSON object")
        node = node.get(key)
    if node is None:
        return None, None
    if field.kind in (STR, TS) and isinstance(node, str):
        return node, None
    if field.kind in (STR, TS) and isinstance(node, int | float):
        return json.dumps(node), None  # as DuckDB's fast path casts a scalar to its text
    if field.kind in (INT, NUM) and isinstance(node, str):
        node = _number(node)  # as DuckDB's fast path casts "12" to 12
    if field.kind in (INT, NUM) and isinstance(node, int | float) and not isinstance(node, bool):
        if field.kind == NUM:
            return float(node), None
        if float(node).is_integer() and _INT64[0] <= node <= _INT64[1]:
            return int(node), None
    expected = {STR: "a string", TS: "a string", INT: "an integer", NUM: "a number"}[field.kind]
    return None, (field.dotted, f"expected {expected}, got {type(node).__name__}")


def _json_object(text: str) -> object:
    """An object written as JSON text (LiteLLM's ``metadata`` in its GCS/pub-sub spend-log
    payload is a string): the object, else the text unchanged (then not a JSON object)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text.strip())
        except ValueError:
            pass
    return text


def careful(path: Path, fields: tuple[Field, ...], display: str) -> FlatFile:
    """Line by line: every malformed line is quarantined with our own line number."""
    rows: list[dict] = []
    bad: list[QuarantinedRow] = []
    lines = 0
    try:
        with open_file(path) as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                lines += 1
                row, problem = _parse_line(raw, fields)
                if problem is not None:
                    bad.append(QuarantinedRow(display, number, problem[0], problem[1]))
                else:
                    row["source_line"] = number
                    rows.append(row)
    except READ_ERRORS as exc:
        # A truncated gzip: no partial rows (case 17). The message names the file only.
        raise SourceError(display, f"cannot read: {type(exc).__name__}") from None
    frame = pl.DataFrame(rows, schema=flat_schema(fields, text_times=True), orient="row")
    frame = parse_timestamps(frame, [f.name for f in fields if f.kind == TS])
    return FlatFile(frame.select(flat_schema(fields).keys()), bad, lines)


def parse_timestamps(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Text columns to ``<col>_ts`` (UTC) and ``<col>__bad`` (present but unparseable), with
    the fast path's cast: ISO 8601 with Z or an offset, no zone read as UTC, >6 fractional
    digits truncated to µs (polars would infer one format per column and null the rest)."""
    if not columns:
        return frame
    con = duckdb.connect(config=connection_config(preserve_insertion_order=True))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("flat", frame.select(columns).to_arrow())
        parts = []
        for c in columns:
            cast = f'try_cast("{c}" as timestamptz)'
            parts += [
                f'{cast} as "{c}_ts"',
                f'("{c}" is not null and {cast} is null) as "{c}__bad"',
            ]
        parsed = con.execute(f"select {', '.join(parts)} from flat").pl()
    finally:
        con.close()
    ts = {f"{c}_ts": pl.Datetime("us", "UTC") for c in columns}
    return pl.concat([frame.drop(columns), parsed.cast(ts)], how="horizontal")


def _loads(raw: bytes) -> tuple[object, bool]:
    """The parsed line and whether it held bytes that are not UTF-8.

    A gateway that cuts a prompt mid-character (or logs Latin-1) leaves one bad byte in a
    field we never read; rejecting the line for it would lose the request's usage. So the bad
    bytes become U+FFFD and the line is parsed anyway — flagged, since a read field (a model
    name, an id) may carry the replacement character too.
    """
    try:
        return json.loads(raw), False
    except UnicodeDecodeError:
        return json.loads(raw.decode("utf-8", errors="replace")), True


def _parse_line(raw: bytes, fields: tuple[Field, ...]):
    try:
        obj, invalid_utf8 = _loads(raw)
    except json.JSONDecodeError as exc:
        # JSONDecodeError.msg names the problem and never quotes the text.
        return None, (None, f"malformed JSON: {exc.msg}")
    if not isinstance(obj, dict):
        return None, (None, "not a JSON object")
    row = {"invalid_utf8": invalid_utf8}
    for field in fields:
        value, problem = _value(obj, field)
        if problem is not None:
            return None, problem
        row[field.name] = value
    return row, None
