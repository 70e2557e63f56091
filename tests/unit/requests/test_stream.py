"""The line-counting pipe: DuckDB reads what Python decompressed once, lines counted on the way."""

from __future__ import annotations

import contextlib
import gzip

import duckdb
import pytest

from pipelines.ingest.requests.reader import count_lines
from pipelines.ingest.requests.stream import READ_ERRORS, line_stream


@pytest.mark.parametrize("text", [b'{"n":1}\n{"n":2}\n', b'{"n":1}\n\n{"n":3}', b""])
def test_the_pipe_counts_what_duckdb_reads(tmp_path, text):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(text))
    con = duckdb.connect()
    with line_stream(path) as stream:
        rows = con.execute(
            "select count(*) from read_ndjson($p, columns={'n': 'BIGINT'})", {"p": str(stream.path)}
        ).fetchone()[0]
    assert stream.lines == count_lines(path) and stream.error is None
    assert rows == len([line for line in text.split(b"\n") if line.strip()])


def test_a_statement_that_never_reads_the_pipe_does_not_hang(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(b'{"n":1}\n' * 1_000_000)  # far more than a pipe holds
    con = duckdb.connect()
    with line_stream(path) as stream, pytest.raises(duckdb.Error):
        con.execute("select nope from range(1)")
    assert stream.lines is None  # the pipe was not drained: no count


def test_a_truncated_gzip_is_an_error_not_a_count(tmp_path):
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"n":1}\n' * 10_000)[:-20])
    con = duckdb.connect()
    # DuckDB may fail on the cut-off last line, or not: the count must not be taken either way.
    with line_stream(path) as stream, contextlib.suppress(duckdb.Error):
        con.execute("select count(*) from read_ndjson($p)", {"p": str(stream.path)}).fetchall()
    assert stream.lines is None and isinstance(stream.error, READ_ERRORS)
