"""A log file's text for DuckDB through a named pipe, its lines counted on the way.

DuckDB's JSON reader gives no line numbers (DuckDB 1.5.5 has ``filename`` but no
``file_row_number`` for JSON) and skips blank lines, so its row *i* is line *i* only if the
file's physical line count equals its row count. Counting lines in a second pass decompressed
every gzip file twice; here Python decompresses once, counts the newlines of each chunk and
hands the same bytes to DuckDB through a FIFO, so DuckDB parses what was counted and never
decompresses itself.

The writer never blocks for good: it waits for DuckDB to open and drain the pipe in short
polls and stops as soon as the reading statement has ended (``done``), e.g. when DuckDB
rejected a malformed line and stopped reading. Nor can DuckDB block for good: should it open
the pipe again after the writer has finished (a reader that sniffs first, then reads), the
writer answers every further open with an immediate end of file, so the second read is
empty, the row count cannot match and the file is read the careful way.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import shutil
import tempfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

from isal import igzip, isal_zlib

_CHUNK = 1 << 20
_POLL_S = 0.05


# A file that cannot be read to its end (a truncated or corrupt gzip stream).
READ_ERRORS = (OSError, EOFError, zlib.error, isal_zlib.error)


def open_file(path: Path):
    """The file's bytes, gunzipped if ``.gz``: by ISA-L, twice zlib's speed (the same bytes)."""
    return igzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


class LineStream:
    """The FIFO at ``path``; after the block, ``lines`` if the whole file went through."""

    def __init__(self, fifo: Path):
        self.path = fifo
        self.done = threading.Event()
        self.lines: int | None = None
        self.error: BaseException | None = None  # the file could not be read (truncated gzip)

    def pump(self, source: Path) -> None:
        fd = self._open_writer()
        if fd is None:
            return  # the statement ended without opening the pipe
        try:
            self._copy(source, fd)
        finally:
            os.close(fd)  # DuckDB sees the end of the file
        while not self.done.wait(_POLL_S):  # a second open: an empty file, never a wait
            with contextlib.suppress(OSError):  # ENXIO: no reader
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))

    def _copy(self, source: Path, fd: int) -> None:
        lines, last = 0, b"\n"
        try:
            with open_file(source) as handle:
                while chunk := handle.read(_CHUNK):
                    lines += chunk.count(b"\n")
                    last = chunk[-1:]
                    if not self._write(fd, chunk):
                        return  # the read ended early (DuckDB rejected the file): no count
            self.lines = lines + (last != b"\n")  # a last line without a newline counts
        except READ_ERRORS as exc:
            self.error = exc  # a truncated gzip: the careful path names the file

    def _open_writer(self) -> int | None:
        # Only once DuckDB has opened its end: a pipe's bytes vanish when its last writer
        # closes with no reader. Non-blocking, retried, so a reader that never comes (the
        # statement failed first) cannot hang us; DuckDB's open waits for ours.
        while not self.done.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                    raise
                self.done.wait(0.001)
                continue
            with contextlib.suppress(OSError, AttributeError):  # Linux: 1 MiB, fewer wake-ups
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _CHUNK)
            return fd
        return None

    def _write(self, fd: int, data: bytes) -> bool:
        view = memoryview(data)
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        while view:
            if self.done.is_set():
                return False
            if not poller.poll(_POLL_S * 1000):
                continue  # the pipe is full: DuckDB is parsing, or has stopped reading
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                return False  # DuckDB closed its end
        return True


@contextlib.contextmanager
def line_stream(source: Path) -> Iterator[LineStream]:
    """Yield a :class:`LineStream`; run the DuckDB read of ``stream.path`` inside the block."""
    folder = tempfile.mkdtemp(prefix="unitcost-lines-")
    try:
        fifo = Path(folder) / "lines"
        os.mkfifo(fifo, 0o600)
        stream = LineStream(fifo)
        writer = threading.Thread(target=stream.pump, args=(source,), daemon=True)
        writer.start()
        try:
            yield stream
        finally:
            stream.done.set()
            writer.join()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
