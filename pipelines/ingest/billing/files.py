"""Read one billing file (CSV, gzip CSV or Parquet) into Arrow, every row with its line.

CSV goes through Python's ``csv`` module, not a columnar reader: billing rows are money, so a
short row must fail (polars silently pads it with nulls) and the error must name the physical
line (quoted newlines make record index and line differ). ``_line`` is the 1-based physical
line where the record starts, header included; for Parquet it is the row index + 1.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.ingest.errors import SourceError

NULL_TOKENS = frozenset({"", "NULL"})  # case 10: the FOCUS sample writes bare NULL
LINE = "_line"


class TruncatedFile(SourceError):
    """A gzip stream or Parquet file that ends early or is corrupt (case 17). From S3 it is
    worth one more download (a bad transfer); the second failure is final."""


def file_kind(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".parquet"):
        return "parquet"
    if lower.endswith((".csv.gz", ".csv.gzip")):
        return "csv.gz"
    if lower.endswith(".csv"):
        return "csv"
    raise ValueError(f"not a billing data file: {name}")


def read_billing_file(path: Path, display: str) -> pa.Table:
    """The file's rows; ``display`` (the listed URI or relative path) names it in errors."""
    if path.stat().st_size == 0:
        raise SourceError(display, "file is empty (0 bytes)")
    kind = file_kind(path.name)
    if kind == "parquet":
        return _read_parquet(path, display)
    return _read_csv(path, display, compressed=kind == "csv.gz")


def _read_parquet(path: Path, display: str) -> pa.Table:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TruncatedFile(display, f"unreadable Parquet: {exc}") from None
    return table.append_column(LINE, pa.array(range(1, table.num_rows + 1), pa.int64()))


def _read_csv(path: Path, display: str, *, compressed: bool) -> pa.Table:
    raw = path.open("rb")
    stream = gzip.GzipFile(fileobj=raw) if compressed else raw
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        with raw:
            return _records(reader, display)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise TruncatedFile(display, f"truncated or corrupt gzip: {exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(display, f"not UTF-8: {exc.reason}", line=_bad_byte_line(path)) from None
    except csv.Error as exc:
        raise SourceError(display, f"malformed CSV: {exc}", line=reader.line_num) from None


def _bad_byte_line(path: Path) -> int | None:
    """The physical line of the first non-UTF-8 byte (the decoder reads ahead in chunks)."""
    data = path.read_bytes()
    data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data[: exc.start].count(b"\n") + 1
    return None


def _header(reader, display: str) -> list[str]:
    header = next(reader, None)
    if header is None:
        raise SourceError(display, "no header line")
    if len(header) == 1:
        for sep in (";", "\t", "|"):
            if sep in header[0]:
                raise SourceError(
                    display, f"one column in the header; the delimiter looks like {sep!r}, not ','"
                )
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise SourceError(display, f"duplicate header columns {dupes}", line=1)
    return header


def _records(reader, display: str) -> pa.Table:
    header = _header(reader, display)
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    lines: list[int] = []
    start = reader.line_num + 1
    for record in reader:
        if len(record) != width:
            if not record:  # a blank line between records carries no charge
                start = reader.line_num + 1
                continue
            raise SourceError(
                display, f"row has {len(record)} fields, the header has {width}", line=start
            )
        lines.append(start)
        for values, value in zip(columns, record, strict=True):
            values.append(None if value in NULL_TOKENS else value)
        start = reader.line_num + 1
    arrays = [pa.array(values, pa.string()) for values in columns]
    return pa.table([*arrays, pa.array(lines, pa.int64())], names=[*header, LINE])
