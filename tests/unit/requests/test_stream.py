"""The line-counting pipe: DuckDB reads what Python decompressed once, lines counted on the way."""

from __future__ import annotations

import contextlib
import gzip
import threading

import duckdb
import pytest

from pipelines.ingest.requests.stream import READ_ERRORS, line_stream


@pytest.mark.parametrize(
    ("text", "lines"),
    [(b'{"n":1}\n{"n":2}\n', 2), (b'{"n":1}\n\n{"n":3}', 3), (b"", 0)],
)
def test_the_pipe_counts_what_duckdb_reads(tmp_path, text, lines):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(text))
    con = duckdb.connect()
    with line_stream(path) as stream:
        rows = con.execute(
            "select count(*) from read_ndjson($p, columns={'n': 'BIGINT'})", {"p": str(stream.path)}
        ).fetchone()[0]
    # A last line without a newline counts; DuckDB skips the blank one, so the rows differ.
    assert stream.lines == lines and stream.error is None
    assert rows == len([line for line in text.split(b"\n") if line.strip()])
    assert not stream.path.parent.exists()  # the pipe's folder is gone


def test_a_statement_that_never_reads_the_pipe_does_not_hang(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(b'{"n":1}\n' * 1_000_000)  # far more than a pipe holds
    con = duckdb.connect()
    with line_stream(path) as stream, pytest.raises(duckdb.Error):
        con.execute("select nope from range(1)")
    assert stream.lines is None  # the pipe was not drained: no count
    assert not stream.path.parent.exists()


def test_duckdb_failing_while_the_writer_waits_on_a_full_pipe_does_not_hang(tmp_path):
    path = tmp_path / "bad.jsonl"
    # Line 2 is broken; the file is far more than DuckDB's read-ahead buffers and the pipe hold.
    path.write_bytes(b'{"n":1}\n{"n":\n' + b'{"n":1}\n' * 8_000_000)
    con = duckdb.connect()
    with line_stream(path) as stream, pytest.raises(duckdb.Error):
        con.execute(
            "select count(*) from read_ndjson($p, columns={'n': 'BIGINT'})", {"p": str(stream.path)}
        )
    assert stream.lines is None and not stream.path.parent.exists()


def test_a_second_open_of_the_pipe_reads_an_empty_file_instead_of_waiting(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"n":1}\n{"n":2}\n')
    reads: list[bytes] = []
    with line_stream(path) as stream:

        def read_twice():
            for _ in range(2):
                with stream.path.open("rb") as pipe:
                    reads.append(pipe.read())

        reader = threading.Thread(target=read_twice, daemon=True)
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive()
    assert reads == [path.read_bytes(), b""] and stream.lines == 2


def test_an_error_in_the_block_removes_the_pipe(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"n":1}\n')
    with pytest.raises(RuntimeError), line_stream(path) as stream:
        raise RuntimeError("the statement failed")
    assert not stream.path.parent.exists()


def test_a_truncated_gzip_is_an_error_not_a_count(tmp_path):
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"n":1}\n' * 10_000)[:-20])
    con = duckdb.connect()
    # DuckDB may fail on the cut-off last line, or not: the count must not be taken either way.
    with line_stream(path) as stream, contextlib.suppress(duckdb.Error):
        con.execute("select count(*) from read_ndjson($p)", {"p": str(stream.path)}).fetchall()
    assert stream.lines is None and isinstance(stream.error, READ_ERRORS)
